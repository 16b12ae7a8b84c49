import numpy as np, pandas as pd, pytest
from oceanguard.contracts import LABELS, validate
from oceanguard.geo import haversine_m
from oceanguard.injection import inject, implied_speed_kn, KINDS
from oceanguard.synthetic import synthesize_fleet

@pytest.fixture(scope="module")
def injected():
    fleet, st = synthesize_fleet(40, hours=16, seed=3, resample_s=30)
    return inject(fleet, n_per_kind=1, seed=1, statics=st)

def _tr(pos, oid): return pos[pos.object_id == oid].sort_values("timestamp")

def test_all_kinds_labelled(injected):
    pos, labels = injected
    validate(labels, LABELS)
    assert set(labels.kind) == set(KINDS) and set(labels.author) == {"oceanguard.injection"}

def test_labels_match_data(injected):
    pos, labels = injected
    for lab in labels.itertuples():
        tr = _tr(pos, lab.object_id); w = tr[tr.timestamp.between(lab.start, lab.end)]
        if lab.kind == "ais_gap": assert len(w) == 0
        if lab.kind == "teleport":
            fast = tr.timestamp.iloc[np.flatnonzero(implied_speed_kn(tr) > 50)]
            assert 1 <= len(fast) <= 2 and (abs(fast - lab.start) < pd.Timedelta(minutes=5)).all()
        if lab.kind == "loitering": assert (w.sog < 2).all()
        if lab.kind == "encounter":
            o = _tr(pos, labels[(labels.kind == "encounter") & (labels.object_id != lab.object_id)].object_id.iloc[0])
            x, xo = w.timestamp.astype("int64"), o.timestamp.astype("int64")
            assert haversine_m(w.lat, w.lon, np.interp(x, xo, o.lat), np.interp(x, xo, o.lon)).max() < 500
