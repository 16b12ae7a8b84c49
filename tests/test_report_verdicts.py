"""The investigator's feedback loop in a real browser: verdicts given in the offline map report come back as labels.

A report is written by `oceanguard report` from the real Læsø ferry track and three detected anomalies on it. In
Debian's headless Chromium (Playwright, a fresh profile, file:// and nothing else) an investigator opens an anomaly,
says "false alarm" with a note, reloads the page (the verdict is still there), and exports the verdicts; the file
goes through `oceanguard labels import` into a label store and `oceanguard evaluate` reports investigator precision
from it: no verdicts, then 0/1, then 1/2 after a second verdict, then 2/2 after the first one is changed to confirmed.
"""
import json
import shutil

import pandas as pd
import pytest

from oceanguard.cli import main
from oceanguard.contracts import ANOMALIES, conform
from oceanguard.core import sample_path
from oceanguard.labels import LabelStore

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FERRY = sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


def _anomalies() -> pd.DataFrame:
    "Three anomalies on the ferry's real track, at real positions of it."
    raw = pd.read_csv(FERRY)
    t = pd.to_datetime(raw["# Timestamp"], format="%d/%m/%Y %H:%M:%S", utc=True)
    rows = [raw.index[len(raw) // 5], raw.index[len(raw) // 2], raw.index[4 * len(raw) // 5]]
    return conform(pd.DataFrame({
        "anomaly_id": ["an-loiter", "an-speed", "an-gap"], "object_id": "mmsi:219000734", "mmsi": 219000734,
        "kind": ["loitering", "speed", "ais_gap"], "detector": ["rule:loitering", "rule:speed", "rule:ais_gap"],
        "start": t[rows].to_numpy(), "end": (t[rows] + pd.Timedelta("20min")).to_numpy(),
        "lat": raw.loc[rows, "Latitude"].to_numpy(), "lon": raw.loc[rows, "Longitude"].to_numpy(), "score": [0.4, 0.7, 0.5],
        "severity": ["low", "high", "medium"], "explanation": ["slow at the berth", "too fast for a ferry", "silent for 20 min"],
        "evidence": ['{"params": {"max_speed_kn": 2.0}, "observed": {"mean_sog_kn": 0.1}}'] * 3}), ANOMALIES)


def _evaluate(tmp_path, capsys) -> dict:
    assert main(["evaluate", "--anomalies", str(tmp_path / "an.parquet"), "--labels", str(tmp_path / "labels"),
                 "--out", str(tmp_path / "metrics.json")]) == 0
    out = capsys.readouterr().out
    return json.loads((tmp_path / "metrics.json").read_text())["investigator"] | {"_printed": out}


def _import(path, tmp_path, capsys) -> str:
    assert main(["labels", "import", str(path), "--store", str(tmp_path / "labels")]) == 0
    return capsys.readouterr().out.strip()


def _judge(page, j: int, verdict: str, note: str | None = None, author: str | None = None):
    "Open anomaly `j` from the list, choose a verdict, type a note (and a name)."
    page.locator(f"#og-list .og-item[data-an='{j}']").click()
    box = page.locator(f".leaflet-popup-content .og-verdict[data-vj='{j}']")
    box.wait_for(timeout=10_000)
    if author is not None: box.locator(".og-vauthor").fill(author)
    box.locator(f"input[type=radio][value='{verdict}']").check()
    if note is not None: box.locator(".og-vnote").fill(note)
    assert box.locator(".og-vstate").inner_text().startswith("saved ")


def _export(page, tmp_path, name: str):
    with page.expect_download() as dl:
        page.locator("#og-vexport").click()
    d = dl.value
    assert d.suggested_filename == f"verdicts-{page.evaluate('OG.reportId')}.json"
    d.save_as(tmp_path / name)
    return tmp_path / name


def test_verdicts_from_the_report_reach_labels_and_evaluation(tmp_path, capsys):
    assert CHROMIUM, "Debian's chromium is needed for the browser test (make browser installs it)"
    from playwright.sync_api import sync_playwright
    an = _anomalies(); an.to_parquet(tmp_path / "an.parquet")
    page_file = tmp_path / "map.html"
    assert main(["report", str(FERRY), "--anomalies", str(tmp_path / "an.parquet"), "--out", str(page_file), "--title", "Læsø verdicts"]) == 0
    # the label store already holds an event label (not a verdict): evaluation says there are no verdicts
    (tmp_path / "events.csv").write_text("mmsi,kind,start,end\n219000734,loitering,2022-10-15 11:16:01,2022-10-15 11:30:00\n")
    assert "imported 1 new label(s)" in _import(tmp_path / "events.csv", tmp_path, capsys)
    before = _evaluate(tmp_path, capsys)
    assert before["n_judged"] == 0 and before["precision"] is None and "no verdicts on these anomalies" in before["_printed"]
    order = an.anomaly_id.tolist()
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM, args=ARGS, headless=True,
                                                   accept_downloads=True, viewport={"width": 1300, "height": 900})
        page = ctx.new_page()
        errors, requests = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_file.as_uri())
        page.wait_for_selector("body[data-og-ready='1']", state="attached", timeout=30_000)
        assert page.locator("#og-vcount").inner_text() == "0 verdicts" and page.locator("#og-vexport").is_disabled()
        j0 = order.index("an-speed")
        _judge(page, j0, "false_alarm", note="harbour manoeuvre, normal", author="ana")
        assert page.locator("#og-vcount").inner_text() == "1 verdict"
        # a reload keeps the verdict, its note and the investigator's name
        page.reload(); page.wait_for_selector("body[data-og-ready='1']", state="attached", timeout=30_000)
        kept = page.evaluate("OG.verdicts()")
        assert [(v["anomaly_id"], v["verdict"], v["note"], v["author"]) for v in kept] == [("an-speed", "false_alarm", "harbour manoeuvre, normal", "ana")]
        assert page.locator("#og-vcount").inner_text() == "1 verdict"
        page.locator(f"#og-list .og-item[data-an='{j0}']").click()
        box = page.locator(f".leaflet-popup-content .og-verdict[data-vj='{j0}']")
        box.wait_for(timeout=10_000)
        assert box.locator("input[value='false_alarm']").is_checked() and box.locator(".og-vnote").input_value() == "harbour manoeuvre, normal"
        first = _export(page, tmp_path, "v1.json")
        doc = json.loads(first.read_text())
        v = doc["verdicts"][0]
        assert (doc["format"], doc["report_title"], v["object_id"], v["kind"], v["report_title"]) == ("oceanguard-verdicts", "Læsø verdicts", "mmsi:219000734", "speed", "Læsø verdicts")
        assert pd.Timestamp(v["start"]) == an.set_index("anomaly_id").loc["an-speed", "start"].floor("s")
        # a second verdict (the name is remembered: not typed again)
        _judge(page, order.index("an-gap"), "confirmed")
        assert page.locator("#og-vcount").inner_text() == "2 verdicts"
        second = _export(page, tmp_path, "v2.json")
        assert [w["author"] for w in json.loads(second.read_text())["verdicts"]] == ["ana", "ana"]
        # she changes her mind on the first one
        page.wait_for_timeout(5)
        _judge(page, j0, "confirmed")
        third = _export(page, tmp_path, "v3.json")
        page.wait_for_timeout(300)
        assert errors == [], errors
        assert all(u.startswith(("file:", "data:", "about:", "blob:")) for u in requests), [u for u in requests if not u.startswith("file:")]
        ctx.close()
    assert _import(first, tmp_path, capsys).startswith("read 1 verdict(s): 1 imported, 0 already present, 0 rejected")
    one = _evaluate(tmp_path, capsys)
    assert (one["precision"], one["n_judged"], one["false_alarm"], one["confirmed"]) == (0.0, 1, 1, 0)
    assert one["per_kind"]["speed"]["false_alarm"] == 1 and "investigator precision 0.000" in one["_printed"]
    assert _import(second, tmp_path, capsys).startswith("read 2 verdict(s): 1 imported, 1 already present, 0 rejected")
    two = _evaluate(tmp_path, capsys)
    assert (two["precision"], two["n_judged"]) == (0.5, 2) and two["ci95"][0] < 0.5 < two["ci95"][1]
    assert _import(third, tmp_path, capsys).startswith("read 2 verdict(s): 1 imported, 1 already present, 0 rejected")
    three = _evaluate(tmp_path, capsys)
    assert (three["precision"], three["n_judged"], three["false_alarm"]) == (1.0, 2, 0)
    store = LabelStore(tmp_path / "labels")
    assert len(store.load(history=True)) == 4 and len(store.load()) == 3    # append-only; the changed verdict supersedes when read
