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
