"""The governance page, opened offline in a real browser (Debian's headless Chromium through Playwright).

Built from real parts: a store ingested from the shipped ferry track and the Gothenburg encounter, rule alarms
detected into it by the CLI (which writes prediction records and telemetry), a model in a registry, a real drift
summary of the store against that model, and labels with an investigator's verdict. The page must open with no
console error and no request leaving the file, and every section must carry its content."""
import contextlib
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from oceanguard.cli import main
from oceanguard.core import sample_path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("gov")
    store = d / "store"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["ingest", str(sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv")),
                     str(sample_path("dma-gpkg-gothenburg-encounter/ais_dk_cpa.gpkg")), "--out", str(store)]) == 0
        assert main(["detect", str(store), "--out", str(store), "--no-model"]) == 0
    # plus two planted teleports, found by the real rule and upserted into the store's anomalies table
    from oceanguard.detect import detect
    from oceanguard.features import add_features
    from oceanguard.injection import inject
    from oceanguard.store import load_positions, save_anomalies
    inj, _ = inject(load_positions(store), kinds=["teleport"], n_per_kind=1, seed=3,
                    params={"inject": {"ranges": {"teleport": [60, 60]}}})
    planted = detect(add_features(inj), kinds=["teleport"])
    assert len(planted) >= 1
    save_anomalies(store, planted, run_id="planted")
    from model_fixtures import untrained_model
    from oceanguard.models.registry import feature_reference, save_model
    m = untrained_model("v-ferry")
    m.reference = feature_reference(load_positions(store))
    save_model(m, d / "models")
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["drift", str(store), "--model", str(d / "models" / "latest"), "--out", str(d / "monitor" / "drift")]) == 0
    from oceanguard.labels import LabelStore
    t = pd.Timestamp("2022-10-15T08:00:00Z")
    LabelStore(d / "labels").add(pd.DataFrame({"object_id": ["mmsi:219000001", "mmsi:219000002"], "kind": ["teleport", "loitering"],
                                               "start": [t, t], "end": [t + pd.Timedelta("1h")] * 2, "source": ["investigator", "injected"],
                                               "note": ["verdict: false alarm", None]}))
    out = d / "governance.html"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["governance", str(store), "--models", str(d / "models"), "--labels", str(d / "labels"),
                     "--drift", str(d / "monitor"), "--out", str(out)]) == 0
    return out, store


def test_governance_page_opens_offline_with_every_section(page_file):
    assert CHROMIUM, "Debian's chromium is needed for the browser test (make browser installs it)"
    from playwright.sync_api import sync_playwright
    out, store = page_file
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                                                   "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        errors, requests = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(out.as_uri())
        page.wait_for_load_state("load")
        assert errors == []
        assert all(u.startswith(("file:", "data:", "about:")) for u in requests), requests
        text = {s: page.locator(f"section#{s}").inner_text() for s in ("models", "drift", "alarms", "labels", "usage", "records")}
        assert "v-ferry" in text["models"]
        assert "retrain recommended" in text["drift"] or "no retraining needed" in text["drift"], text["drift"]
        assert page.locator("section#drift table tr").count() >= 2
        from oceanguard.store import load_anomalies
        an = load_anomalies(store)
        assert len(an) >= 1 and f"{len(an)} anomalies in the store" in text["alarms"]
        for kind in an.kind.unique(): assert kind in text["alarms"]
        assert "investigator" in text["labels"] and "teleport" in text["labels"]
        assert "cli:detect" in text["usage"] and "cli:ingest" in text["usage"]
        assert "hash chain intact" in text["records"]
        # every inline plot decoded and drawn
        sizes = page.evaluate("[...document.images].map(i => [i.complete, i.naturalWidth])")
        assert len(sizes) >= 3 and all(c and w > 100 for c, w in sizes), sizes
        browser.close()


def test_a_tampered_record_shows_on_the_page(page_file, tmp_path):
    out, store = page_file
    book = store / "_records" / "records.jsonl"
    lines = book.read_text().splitlines()
    rec = json.loads(lines[0]); rec["operator"] = "someone else"
    copy = tmp_path / "store"; shutil.copytree(store, copy)
    (copy / "_records" / "records.jsonl").write_text("\n".join([json.dumps(rec, sort_keys=True)] + lines[1:]) + "\n")
    from oceanguard.governance import write_governance
    html = write_governance(copy, tmp_path / "g.html").read_text()
    assert "hash chain BROKEN" in html and "altered after it was written" in html
