"""Integrated Gradients explanations of the track model's anomalies: completeness, words, evidence, chart."""
import base64
import json

import numpy as np

from oceanguard.models.explain import GROUPS, attribute_stretch, attribution_chart, summarise
from oceanguard.models.lstm import model_steps, score_anomalies
from model_fixtures import planted, tiny_model


def test_explained_anomaly_carries_words_and_complete_attributions():
    model, _ = tiny_model()
    pos, t0, t1 = planted("slow")
    an = score_anomalies(model, pos, explain=True)
    hit = an[(an.object_id == "slow") & (an.start <= t1) & (an.end >= t0)]
    assert len(hit) >= 1
    text = hit.explanation.iloc[0]
    assert "the model's doubt comes mostly from" in text and "kn" in text
    ev = json.loads(hit.evidence.iloc[0])["attributions"]
    assert ev["method"] == "IntegratedGradients" and ev["features"] == list(GROUPS)
    assert ev["completeness_error"] < 0.05                      # IG sums to the explained NLL within 5 %
    assert len(ev["steps"]) >= 3 and all(len(s) == 1 + len(GROUPS) for s in ev["steps"])


def test_attributions_point_at_the_anomalous_minutes():
    model, _ = tiny_model()
    pos, t0, t1 = planted("slow")
    st = model_steps(pos)
    rows = np.flatnonzero((st.object_id == "slow").to_numpy())
    a, b = rows[5], rows[15]
    attr, rel = attribute_stretch(model, st, a, b)
    assert rel < 0.05
    inside = np.arange(len(attr)) >= len(attr) - (b - a + 1)          # the explained reports are the last rows
    assert attr.loc[inside, list(GROUPS)].to_numpy().sum() > attr.loc[~inside, list(GROUPS)].to_numpy().sum()
    assert summarise(attr).startswith("the model's doubt comes mostly from")
    svg = attribution_chart(attr)
    assert svg.lstrip().startswith("<?xml") and "what drives the model" in svg
    assert base64.b64decode(attribution_chart(attr, fmt="png"))[:4] == b"\x89PNG"
