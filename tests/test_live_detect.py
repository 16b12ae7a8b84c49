"""LiveDetector on small frames: an event is opened, updated while it lasts and closed; the live ids, kinds, starts and
ends equal a batch `detect` of the same reports however they are batched, out-of-order reports included; the buffer
stays within its bounds (max_rows, evict_h) without trimming an open event's start."""
import numpy as np
import pandas as pd
import pytest

from oceanguard.contracts import POSITIONS, conform
from oceanguard.detect import detect
from oceanguard.live_detect import LiveDetector

T0 = pd.Timestamp("2024-03-01", tz="UTC")
KN_DEG = 1 / 60 / 6          # degrees of latitude covered in 10 minutes at 1 kn


def track(mmsi: int, n: int, step_min: float = 10.0, lat: float = 40.0, lon: float = -40.0, sog: float = 0.5, t0=T0) -> pd.DataFrame:
    "A vessel in the open Atlantic (hundreds of nm from shore and port) heading north at `sog` kn, one report every `step_min`."
    i = np.arange(n)
    return pd.DataFrame({"source": "test", "object_id": f"mmsi:{mmsi}", "mmsi": mmsi,
                         "timestamp": [t0 + pd.Timedelta(minutes=step_min * k) for k in i],
                         "lat": lat + sog * KN_DEG * step_min / 10 * i, "lon": lon, "sog": sog, "cog": 0.0, "heading": 0.0,
                         "rot": 0.0, "nav_status": 0, "object_type": "vessel", "raw_file": "x", "raw_line": i})


def positions(*frames) -> pd.DataFrame:
    return conform(pd.concat(frames, ignore_index=True), POSITIONS)


def feed(ld: LiveDetector, pos: pd.DataFrame, cuts) -> dict:
    "Feed `pos` in the batches that `cuts` (row numbers) delimit; the latest row of each anomaly id sent as new or updated."
    seen = {}
    for a, b in zip([0, *cuts], [*cuts, len(pos)]):
        ch = ld.update(pos.iloc[a:b].reset_index(drop=True))
        for _, r in pd.concat([ch["new"], ch["updated"]]).iterrows(): seen[r.anomaly_id] = (r.kind, r.start, r.end)
    return seen


def key(an: pd.DataFrame) -> dict:
    return {a: (k, s, e) for a, k, s, e in zip(an.anomaly_id, an.kind, an.start, an.end)}


def test_loitering_opened_updated_closed():
    slow = track(244000001, 37)                                              # 6 h at 0.5 kn, far out at sea
    fast = track(244000001, 18, sog=12.0, lat=float(slow.lat.iloc[-1]), t0=slow.timestamp.iloc[-1] + pd.Timedelta(minutes=10))
    pos = positions(slow, fast)
    ld = LiveDetector({}, kinds="loitering")
    ch = ld.update(pos.iloc[:19])                                            # 3 h: not yet loitering (GFW/params: 4 h)
    assert len(ch["new"]) == 0 and len(ld.open) == 0
    ch = ld.update(pos.iloc[19:26])                                          # 4 h 10 min: opened
    assert list(ch["new"].kind) == ["loitering"] and len(ch["updated"]) == 0
    aid, start, end = ch["new"].anomaly_id[0], ch["new"].start[0], ch["new"].end[0]
    assert start == T0 and end == pos.timestamp[25]
    ch = ld.update(pos.iloc[26:37])                                          # still slow: the same id, a later end
    assert len(ch["new"]) == 0 and list(ch["updated"].anomaly_id) == [aid] and ch["updated"].end[0] == pos.timestamp[36]
    assert aid in ld.open and len(ch["closed"]) == 0
    ch = ld.update(pos.iloc[37:45])                                          # under way 80 min: within the 2 h window, open
    assert len(ch["new"]) + len(ch["updated"]) + len(ch["closed"]) == 0 and aid in ld.open
    ch = ld.update(pos.iloc[45:])                                            # under way 3 h: past the window, closed
    assert list(ch["closed"].anomaly_id) == [aid] and aid not in ld.open
    assert key(detect(pos, {}, kinds="loitering")) == {aid: ("loitering", start, pos.timestamp[36])}


def _scenario() -> pd.DataFrame:
    "A loiterer, a vessel with one bad fix 30 nm off its track, and one that goes dark for 13 h at sea."
    loiter = track(244000001, 31)
    jumper = track(244000002, 31, sog=10.0, lon=-38.0)
    jumper.loc[15, "lat"] += 0.5
    gap = pd.concat([track(244000003, 6, sog=10.0, lon=-36.0),
                     track(244000003, 6, sog=10.0, lon=-36.0, lat=40.5, t0=T0 + pd.Timedelta(hours=14))], ignore_index=True)
    return positions(loiter, jumper, gap).sort_values(["timestamp", "mmsi"], kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("cuts", [[], [7, 8, 40], list(range(3, 90, 5)), list(range(1, 90))])
def test_live_ids_equal_batch_detect(cuts):
    pos = _scenario()
    batch = detect(pos, {})
    assert sorted(batch.kind) == ["ais_gap", "loitering", "teleport"]
    assert feed(LiveDetector({}), pos, cuts) == key(batch)


def test_out_of_order_report_recomputes_its_vessel():
    pos = _scenario()
    jump = pos.index[(pos.mmsi == 244000002) & (pos.lat > 40.3)][0]
    late = pd.concat([pos.drop(index=jump), pos.loc[[jump]]], ignore_index=True)   # the bad fix arrives last, after its successors
    ld = LiveDetector({})
    seen = feed(ld, late, [len(late) - 1])
    assert seen == key(detect(pos, {}))
    assert "teleport" in {k for k, s, e in seen.values()}


def test_buffer_bounds():
    ld = LiveDetector({}, kinds="ais_gap", horizon_h=1.0, max_rows=150)
    ld.update(positions(track(244000001, 120, step_min=1)))                 # two hours a minute apart: the last hour stays
    assert (ld.n_vessels, ld.n_rows) == (1, 61)
    ld.update(positions(track(244000002, 100, step_min=0.5, t0=T0 + pd.Timedelta(hours=2))))
    assert (ld.n_vessels, ld.n_rows) == (1, 100)                            # over max_rows: the least recently heard goes
    ld = LiveDetector({}, kinds="ais_gap", evict_h=3.0)
    ld.update(positions(track(244000001, 6), track(244000002, 6)))
    ld.update(positions(track(244000002, 6, t0=T0 + pd.Timedelta(hours=4))))
    assert ld.n_vessels == 1 and set(ld.last_t) == {"mmsi:244000002"}       # silent for over 3 h of feed time: evicted


def test_open_event_start_outlives_the_horizon():
    pos = positions(track(244000001, 49))                                    # 8 h of loitering, a horizon of 4.5 h
    ld = LiveDetector({}, kinds="loitering", horizon_h=4.5)
    seen = feed(ld, pos, list(range(6, 49, 6)))
    assert seen == key(detect(pos, {}, kinds="loitering"))                   # one id: its start kept in the buffer
    assert ld.buf.timestamp.min() == T0
