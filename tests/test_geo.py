"Geography on the shipped layers: nearest port, seas, land, great-circle helpers."
import numpy as np
import pandas as pd
import pytest
from geopy.distance import geodesic

from oceanguard.core import OceanguardError
from oceanguard.geo import (NM, PortIndex, distance_to_port_nm, from_local_xy, geodesic_m, haversine_m,
                            initial_bearing, load_ports, nearest_port, on_land, sea_name, to_local_xy)
from oceanguard.readers import read_dma


@pytest.fixture(scope="module")
def ferry():
    from oceanguard.core import sample_path
    return read_dma(sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv")).positions


def test_ports_loaded_with_bad_rows_counted():
    p = load_ports()
    assert (p.kind == "port").sum() == 3_669 and (p.kind == "anchorage").sum() == 60_410 - 2
    assert p.attrs["dropped"] == {"label_REMOVE": 1, "coordinate_out_of_range": 1}
    assert not p.name.eq("REMOVE").any() and p.lon.between(-180, 180).all()


def test_ferry_berths_are_in_port_and_open_sea_is_not(ferry):
    near = nearest_port(ferry.lat.iloc[[0, -1]], ferry.lon.iloc[[0, -1]])      # moored at Laeso, then Frederikshavn
    assert (near.dist_nm < 1.0).all()
    assert near.port.iloc[-1] == "FREDERIKSHAVN"
    assert distance_to_port_nm(58.0, 9.3)[0] > 10                               # middle of the Skagerrak
    d = distance_to_port_nm(ferry.lat, ferry.lon)
    assert d.shape == (len(ferry),) and 2 < d.max() < 6


def test_antimeridian_distance():
    # Malai (Fiji) is at 179.37 E; a point at 179.95 W is 0.68 degrees east of it, not 359 degrees west.
    m = nearest_port([-16.35], [-179.95])
    assert m.port[0] == "MALAI"
    assert m.dist_nm[0] == pytest.approx(haversine_m(-16.35, -179.95, -16.35, 179.366667) / NM, rel=1e-6)
    assert m.dist_nm[0] < 45
    assert haversine_m(0, 179.9, 0, -179.9) == pytest.approx(haversine_m(0, -0.1, 0, 0.1))
    assert initial_bearing(0, 179.9, 0, -179.9) == pytest.approx(90.0)
    assert geodesic_m(-16.35, 179.95, -16.35, -179.95) == pytest.approx(geodesic((-16.35, 179.95), (-16.35, -179.95)).m, rel=1e-6)


def test_index_matches_brute_force_and_handles_nan():
    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(-75, 75, 300), rng.uniform(-180, 180, 300)
    p = load_ports()
    brute = haversine_m(lat[:, None], lon[:, None], p.lat.to_numpy()[None], p.lon.to_numpy()[None]).min(1) / NM
    np.testing.assert_allclose(distance_to_port_nm(lat, lon), brute, rtol=1e-9, atol=1e-9)
    d, i = PortIndex.default().query([np.nan], [0.0])
    assert np.isnan(d[0]) and i[0] == -1
    with pytest.raises(OceanguardError, match="lacks column"):
        PortIndex(pd.DataFrame({"lat": [0.0], "lon": [0.0]}))


def test_sea_names_and_land(ferry):
    assert sea_name([57.1, 58.0, 55.7], [11.4, 9.3, 12.0]).tolist() == ["Kattegat", "Skagerrak", None]
    assert set(sea_name(ferry.lat, ferry.lon)) == {"Kattegat"}
    assert on_land([56.2, 57.1], [9.5, 11.4]).tolist() == [True, False]          # central Jutland, Kattegat
    # The 1:10m coastline puts the moored ferry at Frederikshavn on land; the default tolerance does not.
    assert on_land(ferry.lat, ferry.lon, tolerance_m=0).sum() > 50
    assert on_land(ferry.lat, ferry.lon).sum() == 0
    with pytest.raises(OceanguardError, match="tolerance_m"):
        on_land(0, 0, tolerance_m=-5)


def test_local_projection_round_trip(ferry):
    x, y = to_local_xy(ferry.lat, ferry.lon, 57.37, 10.73)
    la, lo = from_local_xy(x, y, 57.37, 10.73)
    np.testing.assert_allclose(la, ferry.lat, atol=1e-9); np.testing.assert_allclose(lo, ferry.lon, atol=1e-9)
    np.testing.assert_allclose(np.hypot(x, y), haversine_m(ferry.lat, ferry.lon, 57.37, 10.73), rtol=1e-9)
