"""The service's use cases over the in-memory adapters: filters equal to the CLI's, paging, verdicts, pseudonyms, posted positions."""
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from oceanguard.detect import filter_anomalies
from oceanguard.service.core import (InvalidParameter, NotFound, ResponsePseudonymiser, detect_positions, explain_anomaly, list_items,
                                     make_query, memory_services, record_verdict)

T0 = pd.Timestamp("2022-10-15T00:00", tz="UTC")


def fleet(n_anomalies=60, seed=0):
    rng = np.random.default_rng(seed)
    ids = [f"mmsi:{219000000 + i}" for i in range(12)]
    start = T0 + pd.to_timedelta(rng.integers(0, 48 * 60, n_anomalies), "min")
    an = pd.DataFrame({"anomaly_id": [f"a{i:03d}" for i in range(n_anomalies)], "object_id": rng.choice(ids, n_anomalies),
                       "kind": rng.choice(["ais_gap", "speed", "loitering"], n_anomalies), "detector": rng.choice(["rule:x", "model:lstm"], n_anomalies),
                       "start": start, "end": start + pd.to_timedelta(rng.integers(0, 600, n_anomalies), "min"),
                       "lat": rng.uniform(54, 58, n_anomalies), "lon": rng.uniform(8, 14, n_anomalies), "score": rng.uniform(0, 1, n_anomalies),
                       "severity": rng.choice(["low", "medium", "high"], n_anomalies)})
    an["mmsi"] = an["object_id"].str.removeprefix("mmsi:").astype(int)
    an["explanation"] = "vessel " + an["object_id"] + " (MMSI " + an["mmsi"].astype(str) + ") did " + an["kind"]
    an["evidence"] = [json.dumps({"observed": {"mmsi": int(m)}, "positions": [{"lat": 1.0}]}) for m in an["mmsi"]]
    pos = pd.DataFrame({"source": "dma", "object_id": np.repeat(ids, 5), "mmsi": np.repeat([int(i[5:]) for i in ids], 5),
                        "timestamp": np.tile([T0 + pd.Timedelta(minutes=10 * k) for k in range(5)], len(ids)),
                        "lat": rng.uniform(54, 58, 5 * len(ids)), "lon": rng.uniform(8, 14, 5 * len(ids)), "sog": 5.0, "cog": 0.0, "heading": 0.0,
                        "rot": np.nan, "nav_status": 0, "object_type": "vessel"})
    objs = pd.DataFrame({"object_id": ids, "object_type": "vessel", "mmsi": [int(i[5:]) for i in ids], "name": [f"SHIP {i}" for i in range(12)],
                         "callsign": None, "imo": None, "sources": "dma", "first_seen": T0, "last_seen": T0 + pd.Timedelta("40min")})
    return pos, objs, an


@pytest.fixture(scope="module")
def svc():
    return memory_services(*fleet())


@settings(max_examples=40, deadline=None)
@given(w=st.floats(7, 13), s=st.floats(53, 57), dw=st.floats(0.1, 6), ds=st.floats(0.1, 4), h0=st.integers(0, 60), dh=st.integers(0, 30))
def test_anomaly_filter_is_the_cli_filter(w, s, dw, ds, h0, dh):
    svc = memory_services(*fleet())
    a, b = T0 + pd.Timedelta(hours=h0), T0 + pd.Timedelta(hours=h0 + dh)
    bbox = f"{w},{s},{min(w + dw, 180)},{min(s + ds, 90)}"
    got = list_items(svc, "anomalies", make_query(bbox=bbox, datetime=f"{a.isoformat()}/{b.isoformat()}", limit=10_000)).rows
    want = filter_anomalies(fleet()[2], tuple(map(float, bbox.split(","))), a, b)
    assert got["anomaly_id"].tolist() == want["anomaly_id"].tolist()


def test_paging_walks_every_anomaly_once(svc):
    seen, offset = [], 0
    while True:
        p = list_items(svc, "anomalies", make_query(limit=7, offset=offset))
        seen += p.rows["anomaly_id"].tolist()
        if not p.more: break
        offset += 7
    assert sorted(seen) == sorted(fleet()[2]["anomaly_id"]) and len(seen) == len(set(seen)) == 60


def test_filters_by_severity_detector_and_object(svc):
    an = fleet()[2]
    got = list_items(svc, "anomalies", make_query(severity="high", detector="model:lstm", object_id="219000003", limit=10_000)).rows
    want = an[(an.severity == "high") & (an.detector == "model:lstm") & (an.object_id == "mmsi:219000003")]
    assert sorted(got["anomaly_id"]) == sorted(want["anomaly_id"]) and len(want) > 0


def test_explanation_parses_evidence_and_lists_verdicts(svc):
    record_verdict(svc, "a001", "unsure", "ana", "check with the harbour master")
    e = explain_anomaly(svc, "a001")
    assert e["evidence"]["observed"]["mmsi"] == int(fleet()[2].set_index("anomaly_id").loc["a001", "mmsi"])
    assert [v["verdict"] for v in e["verdicts"]] == ["unsure"]
    with pytest.raises(NotFound): explain_anomaly(svc, "a999")


@pytest.mark.parametrize("verdict", ["confirmed", "false_alarm", "unsure"])
def test_verdict_labels_use_the_contract_columns(verdict):
    svc = memory_services(*fleet())
    a = fleet()[2].set_index("anomaly_id").loc["a002"]
    lab = record_verdict(svc, "a002", verdict, "ana", "seen from the bridge")
    assert (lab["kind"], lab["object_id"], lab["anomaly_id"], lab["verdict"]) == (a["kind"], a["object_id"], "a002", verdict)
    assert (lab["source"], lab["author"], lab["note"], lab["created_at"]) == ("investigator", "ana", "seen from the bridge", svc.clock.now())
    from oceanguard.labels import anomaly_verdicts
    got = anomaly_verdicts(pd.DataFrame(svc.labels.rows))
    assert got[["anomaly_id", "verdict", "author"]].values.tolist() == [["a002", verdict, "ana"]]


def test_a_later_verdict_of_the_same_author_supersedes():
    svc = memory_services(*fleet())
    record_verdict(svc, "a003", "unsure", "ana")
    svc.clock.t = svc.clock.t + pd.Timedelta("1h")
    record_verdict(svc, "a003", "confirmed", "ana")
    record_verdict(svc, "a003", "false_alarm", "ben")
    assert sorted((v["author"], v["verdict"]) for v in explain_anomaly(svc, "a003")["verdicts"]) == [("ana", "confirmed"), ("ben", "false_alarm")]



def test_pseudonymiser_hides_every_identity_of_the_fleet(svc):
    _, objs, an = fleet()
    ps = ResponsePseudonymiser(b"deployment secret", svc.objects.identities())
    body = json.dumps([ps.apply(explain_anomaly(svc, a) | {"start": None, "end": None}) for a in an["anomaly_id"][:20]], default=str)
    for m in objs["mmsi"]: assert str(m) not in body
    assert not any(n in json.dumps(ps.apply(objs.drop(columns=["first_seen", "last_seen"]).to_dict("records"))) for n in objs["name"])
    again = ResponsePseudonymiser(b"deployment secret", svc.objects.identities())
    assert again.apply({"mmsi": 219000001}) == ps.apply({"mmsi": 219000001})            # stable across workers with one key
    assert ResponsePseudonymiser(b"other").apply({"mmsi": 219000001}) != ps.apply({"mmsi": 219000001})
    from oceanguard.privacy import Pseudonymiser                                        # the command line's pseudonyms
    cli = Pseudonymiser(b"deployment secret", [objs]).frame(an)
    assert ps.frame(an)[["object_id", "mmsi", "explanation"]].equals(cli[["object_id", "mmsi", "explanation"]])


def test_detect_positions_accepts_records_and_names_bad_columns(svc):
    rows = pd.DataFrame({"MMSI": [1, 1, 1], "BaseDateTime": ["2020-01-01T00:00:00", "2020-01-01T00:01:00", "2020-01-01T00:02:00"],
                         "LAT": [55.0, 56.0, 55.0], "LON": [12.0, 12.0, 12.0]})
    an, note, rec = detect_positions(svc, rows, operator="anna")
    assert "teleport" in set(an["kind"]) and set(an["object_id"]) == {"mmsi:1"} and note.startswith("rules only")
    assert (rec["operator"], rec["operation"], rec["counts"]["anomalies"], rec["params"]["kinds"][0]) == ("anna", "api:detect", len(an), "ais_gap")
    for df, param in ((rows.drop(columns="LON"), "lon"), (rows.assign(LAT=[55, 95, 55]), "lat"), (rows.drop(columns="MMSI"), "object_id"),
                      (rows.assign(MMSI=["x", 1, 1]), "mmsi"), (rows.iloc[:0], "body")):
        with pytest.raises(InvalidParameter) as e: detect_positions(svc, df)
        assert e.value.param == param, (param, str(e.value))
