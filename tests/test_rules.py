"""Rule detectors: planted events are found with the right start, end and explanation; normal tracks are not flagged;
every rule runs on every real sample; parameters are validated with one-line errors."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oceanguard.cleaning import clean_positions
from oceanguard.contracts import ANOMALIES, validate
from oceanguard.core import OceanguardError, sample_path
from oceanguard.detect import RULES, detect
from oceanguard.geo import KN, haversine_m
from oceanguard.readers import read_any
from oceanguard.rules import Track, ais_gap, drift, identity, loitering, speed, teleport
from oceanguard.rules_interaction import close_pairs, encounter, zone_entry

SAMPLES = ["dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv", "dma-csv-laeso-ferry/snapshot_2021-09-07_20s.csv",
           "dma-gpkg-gothenburg-encounter/ais_dk_cpa.gpkg", "noaa-gpkg-boston-2014/ais_boston_2014-01.gpkg",
           "nmea-dma-aislib-2010/stream_example.txt", "nmea-format-variants/libais_test_uscg.aivdm",
           "nmea-format-variants/gpsd_sample.aivdm", "nmea-format-variants/libais_tagblock.nmea"]
FERRY_OBJ = pd.DataFrame({"object_id": ["mmsi:219000734"], "ship_type": [60], "length": [54.0]})


@pytest.fixture(scope="module")
def ferry():
    return clean_positions(read_any(sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv")).positions).positions


@pytest.fixture(scope="module")
def offshore(ferry):
    "The real ferry track moved ~80 nm offshore into the Skagerrak (far from any port)."
    return ferry.assign(lat=ferry.lat + 0.3, lon=ferry.lon - 2.6)


def _thresholds_named(an):
    assert an.explanation.str.contains("threshold").all()
    for e in an.evidence:
        ev = json.loads(e)
        assert ev["parameters"] and ev["observed"] and ev["positions"] and "raw_line" in ev["positions"][0]


def test_ais_gap_planted_and_normal(offshore):
    t = offshore.timestamp.copy(); t.iloc[400:] += pd.Timedelta("14h")
    planted = offshore.assign(timestamp=t)
    g = ais_gap(planted, {"min_dist_port_nm": 20})
    assert len(g) == 1
    assert g.start.iloc[0] == planted.timestamp.iloc[399] and g.end.iloc[0] == planted.timestamp.iloc[400]
    assert "14.0 h (threshold 12 h)" in g.explanation.iloc[0] and "threshold 20 nm" in g.explanation.iloc[0]
    ev = json.loads(g.evidence.iloc[0])["observed"]
    assert ev["reports_before"] > 300 and ev["dist_moved_nm"] < 1
    assert len(ais_gap(offshore, {"min_dist_port_nm": 20})) == 0
    assert len(ais_gap(planted, {"min_dist_shore_nm": 50})) == 0   # GFW: 50 nm from shore; the Skagerrak spot is 25 nm out
    # the same MMSI seen again two years later is two collections of data, not a vessel going dark
    t = offshore.timestamp.copy(); t.iloc[400:] += pd.Timedelta(days=730)
    assert len(ais_gap(offshore.assign(timestamp=t), {"min_dist_port_nm": 20})) == 0
    assert len(ais_gap(offshore.assign(timestamp=t), {"min_dist_port_nm": 20, "max_gap_h": 24 * 800})) == 1


def test_teleport_single_fix_and_relocation(ferry):
    assert len(teleport(ferry)) == 0
    one = ferry.copy(); one.loc[300, "lat"] += 0.33
    t1 = teleport(one)
    assert len(t1) == 1 and "single bad position" in t1.explanation.iloc[0] and "threshold 50 kn" in t1.explanation.iloc[0]
    assert t1.end.iloc[0] == ferry.timestamp.iloc[300]
    moved = ferry.copy(); moved.loc[500:, "lat"] += 0.5
    t2 = teleport(moved)
    assert len(t2) == 1 and "relocation" in t2.explanation.iloc[0]
    assert (t2.start.iloc[0], t2.end.iloc[0]) == (ferry.timestamp.iloc[499], ferry.timestamp.iloc[500])


def test_speed_over_cap_and_sudden_stop(ferry):
    assert len(speed(ferry, objects=FERRY_OBJ)) == 0
    fast = ferry.copy(); fast.loc[200:209, "sog"] = 48.0
    sp = speed(fast, objects=FERRY_OBJ)
    assert len(sp) == 1 and (sp.start.iloc[0], sp.end.iloc[0]) == (ferry.timestamp.iloc[200], ferry.timestamp.iloc[209])
    assert "48.0 kn (threshold 32 kn: 32 kn for passenger" in sp.explanation.iloc[0]
    stop = ferry.copy(); stop.loc[350:, "sog"] = 0.0
    stop.loc[350:, "lat"] = ferry.lat[350]; stop.loc[350:, "lon"] = ferry.lon[350]
    st = speed(stop, objects=FERRY_OBJ)
    assert len(st) == 1 and st.end.iloc[0] == ferry.timestamp.iloc[350] and "threshold 0.1 kn/s" in st.explanation.iloc[0]
    glitch = ferry.copy(); glitch.loc[350, "sog"] = 0.0
    assert len(speed(glitch, objects=FERRY_OBJ)) == 0


def _append(p, n, step_s, **cols):
    last = p.iloc[-1]
    d = pd.DataFrame({c: [last[c]] * n for c in p.columns})
    d["timestamp"] = last.timestamp + pd.to_timedelta(np.arange(1, n + 1) * step_s, unit="s")
    for k, v in cols.items(): d[k] = v
    d["raw_line"] = pd.array(np.arange(n) + 90_000, "Int64")
    return pd.concat([p, d], ignore_index=True), d.timestamp.iloc[0], d.timestamp.iloc[-1]


def test_drift_planted_and_size_gate(offshore):
    p = offshore.iloc[:101]
    n = 240
    lon = p.lon.iloc[-1] + 1.5 * KN * 10 * np.arange(1, n + 1) / (111_320 * np.cos(np.radians(p.lat.iloc[-1])))
    dr_in, t0, t1 = _append(p, n, 10, lon=lon, sog=1.5, cog=90.0, heading=0.0, nav_status=0)
    dr = drift(dr_in, objects=FERRY_OBJ)
    assert len(dr) == 1 and (dr.start.iloc[0], dr.end.iloc[0]) == (t0, t1)
    assert "threshold 30 min" in dr.explanation.iloc[0] and "90 deg off its heading" in dr.explanation.iloc[0]
    assert len(drift(dr_in, objects=FERRY_OBJ.assign(length=10.0))) == 0
    assert len(drift(dr_in.assign(nav_status=1), objects=FERRY_OBJ)) == 0     # at anchor: swinging, not adrift
    assert len(drift(offshore, objects=FERRY_OBJ)) == 0
    boston = clean_positions(read_any(sample_path("noaa-gpkg-boston-2014/ais_boston_2014-01.gpkg")).positions).positions
    assert len(drift(boston)) == 0                                    # two real harbour manoeuvres going astern
    assert len(drift(boston, {"max_angle_deg": 180, "min_dist_port_nm": 0, "min_dist_shore_nm": 0})) == 2


def test_loitering_planted_and_in_port(ferry, offshore):
    p = offshore.iloc[:301]
    n = 301
    lat = p.lat.iloc[-1] + 0.5 * KN * 60 * np.arange(1, n + 1) / 110_574
    lo_in, t0, t1 = _append(p, n, 60, lat=lat, sog=0.5)
    lo = loitering(lo_in)
    assert len(lo) == 1 and (lo.start.iloc[0], lo.end.iloc[0]) == (t0, t1)
    assert "5.0 h (threshold 4 h)" in lo.explanation.iloc[0] and "threshold 2 kn" in lo.explanation.iloc[0]
    assert len(loitering(lo_in, {"min_hours": 6})) == 0
    assert len(loitering(ferry)) == 0 and len(loitering(offshore)) == 0


def test_identity_invalid_two_places_and_statics(ferry):
    assert len(identity(ferry)) == 0
    bad = ferry.assign(object_id="mmsi:123456789", mmsi=pd.array([123456789] * len(ferry), "Int64"))
    iv = identity(bad)
    assert len(iv) == 1 and "MMSI 123456789" in iv.explanation.iloc[0]
    twin = ferry.iloc[100:200].copy(); twin["lat"] += 0.17; twin["timestamp"] += pd.Timedelta("5s")
    two = pd.concat([ferry.iloc[100:200], twin]).sort_values("timestamp")
    tw = identity(two)
    assert len(tw) == 1 and "two places at once" in tw.explanation.iloc[0]
    assert json.loads(tw.evidence.iloc[0])["observed"]["separation_nm"] == pytest.approx(10.2, abs=0.5)
    assert len(teleport(two)) == 0
    r = read_any(sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv"))
    st = pd.concat([r.statics, r.statics.assign(name="NORDIC STAR", timestamp=r.statics.timestamp + pd.Timedelta("1h"))])
    sc = identity(ferry, statics=st)
    assert len(sc) == 1 and "NORDIC STAR" in sc.explanation.iloc[0]
    assert len(identity(ferry, statics=r.statics)) == 0


def _meeting(sep_m=200.0, hours=3.0, every_s=60, kn=0.5):
    n = int(hours * 3600 / every_s) + 1
    t = pd.Timestamp("2024-03-01 06:00", tz="UTC") + pd.to_timedelta(np.arange(n) * every_s, unit="s")
    lat = 57.6 + kn * KN * every_s * np.arange(n) / 110_574
    base = dict(source="test", timestamp=t, sog=kn, cog=0.0, heading=0.0, raw_file="planted.csv")
    a = pd.DataFrame({**base, "object_id": "mmsi:219000001", "mmsi": 219000001, "lat": lat, "lon": 8.2, "raw_line": np.arange(n) + 2})
    b = pd.DataFrame({**base, "object_id": "mmsi:219000002", "mmsi": 219000002, "lat": lat,
                      "lon": 8.2 + sep_m / (111_320 * np.cos(np.radians(57.6))), "raw_line": np.arange(n) + 2 + n})
    return pd.concat([a, b], ignore_index=True), t[0], t[-1]


def test_encounter_planted_and_near_misses():
    m, t0, t1 = _meeting()
    en = encounter(m)
    validate(en, ANOMALIES)
    assert len(en) == 2 and set(en.start) == {t0} and set(en.end) == {t1}
    assert "for 3.0 h (threshold 2 h)" in en.explanation.iloc[0] and "threshold 500 m" in en.explanation.iloc[0]
    ev = json.loads(en.evidence.iloc[0])
    assert ev["observed"]["other_object_id"] in {"mmsi:219000001", "mmsi:219000002"}
    assert ev["n_positions"] == 181 and len(ev["other_positions"]) == 20     # every report of the 3 h, not one per bin
    assert len(encounter(_meeting(sep_m=5000)[0])) == 0
    assert len(encounter(_meeting(hours=1.5)[0])) == 0
    assert len(encounter(_meeting(kn=4)[0])) == 0


def test_grid_join_equals_brute_force():
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame({"object_id": [f"x:{i}" for i in range(n)], "timestamp": pd.Timestamp("2024-01-01", tz="UTC"),
                       "lat": 57 + rng.uniform(0, 0.05, n), "lon": 10 + rng.uniform(0, 0.08, n)})
    tr = Track(df)
    got = close_pairs(tr, np.arange(n), int(600e9), 500.0)
    d = haversine_m(tr.lat[:, None], tr.lon[:, None], tr.lat[None, :], tr.lon[None, :])
    ii, jj = np.nonzero(np.triu(d <= 500.0, 1))
    want = {(min(tr.g[i], tr.g[j]), max(tr.g[i], tr.g[j])) for i, j in zip(ii, jj)}
    assert set(zip(got.ga, got.gb)) == want and len(got) == len(want) > 0


def test_zone_entry_planted(ferry, tmp_path):
    zones = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "box"},
         "geometry": {"type": "Polygon", "coordinates": [[[10.70, 57.30], [10.80, 57.30], [10.80, 57.40], [10.70, 57.40], [10.70, 57.30]]]}},
        {"type": "Feature", "properties": {"name": "away"},
         "geometry": {"type": "Polygon", "coordinates": [[[5.0, 55.0], [5.1, 55.0], [5.1, 55.1], [5.0, 55.0]]]}}]}
    f = tmp_path / "zones.geojson"; f.write_text(json.dumps(zones))
    ze = zone_entry(ferry, zones=f)
    validate(ze, ANOMALIES)
    inside = (ferry.lon.between(10.70, 10.80) & ferry.lat.between(57.30, 57.40)).to_numpy()
    assert len(ze) == 1 and ze.start.iloc[0] == ferry.timestamp[inside].iloc[0] and ze.end.iloc[0] == ferry.timestamp[inside].iloc[-1]
    assert "entered zone 'box'" in ze.explanation.iloc[0] and "and left at" in ze.explanation.iloc[0]
    assert len(zone_entry(ferry, zones=f, params={"min_minutes": 600})) == 0
    with pytest.raises(OceanguardError, match="zones file not found"):
        zone_entry(ferry, zones=tmp_path / "none.geojson")


@pytest.mark.parametrize("params, match", [
    ({"rules": {"loitering": {"min_hour": 3}}}, r"^parameter rules\.loitering\.min_hour: Extra inputs"),
    ({"rules": {"ais_gap": {"min_gap_h": "long"}}}, r"^parameter rules\.ais_gap\.min_gap_h: "),
    ({"rules": {"encounter": {"max_dist_m": -5}}}, r"^parameter rules\.encounter\.max_dist_m: "),
    ({"rules": {"gaps": {}}}, r"^parameter rules\.gaps: unknown rule"),
])
def test_bad_params_are_one_line(ferry, params, match):
    with pytest.raises(OceanguardError, match=match) as e:
        detect(ferry, params)
    assert "\n" not in str(e.value)


def test_all_rules_on_all_real_samples():
    seen = {}
    for s in SAMPLES:
        r = read_any(sample_path(s))
        pos = clean_positions(r.positions).positions
        an = detect(pos, statics=r.statics)
        validate(an, ANOMALIES)
        _thresholds_named(an)
        seen[Path(s).name] = an.kind.value_counts().to_dict()
    assert seen["ferry_laeso_2022-10-15.csv"] == {}
    assert seen["stream_example.txt"].get("identity", 0) >= 3        # 111111111, 222222222, 123456789 in the real stream


# Injected sizes pinned well beyond the published definitions (GFW gap 12 h, loitering < 2 kn for 4 h, encounter
# 500 m / 2 h / < 2 kn; EMSA drift 45 deg for 30 min), placed >= 10 nm from port (the test's choice of location).
# The injector knows nothing of the rules: a miss here is a finding about the rules under today's params.yaml.
INJECT_PINS = {"ais_gap": [14, 14], "loitering": [8, 8], "loitering_speed_kn": [0.5, 0.5], "encounter": [4, 4],
               "encounter_distance_m": [200, 200], "encounter_speed_kn": [0.5, 0.5], "drift": [80, 80], "drift_hours": [2, 2],
               "drift_speed_kn": [1.5, 1.5], "speed": [1.8, 1.8], "teleport": [60, 60], "identity": [60, 60], "identity_hours": [2, 2]}
INJECTED_KINDS = ["ais_gap", "teleport", "speed", "drift", "loitering", "encounter", "identity"]
KNOWN_MISSES = {}   # speed missed 1.8x a cargo ship's design speed (28.8 kn < 30 kn cap) until the caps were calibrated on real traffic

@pytest.fixture(scope="module")
def injected_fleet():
    from oceanguard.catalogue import build_catalogue
    from oceanguard.core import load_params
    from oceanguard.injection import inject
    from oceanguard.synthetic import synthesize_fleet
    pos, st = synthesize_fleet(n_vessels=30, hours=24, seed=3)
    normal = detect(pos, objects=build_catalogue(pos, st), statics=st)
    p2, labels, st2 = inject(pos, kinds=INJECTED_KINDS, seed=4, statics=st, return_statics=True,
                             params={"inject": {"ranges": INJECT_PINS, "identity_variants": ["clone"], "min_port_nm": 10}})
    params = load_params(Path(__file__).resolve().parents[1] / "params.yaml")
    for k in ("ais_gap", "loitering"):           # the Danish straits are never 20 nm (GFW loitering) or 5 nm (calibrated gaps) from
        params["rules"][k]["min_dist_shore_nm"] = 0.0   # shore for long: this test is about sizes, the study about places
    an = detect(p2, params, objects=build_catalogue(p2, st2), statics=st2)
    return normal, labels, an

def test_synthetic_fleet_normal(injected_fleet):
    normal, _, _ = injected_fleet
    assert not set(normal.kind) & {"ais_gap", "teleport", "encounter", "identity", "loitering", "drift"}

@pytest.mark.parametrize("kind", [pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[k])) if k in KNOWN_MISSES else k
                                  for k in INJECTED_KINDS])
def test_synthetic_fleet_injected(injected_fleet, kind):
    _, labels, an = injected_fleet
    validate(an, ANOMALIES)
    _thresholds_named(an)
    labs = labels[labels.kind == kind]
    assert len(labs) == (2 if kind == "encounter" else 1) and labels.attrs["skipped"] == {}
    pad = pd.Timedelta("15min")
    for l in labs.itertuples():
        hit = an[(an.kind == l.kind) & (an.object_id == l.object_id) & (an.start <= l.end + pad) & (an.end >= l.start - pad)]
        assert len(hit) >= 1, (l.kind, l.object_id, l.start, l.end, l.note)
