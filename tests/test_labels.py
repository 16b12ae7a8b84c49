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
