"""Shared fixtures for the model tests: real Læsø ferry tracks as normal traffic, planted deviations, a tiny trained model."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from oceanguard.core import sample_path
from oceanguard.readers import read_dma

FERRY = "dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv"


def ferry_positions() -> pd.DataFrame:
    "The real Læsø ferry track (735 reports, ~10 s cadence) through the DMA reader."
    return read_dma(sample_path(FERRY)).positions.copy()


def ferry_fleet(n: int = 6, seed: int = 0) -> pd.DataFrame:
    "Normal traffic: copies of the real ferry track rotated about its start and shifted in time."
    f, rng, out = ferry_positions(), np.random.default_rng(seed), []
    lat0, lon0 = f.lat.iloc[0], f.lon.iloc[0]
    kx = 111_320 * np.cos(np.radians(lat0))
    x, y = (f.lon - lon0) * kx, (f.lat - lat0) * 110_540
    for i in range(n):
        th = rng.uniform(0, 2 * np.pi); c, s = np.cos(th), np.sin(th)
        g = f.copy()
        g["object_id"] = f"synthetic:{seed}-{i}"; g["mmsi"] = pd.NA
        g["lon"] = lon0 + (c * x + s * y) / kx
        g["lat"] = lat0 + (-s * x + c * y) / 110_540
        g["cog"] = (f.cog + np.degrees(th)) % 360
        g["timestamp"] = f.timestamp + pd.Timedelta(hours=i)
        out.append(g)
    return pd.concat(out, ignore_index=True)


def plant_deviation(p: pd.DataFrame, object_id: str, start: int, n: int = 60, offset_m: float = 1500.0):
    "Push `n` reports of one object sideways (smooth ramp out and back), COG following; returns (positions, t0, t1)."
    p = p.copy(); idx = np.flatnonzero(p.object_id.to_numpy() == object_id)[start:start + n]
    ramp = np.sin(np.linspace(0, np.pi, n)) ** 2 * offset_m
    lat = p.lat.to_numpy().copy(); lon = p.lon.to_numpy().copy()
    cog = np.radians(np.nan_to_num(p.cog.to_numpy()[idx]))
    lon[idx] += ramp * np.cos(cog) / (111_320 * np.cos(np.radians(lat[idx]))); lat[idx] += -ramp * np.sin(cog) / 110_540
    p["lat"], p["lon"] = lat, lon
    seg = slice(idx[0] - 1, idx[-1] + 1)
    dx = np.diff(lon[seg]) * 111_320 * np.cos(np.radians(lat[idx])); dy = np.diff(lat[seg]) * 110_540
    moving = np.hypot(dx, dy) > 1
    p.loc[p.index[idx[moving]], "cog"] = np.degrees(np.arctan2(dx, dy))[moving] % 360
    return p, p.timestamp.iloc[idx[0]], p.timestamp.iloc[idx[-1]]


TINY = {"model": {"window": 24, "stride": 4, "hidden": 16, "epochs": 8, "false_alarm_rate": 0.05, "holdout": 0.3,
                  "traffic_map": False}}   # rotated ferry copies each sail waters the others never visit


@lru_cache(maxsize=None)
def tiny_model():
    "A tiny motion model trained (seeded) on eight rotated ferry copies; cached for the session."
    from oceanguard.models.train import train_model
    return train_model(ferry_fleet(8, seed=1), TINY)


def untrained_model(version: str = "v0", window: int = 16):
    "A motion model with untrained weights and its card (the registry needs no training): a fixture."
    from oceanguard.models.lstm import ModelParams, MotionModel, MotionNet
    from oceanguard.models.registry import model_card
    from oceanguard.models.windows import FEATURES, Normaliser, step_features
    p = ModelParams(window=window, hidden=8)
    m = MotionModel(MotionNet(len(FEATURES), 8, 1), Normaliser.fit(step_features(ferry_positions())), p, threshold=0.5, version=version)
    m.card = model_card(m, f"hash-{version}", 735, 40)
    return m
