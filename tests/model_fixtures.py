"Shared fixtures for the model tests: the lane world of `oceanguard.models.normalcy` and a tiny track model trained on it."
from functools import lru_cache

import numpy as np
import pandas as pd

from oceanguard.models.normalcy import lane_world, lane_anomalies

TINY = {"model": {"window": 16, "stride": 8, "hidden": 16, "embed": 8, "epochs": 3, "holdout": 0.25, "coverage_min_vessels": 2,
                  "lstm_alarms": True}}   # the tests exercise the LSTM's own alarms


@lru_cache(maxsize=None)
def tiny_model():
    "A tiny track model trained (seeded) on a day of the lane world (two one-way lanes and sparse waters); cached for the session."
    from oceanguard.models.train import train_model
    return train_model(lane_world(seed=1), TINY)


def planted(which: str = "detour", seed: int = 2) -> tuple[pd.DataFrame, pd.Timestamp, pd.Timestamp]:
    """Unseen normal lane traffic plus one kinematically consistent anomaly of `lane_anomalies` (`detour`, `slow`,
    `wrong_way`, `far_away`); returns the positions and the anomaly's first and last report times."""
    a = lane_anomalies()
    a = a[a.object_id == which]
    pos = pd.concat([lane_world("n", seed=seed, n_east=8, n_north=6, n_sparse=2), a], ignore_index=True)
    return pos, a.timestamp.min(), a.timestamp.max()


def implied_minus_sog_kn(track: pd.DataFrame) -> np.ndarray:
    "Implied speed between consecutive reports minus the reported SOG (kn), per step of one track."
    from oceanguard.injection import implied_speed_kn
    t = track.sort_values("timestamp")
    return (implied_speed_kn(t)[:-1] - t.sog.to_numpy()[:-1])


def ferry_positions() -> pd.DataFrame:
    "The real Laeso ferry track as a minimal positions frame (fixture only; the readers notebook owns parsing)."
    from oceanguard.core import sample_path
    raw = pd.read_csv(sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv"))
    return pd.DataFrame({
        "source": "dma", "object_id": "mmsi:" + raw["MMSI"].astype(str), "mmsi": raw["MMSI"].astype("Int64"),
        "timestamp": pd.to_datetime(raw["# Timestamp"], format="%d/%m/%Y %H:%M:%S", utc=True),
        "lat": raw["Latitude"], "lon": raw["Longitude"], "sog": raw["SOG"], "cog": raw["COG"],
        "raw_file": "ferry_laeso_2022-10-15.csv", "raw_line": pd.array(np.arange(2, len(raw) + 2), "Int64")})


def untrained_model(version: str = "v0", window: int = 16):
    "A track model with untrained weights on the ferry's waters, and its card (the registry needs no training): a fixture."
    from oceanguard.models.lstm import ModelParams, RouteMap, TrackModel, TrackNet, Vocab, model_steps
    from oceanguard.models.normalcy import Coverage
    from oceanguard.models.registry import model_card
    f = ferry_positions(); st = model_steps(f)
    p = ModelParams(window=window, hidden=8, embed=4)
    v = Vocab.fit(st.lat, st.lon, p.route_cell_deg)
    m = TrackModel(TrackNet(len(v.lat_bins), len(v.lon_bins), 4, 8), v, RouteMap.fit(st), Coverage.fit(f, min_vessels=1, min_hours=0.0), p, version=version)
    m.card = model_card(m, f"hash-{version}", len(f), 40)
    return m
