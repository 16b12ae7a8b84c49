import pandas as pd, pytest
from oceanguard.cli import main
from oceanguard.core import OceanguardError
from oceanguard.labels import LabelStore, import_labels_csv

def test_import_roundtrip(tmp_path, capsys):
    f = tmp_path / "l.csv"
    f.write_text("mmsi,kind,start,end,note\n219000734,loitering,2022-10-15 11:16:01,2022-10-15 11:30:00,berth\n1,drift,bad,2022-10-15,x\n")
    assert main(["labels", "import", str(f), "--store", str(tmp_path / "s"), "--author", "ana"]) == 0
    assert main(["labels", "import", str(f), "--store", str(tmp_path / "s"), "--author", "ana"]) == 0
    out = capsys.readouterr().out
    assert "imported 1 new" in out and "imported 0 new" in out and "bad_time: 1" in out
    labs = LabelStore(tmp_path / "s").load(kind="loitering")
    assert len(labs) == 1 and labs.start.iloc[0] == pd.Timestamp("2022-10-15 11:16:01", tz="UTC")

def test_bad_columns(tmp_path):
    f = tmp_path / "l.csv"; f.write_text("a,b\n1,2\n")
    with pytest.raises(OceanguardError, match="lacks column"): import_labels_csv(f)
    assert main(["labels", "import", str(tmp_path / "none.csv"), "--store", str(tmp_path)]) == 2


GFW_EVENTS = """id,type,start,end,position.lat,position.lon,vessel.id,vessel.ssvid,vessel.name,vessel.flag,vessel.type,encounter.vessel.id,encounter.vessel.ssvid,encounter.vessel.name
5c1e.1,encounter,2021-03-02T04:00:00.000Z,2021-03-02T07:30:00.000Z,-45.71,-60.52,0b6a8e4f3-3d1c,440818000,OYANG 77,KOR,fishing,c2d7e9a1b-0a4f,352001202,FRIO TOKYO
5c1e.2,encounter,2021-03-02T04:00:00.000Z,2021-03-02T07:30:00.000Z,-45.71,-60.52,c2d7e9a1b-0a4f,352001202,FRIO TOKYO,PAN,carrier,0b6a8e4f3-3d1c,440818000,OYANG 77
7f20,loitering,2021-03-03T10:00:00.000Z,2021-03-03T18:45:00.000Z,-46.02,-60.11,c2d7e9a1b-0a4f,352001202,FRIO TOKYO,PAN,carrier,,,
9a31,gap,2021-03-04T00:00:00.000Z,2021-03-05T12:00:00.000Z,-45.10,-59.80,0b6a8e4f3-3d1c,440818000,OYANG 77,KOR,fishing,,,
b842,port_visit,2021-03-09T00:00:00.000Z,2021-03-11T00:00:00.000Z,-51.69,-57.85,0b6a8e4f3-3d1c,440818000,OYANG 77,KOR,fishing,,,
"""

def test_gfw_events_become_third_party_labels(tmp_path, capsys):
    f = tmp_path / "gfw-events.csv"; f.write_text(GFW_EVENTS)
    assert main(["labels", "import", str(f), "--store", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "imported 4 new third-party (Global Fishing Watch) label(s) of 4 read; 1 row(s) quarantined (not_an_oceanguard_kind: 1)" in out
    labs = LabelStore(tmp_path / "s").load()
    assert sorted(labs.kind) == ["ais_gap", "encounter", "encounter", "loitering"] and set(labs.source) == {"third-party"}
    enc = labs[labs.object_id == "mmsi:440818000"].set_index("kind")
    assert enc.loc["encounter", "related_id"] == "mmsi:352001202" and enc.loc["ais_gap", "end"] == pd.Timestamp("2021-03-05 12:00", tz="UTC")
    assert LabelStore(tmp_path / "s").load(source="third-party", kind="loitering").object_id.tolist() == ["mmsi:352001202"]

def test_an_unknown_layout_is_one_line(tmp_path, capsys):
    f = tmp_path / "odd.csv"; f.write_text("event_id,event_type,vessel.id,when\n1,gap,x,2021-01-01\n")
    assert main(["labels", "import", str(f), "--store", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "looks like a Global Fishing Watch gfw-events export but lacks column(s) id, type, start, end, vessel.ssvid" in err[0]
    f.write_text("a,b,c\n1,2,3\n")
    assert main(["labels", "import", str(f), "--store", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nor is it a Global Fishing Watch export" in err[0]


# ---- verdicts: the investigator's word on detected anomalies ----
import json

from oceanguard.contracts import LABELS, validate
from oceanguard.labels import anomaly_verdicts, verdict_labels

T0 = pd.Timestamp("2022-10-15 11:40", tz="UTC")
ANOMALIES = pd.DataFrame({"anomaly_id": ["a1", "a2"], "object_id": ["mmsi:219000734", "mmsi:265410000"], "kind": ["loitering", "encounter"],
                          "start": [T0, T0], "end": [T0 + pd.Timedelta("30min"), T0 + pd.Timedelta("1h")]})


def _export(path, verdicts, **doc):
    path.write_text(json.dumps({"format": "oceanguard-verdicts", "version": 1, "report_id": "r-1", "report_title": "demo", **doc, "verdicts": verdicts}))
    return path


def _v(**k):
    return {"anomaly_id": "a1", "object_id": "mmsi:219000734", "kind": "loitering", "start": "2022-10-15T11:40:00.000Z",
            "end": "2022-10-15T12:10:00.000Z", "verdict": "false_alarm", "author": "ana", "note": "berth", "created_at": "2024-05-01T09:00:00.000Z",
            "report_title": "demo", **k}


def test_old_label_files_still_read_and_keep_their_ids(tmp_path):
    """A labels.parquet written before verdicts existed (no verdict columns) loads, validates and keeps its ids."""
    s = LabelStore(tmp_path / "s")
    old = pd.DataFrame({"label_id": ["x"], "object_id": ["mmsi:1"], "kind": ["ais_gap"], "start": [T0], "end": [T0], "source": ["injected"]})
    s.path.mkdir(); old.to_parquet(s.file)
    got = s.load()
    validate(got, LABELS)
    assert got.label_id.tolist() == ["x"] and got.verdict.isna().all() and got.anomaly_id.isna().all()
    assert s.add(got.drop(columns="label_id")) == 1     # re-keyed with the stable hash: a new id, the old row untouched
    assert len(s.load()) == 2


def test_verdict_import_counts_reconcile_and_changed_verdicts_supersede(tmp_path, capsys):
    f = _export(tmp_path / "verdicts-r-1.json", [_v(), _v(anomaly_id="a2", object_id="mmsi:265410000", kind="encounter", verdict="Confirmed"),
                                                _v(anomaly_id="a3", verdict="perhaps"), _v(anomaly_id="a4", start="yesterday"), _v(anomaly_id="a5", kind="")])
    store = str(tmp_path / "s")
    assert main(["labels", "import", str(f), "--store", store]) == 0
    assert main(["labels", "import", str(f), "--store", store]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("read 5 verdict(s): 2 imported, 0 already present, 3 rejected (")
    assert out[1].startswith("read 5 verdict(s): 0 imported, 2 already present, 3 rejected (")
    assert all(r in out[0] for r in ("bad_verdict: 1", "bad_time: 1", "missing_value: 1"))
    q = pd.read_csv(tmp_path / "s" / "quarantine.csv")
    assert sorted(q.raw_line.unique().tolist()) == [3, 4, 5] and len(q) == 6      # entry numbers; both imports recorded
    # ana changes her mind on a1; bo gives his own word on it; the file also comes as CSV
    later = _export(tmp_path / "later.json", [_v(verdict="confirmed", created_at="2024-05-02T09:00:00Z"), _v(author="bo", verdict="unsure")])
    assert main(["labels", "import", str(later), "--store", store]) == 0
    s = LabelStore(store)
    assert len(s.load(history=True)) == 4 and len(s.load()) == 3
    cur = s.load(source="investigator")
    assert sorted(zip(cur.anomaly_id, cur.author, cur.verdict)) == [("a1", "ana", "confirmed"), ("a1", "bo", "unsure"), ("a2", "ana", "confirmed")]
    av = anomaly_verdicts(s.load())
    assert dict(zip(av.anomaly_id, av.verdict)) == {"a1": "confirmed", "a2": "confirmed"}
    c = tmp_path / "verdicts.csv"
    pd.DataFrame([_v(verdict="confirmed", created_at="2024-05-02T09:00:00Z")]).to_csv(c, index=False)
    assert main(["labels", "import", str(c), "--store", store]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("read 1 verdict(s): 0 imported, 1 already present, 0 rejected")


def test_unknown_verdict_layout_is_one_line(tmp_path, capsys):
    f = tmp_path / "v.json"
    for text, msg in [('{"type": "FeatureCollection", "features": []}', "JSON of an unknown layout"), ("[1, 2", "is not readable JSON"),
                      ('{"format": "oceanguard-verdicts", "verdicts": [{"anomaly_id": "a1", "verdict": "confirmed"}]}', "lacks field(s) object_id, kind, start, end")]:
        f.write_text(text)
        assert main(["labels", "import", str(f), "--store", str(tmp_path / "s")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and msg in err[0], err
    assert not (tmp_path / "s" / "labels.parquet").exists()


def test_verdict_labels_for_a_service():
    """What a service's POST /labels does: verdict_labels then LabelStore.add; a bad verdict word is one line."""
    lab = verdict_labels(ANOMALIES, "false-alarm", author="ana", note="ferry", created_at="2024-05-01T09:00Z")
    assert lab.verdict.tolist() == ["false_alarm"] * 2 and lab.source.unique().tolist() == ["investigator"]
    assert lab.label_id.nunique() == 2
    with pytest.raises(OceanguardError, match="verdict must be one of"):
        verdict_labels(ANOMALIES, "wrong")
    with pytest.raises(OceanguardError, match="lack column"):
        verdict_labels(ANOMALIES.drop(columns="kind"), "confirmed")
