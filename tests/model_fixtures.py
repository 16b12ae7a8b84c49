"Shared fixtures for the model tests: the lane world of `oceanguard.models.normalcy` and a tiny track model trained on it."
from functools import lru_cache

import numpy as np
import pandas as pd

from oceanguard.models.normalcy import lane_world, lane_anomalies

TINY = {"model": {"window": 16, "stride": 8, "hidden": 16, "embed": 8, "epochs": 3, "holdout": 0.25, "coverage_min_vessels": 2}}


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
