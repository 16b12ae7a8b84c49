"""The API over a real uvicorn server on 127.0.0.1 and a store built from the shipped samples: OGC API - Features shapes,
paging, errors as problem+json, MF-JSON trajectories, explanations, detection, verdicts, the map, the SSE stream, and the
same anomalies as `oceanguard anomalies list`."""
import json
import threading
import time

import httpx
import pandas as pd
import pytest

from oceanguard.cli import main
from oceanguard.store import load_anomalies, load_positions, save_anomalies
from service_server import Server, build_store

GEOJSON = "application/geo+json"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("svc"))


@pytest.fixture(scope="module")
def api(store):
    s = Server(store)
    yield httpx.Client(base_url=s.url, timeout=60)
    s.stop()


def problem(r, status, param=None):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    if param: assert body["parameter"] == param, body
    return body


def test_landing_conformance_and_collections(api):
    links = {l["rel"]: l for l in api.get("/").json()["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(links)
    assert api.get(links["service-desc"]["href"]).json()["openapi"].startswith("3.")
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in api.get("/conformance").json()["conformsTo"]
    ids = [c["id"] for c in api.get("/collections").json()["collections"]]
    assert ids == ["positions", "objects", "anomalies"]
    items = [l for l in api.get("/collections/positions").json()["links"] if l["rel"] == "items"]
    assert items and items[0]["type"] == GEOJSON


def test_positions_page_is_geojson_with_next_link(api, store):
    r = api.get("/collections/positions/items", params={"bbox": "10,56,13,58", "datetime": "2022-10-15T00:00:00Z/2022-10-15T12:00:00Z", "limit": 20})
    assert r.status_code == 200 and r.headers["content-type"] == GEOJSON
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and fc["numberReturned"] == 20 and "numberMatched" not in fc and fc["timeStamp"].endswith("Z")
    for f in fc["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert 10 <= lon <= 13 and 56 <= lat <= 58 and "2022-10-15T00:00" <= f["properties"]["timestamp"] <= "2022-10-15T12:00"
    want = load_positions(store, bbox=(10, 56, 13, 58), start="2022-10-15T00:00Z", end="2022-10-15T12:00Z")
    ids, url = [], r.request.url
    while url:                                                   # follow `next` to the end: every match once
        page = api.get(str(url), params=None).json()
        ids += [f["id"] for f in page["features"]]
        url = next((l["href"] for l in page["links"] if l["rel"] == "next"), None)
        if len(ids) > 20: url = url and url.replace("limit=20", "limit=2000")
    assert len(ids) == len(want) == len(set(ids))              # ids unique even for two reports of one instant (raw line)


def test_same_anomalies_as_the_cli(api, store, capsys):
    bbox, start, end = "8,54,13,58", "2021-01-01T00:00:00Z", "2022-12-31T00:00:00Z"
    assert main(["anomalies", "list", str(store), f"--bbox={bbox}", "--start", start, "--end", end, "--format", "json"]) == 0
    cli = [a["anomaly_id"] for a in json.loads(capsys.readouterr().out)]
    fc = api.get("/collections/anomalies/items", params={"bbox": bbox, "datetime": f"{start}/{end}", "limit": 10000}).json()
    assert [f["id"] for f in fc["features"]] == cli and fc["numberMatched"] == len(cli) and len(cli) > 0
    every = api.get("/collections/anomalies/items", params={"limit": 10000}).json()
    assert every["numberMatched"] == len(load_anomalies(store)) > len(cli)


@pytest.mark.parametrize("url,status,param", [
    ("/collections/positions/items?bbox=1,2,3", 400, "bbox"), ("/collections/positions/items?bbox=0,10,1,5", 400, "bbox"),
    ("/collections/positions/items?bbox=a,b,c,d", 400, "bbox"), ("/collections/positions/items?datetime=2020-02-30T00:00:00Z", 400, "datetime"),
    ("/collections/anomalies/items?datetime=2020-01-02T00:00:00Z/2020-01-01T00:00:00Z", 400, "datetime"),
    ("/collections/anomalies/items?datetime=../..", 400, "datetime"), ("/collections/positions/items?limit=0", 400, "limit"),
    ("/collections/positions/items?limit=ten", 400, "limit"), ("/collections/positions/items?offset=-3", 400, "offset"),
    ("/collections/anomalies/items?severity=extreme", 400, "severity"), ("/collections/harbours/items", 404, "collectionId"),
    ("/collections/harbours", 404, "collectionId"), ("/collections/anomalies/items/nope", 404, "featureId"),
    ("/collections/objects/items/no-such-vessel/tgsequence", 404, "featureId"), ("/anomalies/nope", 404, "anomaly_id"),
    ("/models/v9", 404, "version"), ("/no/such/path", 404, None)])
def test_errors_are_problem_json(api, url, status, param):
    problem(api.get(url), status, param)


def test_limit_above_maximum_is_served_as_maximum(api):
    fc = api.get("/collections/positions/items", params={"limit": 20000}).json()
    assert fc["numberReturned"] == 5186 and "next" not in {l["rel"] for l in fc["links"]}   # all 5186 positions of the store in one page


def test_features_trajectory_and_explanation(api, store):
    an = load_anomalies(store)
    a = an.iloc[0]
    f = api.get(f"/collections/anomalies/items/{a.anomaly_id}").json()
    assert f["id"] == a.anomaly_id and f["geometry"]["coordinates"] == [a.lon, a.lat]
    e = api.get(f"/anomalies/{a.anomaly_id}").json()
    assert e["explanation"] == a.explanation and e["evidence"] == json.loads(a.evidence)
    o = api.get("/collections/objects/items/mmsi:219000734").json()
    assert o["properties"]["name"] == "ANE LAESOE" and o["geometry"] is None
    ferry = load_positions(store, object_ids=["mmsi:219000734"])
    a, b = ferry["timestamp"].iloc[100], ferry["timestamp"].iloc[300]
    iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    tg = api.get("/collections/objects/items/mmsi:219000734/tgsequence", params={"datetime": f"{iso(a)}/{iso(b)}"})
    mp = tg.json()["geometrySequence"][0]
    want = ferry[ferry["timestamp"].between(a, b)]
    assert len(want) >= 201
    assert mp["type"] == "MovingPoint" and mp["interpolation"] == "Linear" and len(mp["datetimes"]) == len(mp["coordinates"]) == len(want)
    assert mp["datetimes"] == sorted(mp["datetimes"])
    p = api.get("/collections/positions/items", params={"object_id": "mmsi:219000734", "limit": 1}).json()["features"][0]
    assert api.get(f"/collections/positions/items/{p['id']}").json()["properties"]["timestamp"] == p["properties"]["timestamp"]


CSV = "mmsi,timestamp,lat,lon,sog\n219000001,2020-01-01T00:00:00Z,55.0,12.0,10\n219000001,2020-01-01T00:01:00Z,55.001,12.0,10\n219000001,2020-01-01T00:02:00Z,57.0,12.0,10\n"


def test_detect_on_posted_csv_geojson_and_records(api):
    a = api.post("/detect", content=CSV, headers={"content-type": "text/csv"}).json()
    assert "teleport" in {x["kind"] for x in a["anomalies"]} and a["n_positions"] == 3 and a["model"].startswith("rules only")
    df = pd.read_csv(pd.io.common.StringIO(CSV))
    gj = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                                                     "properties": {"mmsi": int(r.mmsi), "timestamp": r.timestamp}} for r in df.itertuples()]}
    b = api.post("/detect", json=gj, headers={"content-type": GEOJSON}).json()
    c = api.post("/detect", json=df.to_dict("records")).json()
    kinds = lambda r: sorted((x["kind"], x["start"]) for x in r["anomalies"])
    assert kinds(a) == kinds(b) == kinds(c)
    problem(api.post("/detect", content="mmsi,lat\n1,2\n", headers={"content-type": "text/csv"}), 400, "timestamp")
    problem(api.post("/detect", content="{not json", headers={"content-type": "application/json"}), 400, "body")
    problem(api.post("/detect", json={"type": "FeatureCollection", "features": [{"geometry": {"type": "LineString"}}]}), 400, "features")
    problem(api.post("/detect", content=CSV, headers={"content-type": "text/csv"}, params={"kinds": "piracy"}), 400, "kinds")


def test_detect_appends_a_prediction_record(api, store):
    from oceanguard.records import RecordBook
    before = len(RecordBook(store).records())
    r = api.post("/detect", content=CSV, headers={"content-type": "text/csv"}).json()
    recs = RecordBook(store).records()
    assert len(recs) == before + 1 and RecordBook(store).verify() == []
    assert (recs[-1]["batch_id"], recs[-1]["operation"], recs[-1]["operator"], recs[-1]["counts"]["anomalies"]) == (r["batch_id"], "api:detect", "anonymous", len(r["anomalies"]))


def test_verdicts(api, store, tmp_path):
    aid = load_anomalies(store)["anomaly_id"].iloc[1]
    r = api.post("/labels", json={"anomaly_id": aid, "verdict": "false_alarm", "author": "ana", "note": "pilot boat"})
    a = load_anomalies(store).set_index("anomaly_id").loc[aid]
    assert r.status_code == 201 and (r.json()["kind"], r.json()["verdict"], r.json()["anomaly_id"]) == (a["kind"], "false_alarm", aid)
    assert api.get(f"/anomalies/{aid}").json()["verdicts"][-1]["verdict"] == "false_alarm"
    problem(api.post("/labels", json={"anomaly_id": "nope", "verdict": "confirmed"}), 404, "anomaly_id")
    problem(api.post("/labels", json={"anomaly_id": aid, "verdict": "maybe"}), 400, "verdict")
    problem(api.post("/labels", json={"verdict": "confirmed"}), 400, "anomaly_id")
    from oceanguard.labels import LabelStore, anomaly_verdicts
    v = anomaly_verdicts(LabelStore(store / "labels").load()).set_index("anomaly_id")
    assert (v.loc[aid, "verdict"], v.loc[aid, "author"], v.loc[aid, "note"]) == ("false_alarm", "ana", "pilot boat")
    from oceanguard.evaluate import investigator_precision            # the evaluation counts the API's verdict
    assert investigator_precision(load_anomalies(store), LabelStore(store / "labels").load())["false_alarm"] >= 1


def test_map_health_models(api, store):
    r = api.get("/map", params={"bbox": "10.5,57,11.5,57.6", "datetime": "2022-10-15T00:00:00Z/2022-10-16T00:00:00Z"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html") and "window.OG_DATA" in r.text
    problem(api.get("/map", params={"bbox": "-10,-10,-9,-9"}), 404, "bbox")
    h = api.get("/health").json()
    assert h["positions"]["rows"] == len(load_positions(store)) and h["anomalies"]["rows"] == len(load_anomalies(store))
    assert api.get("/models").json() == {"models": []}


def test_sse_stream_delivers_upserts_from_another_writer(api, store):
    events, ready = [], threading.Event()
    def listen(headers=None, n=1):
        with httpx.Client(base_url=str(api.base_url), timeout=30) as c:
            with c.stream("GET", "/anomalies/stream", params={"max_events": n, "timeout": 20}, headers=headers or {}) as r:
                assert r.headers["content-type"].startswith("text/event-stream")
                ready.set()
                ev = {}
                for line in r.iter_lines():
                    if line.startswith("id:"): ev["id"] = line[3:].strip()
                    elif line.startswith("data:"): ev["data"] = json.loads(line[5:].strip())
                    elif line == "" and "data" in ev: events.append((time.monotonic(), ev)); ev = {}
    t = threading.Thread(target=listen); t.start()
    assert ready.wait(20); time.sleep(0.5)
    one = load_anomalies(store).iloc[:1].assign(severity="high", explanation="updated by the live feed")
    t0 = time.monotonic()
    save_anomalies(store, one, run_id="listener")                        # what `oceanguard listen` does, from another writer
    t.join(25)
    assert len(events) == 1, events
    at, ev = events[0]
    assert ev["data"]["anomaly_id"] == one["anomaly_id"].iloc[0] and ev["data"]["explanation"] == "updated by the live feed"
    assert at - t0 < 1.5, f"event reached the client {at - t0:.2f} s after the commit"
    assert ev["id"].startswith(one["anomaly_id"].iloc[0] + "@")
    # a client that reconnects with Last-Event-ID gets what was upserted after it, not what it saw
    two = load_anomalies(store).iloc[1:2].assign(severity="low")
    save_anomalies(store, two, run_id="listener")
    events.clear(); ready.clear()
    t = threading.Thread(target=listen, kwargs={"headers": {"Last-Event-ID": ev["id"]}}); t.start(); t.join(25)
    assert [e["data"]["anomaly_id"] for _, e in events] == two["anomaly_id"].tolist()
