"""The investigator's map report, opened in a real browser (Debian's headless Chromium through Playwright).

The report is built from realistic data: a seeded synthetic fleet with injected anomalies, run through the
real rule detectors, plus the real DMA ferry track, plus a small hand-made track with an impossible jump and
one bad fix. The test checks what an investigator relies on: the page opens offline with no console errors,
objects, trajectories and anomalies are drawn, tracks break at gaps and jumps and a bad fix is its own marker,
and an anomaly's popup says why it was flagged. A screenshot is kept in artifacts/ci/ for CI.
"""
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from oceanguard.core import sample_path
from oceanguard.detect import detect, load_inputs
from oceanguard.features import add_features
from oceanguard.injection import inject
from oceanguard.report import build_report, write_report
from oceanguard.synthetic import synthesize_fleet

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "ci"


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    pos, statics = synthesize_fleet(n_vessels=12, hours=10, seed=7, resample_s=60)
    pins = {"ais_gap": [4, 4], "teleport": [60, 60], "loitering": [6, 6], "loitering_speed_kn": [0.5, 0.5]}   # clearly anomalous: the report needs some
    inj, labels = inject(pos, kinds=["ais_gap", "teleport", "loitering"], n_per_kind=1, seed=3, statics=statics,
                         params={"inject": {"ranges": pins, "min_port_nm": 8}})
    coastal = {"rules": {"ais_gap": {"min_gap_h": 2, "min_dist_port_nm": 5, "min_dist_shore_nm": 0},
                         "loitering": {"min_dist_port_nm": 5, "min_dist_shore_nm": 0}}}   # Danish straits: never 20 nm out
    an = detect(add_features(inj), coastal, kinds=["ais_gap", "teleport", "loitering", "speed"])
    assert len(an) >= 2, an
    # a model anomaly explained with captum: a tiny model trained on rotated real ferry tracks, one planted deviation
    from model_fixtures import tiny_model, planted as plant
    from oceanguard.models.lstm import score_anomalies
    from oceanguard.anomalies import concat_anomalies
    model, _ = tiny_model()
    planted, t0, t1 = plant("slow")
    planted = planted.assign(raw_file="lane_world.csv", raw_line=pd.array(range(2, len(planted) + 2), "Int64"), mmsi=pd.array([pd.NA] * len(planted), "Int64"))
    model_an = score_anomalies(model, planted, explain=True)
    model_an = model_an[(model_an.object_id == "slow") & (model_an.start <= t1) & (model_an.end >= t0)]
    assert len(model_an) >= 1
    # the lane world lies off (30 N, 90 W): moved beside the ferry's waters so that one map view holds everything
    planted = planted.assign(lat=planted.lat + 27.3, lon=planted.lon + 101.0)
    model_an = model_an.assign(lat=model_an.lat + 27.3, lon=model_an.lon + 101.0)
    an = concat_anomalies([an, model_an])
    ferry = load_inputs([sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv")])
    both = pd.concat([inj[ferry["positions"].columns], ferry["positions"], planted.reindex(columns=ferry["positions"].columns).assign(source="model-demo"),
                      _jumpy(ferry["positions"])], ignore_index=True)
    out = tmp_path_factory.mktemp("report") / "map.html"
    write_report(build_report(both, ferry["objects"], an, title="browser test"), out)
    return out, an, both


JUMPY = "mmsi:366000001"


def _jumpy(template):
    """A Puget Sound track, one report a minute: a bad fix in Colorado (out and straight back), a relocation
    100 km away, then a lone report between two silences of 2 h. Expected on the map: 3 lines (6, 3 and 2
    reports), 1 one-report dot, 1 bad-fix marker, and no line anywhere near Colorado."""
    mins = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 120, 240, 241]
    t = template.iloc[:len(mins)].copy()
    t["object_id"], t["mmsi"], t["source"] = JUMPY, 366000001, "dma"
    t["timestamp"] = template.timestamp.min() + pd.to_timedelta(mins, "min")
    t["lat"] = [47.600, 47.601, 47.602, 47.603, 39.7, 47.605, 47.606, 48.5, 48.501, 48.502, 48.503, 48.504, 48.505]
    t["lon"] = [-122.4] * 4 + [-105.0] + [-122.4] * 2 + [-123.0] * 6
    return t


def _open(page, path):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-og-ready='1']", state="attached", timeout=30_000)
    return errors, requests


def test_report_opens_in_chromium_with_objects_tracks_and_explained_anomalies(report_file):
    assert CHROMIUM, "Debian's chromium is needed for the browser test (make browser installs it)"
    from playwright.sync_api import sync_playwright
    path, an, positions = report_file
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                                                   "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors, requests = _open(page, path)
        assert errors == []
        assert all(u.startswith(("file:", "data:", "about:")) for u in requests), [u for u in requests if not u.startswith("file:")]
        n_obj, n_an = page.evaluate("[OG.nObjects, OG.nAnomalies]")
        assert n_obj == positions.object_id.nunique()
        assert n_an == len(an)
        # trajectories drawn as canvas polylines, latest positions as (clustered) markers, one layer per source
        assert page.evaluate("document.querySelectorAll('.leaflet-overlay-pane canvas').length") >= 1
        assert page.locator(".leaflet-control-layers-overlays label", has_text="Source: synthetic").count() == 1
        assert page.locator(".leaflet-control-layers-overlays label", has_text="Source: dma").count() == 1
        assert page.locator(".leaflet-marker-icon").count() >= 1
        # tracks in pieces: the jumpy track is 3 lines, 1 one-report dot and 1 bad-fix marker, and no line reaches Colorado
        drawn = page.evaluate("OG.drawn()")
        j = drawn["byObject"][JUMPY]
        assert (j["track"], j["lone"], j["badfix"]) == (3, 1, 1), {k: v for k, v in j.items() if k != "coords"}
        assert drawn["badfix"] == page.evaluate("OG_DATA.bad_fixes.obj.length") >= 1
        # the teleport rule's single bad fixes (the injected teleport) are among the bad-fix markers, at the same place
        single = an[(an.kind == "teleport") & an.evidence.astype(str).str.contains('"single_bad_fix"')]
        assert len(single) >= 1, an.kind.tolist()
        marks = [(c[0][0], c[0][1], oid) for oid, o in drawn["byObject"].items() for c in o["coords"] if len(c) == 1]
        for r in single.itertuples():
            assert any(o == r.object_id and abs(la - r.lat) < 1e-4 and abs(lo - r.lon) < 1e-4 for la, lo, o in marks), (r.object_id, r.lat, r.lon, marks)
        assert sorted(len(c) for c in j["coords"]) == [1, 1, 2, 3, 6]
        lines = [c for c in j["coords"] if len(c) > 1]
        assert all(abs(lat - 39.7) > 5 for c in lines for lat, _ in c)
        assert max(abs(a[0] - b[0]) + abs(a[1] - b[1]) for c in lines for a, b in zip(c, c[1:])) < 0.01
        # every other object: one drawn line per piece handed to the page (all in the full time window)
        pieces = page.evaluate("OG_DATA.pieces.map((p) => p.length)")
        ids = page.evaluate("OG_DATA.objects.id")
        for i, oid in enumerate(ids):
            o = drawn["byObject"].get(oid, {"track": 0, "lone": 0})
            assert o["track"] + o["lone"] == pieces[i], (oid, o["track"], o["lone"], pieces[i])
        bf = page.locator(".leaflet-control-layers-overlays label", has_text="Implausible positions")
        assert bf.count() == 1
        page.evaluate("OG.highlight(-1, false)")
        # the anomaly list, filtered by kind, and a popup that says why
        assert page.locator("#og-list .og-item").count() == n_an
        kind = an.kind.iloc[0]
        page.locator(f".og-kind[value='{kind}']").uncheck()
        assert page.locator("#og-list .og-item").count() == int((an.kind != kind).sum())
        page.locator(f".og-kind[value='{kind}']").check()
        j_rule = int(an.reset_index(drop=True).index[an.detector.str.startswith("rule:").to_numpy()][0])
        page.locator(f"#og-list .og-item[data-an='{j_rule}']").click()
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=10_000)
        text = popup.inner_text()
        assert "Why it was flagged" in text
        # opening the anomaly's popup highlights exactly its object
        shown = page.evaluate("OG.state.highlighted")
        assert shown == ids.index(an.object_id.iloc[j_rule]), (shown, an.object_id.iloc[j_rule])
        assert page.locator("#og-count").inner_text().startswith(f"{n_an} of {n_an} anomalies shown")
        assert an.explanation.iloc[j_rule][:60] in text, text[:500]
        # a rule's trail (thresholds and observed values) is open in the popup
        assert page.locator(".leaflet-popup-content details[open]").count() == 1
        trail = popup.inner_text()
        assert "parameters" in trail and "observed" in trail, trail[:800]
        # a model anomaly: the sentence from captum's attributions and the charts over features and time
        j = int(an.reset_index(drop=True).index[an.detector.str.startswith("model:").to_numpy()][0])
        page.evaluate(f"OG.openAnomaly({j})")
        page.wait_for_timeout(400)            # the previous popup fades out for 200 ms before it leaves the page
        mpop = page.locator(".leaflet-popup-content")
        mpop.wait_for(timeout=10_000)
        mtext = mpop.inner_text()
        assert "the model's doubt comes mostly from" in mtext and "Attribution by feature" in mtext and "Attribution over time" in mtext, mtext[:600]
        assert "IntegratedGradients" in mtext and "completeness error" in mtext
        assert page.locator(".leaflet-popup-content svg.og-chart rect").count() >= 8
        page.screenshot(path=str(SHOTS / "report_model_anomaly.png"))
        # time control: a window before everything hides all anomalies
        page.evaluate("document.getElementById('og-t2').value = document.getElementById('og-t1').min; document.getElementById('og-t2').dispatchEvent(new Event('change'))")
        page.evaluate("document.getElementById('og-t1').value = document.getElementById('og-t1').min; document.getElementById('og-t1').dispatchEvent(new Event('change'))")
        assert page.locator("#og-count").inner_text().startswith(f"0 of {n_an} anomalies shown")
        gone = page.evaluate("OG.drawn()")
        assert gone["badfix"] == 0 and gone["track"] == 0, {k: v for k, v in gone.items() if k != "byObject"}
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.reload(); page.wait_for_selector("body[data-og-ready='1']", state="attached")
        page.evaluate("OG.openAnomaly(0)")
        page.wait_for_timeout(800)
        page.screenshot(path=str(SHOTS / "report.png"))
        assert errors == []
        browser.close()
