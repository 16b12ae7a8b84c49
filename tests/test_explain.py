"""Integrated Gradients explanations of model anomalies: completeness, localisation, words, evidence, chart."""
import base64
import json

import numpy as np
import pandas as pd

from oceanguard.models.explain import attribute, attribution_chart, step_attributions, summarise
from oceanguard.models.lstm import score_anomalies, window_scores
from oceanguard.models.windows import FEATURES
from model_fixtures import ferry_fleet, plant_deviation, tiny_model


def _planted(start):
    return plant_deviation(ferry_fleet(2, seed=2), "synthetic:2-1", start=start, n=60, offset_m=1500)


def test_attributions_are_complete_and_inside_the_planted_window():
    model, _ = tiny_model()
    for start in (250, 450):                                   # two different plants on the real ferry track
        planted, t0, t1 = _planted(start)
        w = model.windows(planted)
        s = window_scores(model, w.X)
        flagged = np.flatnonzero((s > model.threshold) & (w.object_id == "synthetic:2-1")
                                 & (w.end >= t0).to_numpy() & (w.start <= t1).to_numpy())
        assert len(flagged), start
        attr, delta, scores = attribute(model, w.X[flagged], n_steps=32)
        assert attr.shape == (len(flagged), model.params.window, len(FEATURES))
        assert (delta / scores).max() < 0.05                   # completeness error under 5 % of the score
        sa = step_attributions(w, flagged, attr)
        peak = sa.loc[sa[FEATURES].abs().sum(axis=1).idxmax(), "timestamp"]
        assert t0 <= peak <= t1, (start, peak, t0, t1)


def test_summary_names_inputs_and_times():
    ts = pd.date_range("2024-01-01 14:00", periods=20, freq="1min", tz="UTC")
    sa = pd.DataFrame(0.0, index=range(20), columns=FEATURES)
    sa.loc[2:20, "cog_sin"] = 1.0; sa.loc[2:20, "cog_cos"] = -1.0     # course changes from 14:02 to 14:19
    sa.loc[15, "speed_kn"] = 9.0                                        # one speed spike at 14:15
    sa.insert(0, "timestamp", ts); sa.insert(0, "step", range(20))
    assert summarise(sa) == "the score comes mostly from course changes between 14:02 and 14:19 (80%) and speed at 14:15 (20%)"
    assert summarise(sa.assign(speed_kn=0.0)).endswith("course changes between 14:02 and 14:19 (100%)")


def test_explained_events_carry_sentence_attributions_and_chart():
    model, _ = tiny_model()
    planted, t0, t1 = _planted(300)
    an = score_anomalies(model, planted, explain=True)
    hit = an[(an.object_id == "synthetic:2-1") & (an.start <= t1) & (an.end >= t0)]
    assert len(hit) == 1
    text = hit.explanation.iloc[0]
    assert "the score comes mostly from" in text and "%" in text
    att = json.loads(hit.evidence.iloc[0])["attributions"]
    assert att["method"] == "IntegratedGradients" and att["features"] == FEATURES and att["completeness_error"] < 0.05
    steps = pd.to_datetime([s[0] for s in att["steps"]], utc=True)
    assert steps.min() <= t1 and steps.max() >= t0
    sa = pd.DataFrame([s[1:] for s in att["steps"]], columns=FEATURES).assign(timestamp=steps)
    svg = attribution_chart(sa)
    assert "<svg" in svg and len(svg) < 200_000
    assert base64.b64decode(attribution_chart(sa, fmt="png"))[:4] == b"\x89PNG"
