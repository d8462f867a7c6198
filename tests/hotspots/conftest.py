"""Constructed point patterns with known answers, shared by the hotspot method tests.

A 5 x 5 km box at BNG (300000, 200000), 100 square 500 m "areas" over it, uniform noise
and planted discs. Test modules cannot import each other (``--import-mode=importlib``),
so the builders come as the ``synth`` fixture: ``synth.points(synth.uniform(0))``.
"""

from __future__ import annotations

import geopandas as gpd
import libpysal
import numpy as np
import pytest
import shapely

from geo_ssgp.pack import load_layer


class Synth:
    """Builders of constructed incident points (EPSG:27700) around one origin."""

    X0, Y0 = 300000.0, 200000.0
    #: Centre of the box: a corner shared by four 500 m areas.
    CENTRE = shapely.Point(X0 + 2500.0, Y0 + 2500.0)

    @staticmethod
    def points(xy: np.ndarray, month: str = "2025-01-01") -> gpd.GeoDataFrame:
        """Incidents at ``xy`` (n x 2 BNG metres), all in one month."""
        return gpd.GeoDataFrame(
            {"month": np.full(len(xy), np.datetime64(month))},
            geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
            crs="EPSG:27700",
        )

    @classmethod
    def uniform(cls, seed: int, n: int = 2000) -> np.ndarray:
        """``n`` seeded uniform coordinates over the 5 km box."""
        return np.random.default_rng(seed).uniform(0, 5000, (n, 2)) + [cls.X0, cls.Y0]

    @staticmethod
    def disc(seed: int, centre: tuple[float, float], n: int = 200, radius: float = 150.0):
        """``n`` seeded coordinates uniform over a disc."""
        rng = np.random.default_rng(seed)
        r = radius * np.sqrt(rng.uniform(0, 1, n))
        theta = rng.uniform(0, 2 * np.pi, n)
        return np.column_stack([centre[0] + r * np.cos(theta), centre[1] + r * np.sin(theta)])

    @staticmethod
    def on_streets(segments: gpd.GeoDataFrame, n: int, seed: int) -> np.ndarray:
        """``n`` seeded coordinates on the segments, each drawn in proportion to its length."""
        rng = np.random.default_rng(seed)
        length = segments["length_m"].to_numpy()
        pick = rng.choice(len(segments), n, p=length / length.sum())
        lines = segments.geometry.values[pick]
        return shapely.get_coordinates(
            shapely.line_interpolate_point(lines, rng.uniform(0.0, 1.0, n), normalized=True)
        )


@pytest.fixture(scope="session")
def synth() -> type[Synth]:
    """The constructed-data builders (:class:`Synth`)."""
    return Synth


@pytest.fixture(scope="module")
def box():
    """A 5 x 5 km study region."""
    x0, y0 = Synth.X0, Synth.Y0
    return gpd.GeoDataFrame(
        {"code": ["BOX"], "name": ["Box"]},
        geometry=[shapely.box(x0, y0, x0 + 5000, y0 + 5000)],
        crs="EPSG:27700",
    )


@pytest.fixture(scope="module")
def squares():
    """100 square 'areas' of 500 m covering the box (codes A<col><row>)."""
    x0, y0 = Synth.X0, Synth.Y0
    ii, jj = (a.ravel() for a in np.meshgrid(np.arange(10), np.arange(10)))
    return gpd.GeoDataFrame(
        {"code": [f"A{i}{j}" for i, j in zip(ii, jj, strict=True)], "name": "area"},
        geometry=shapely.box(
            x0 + ii * 500, y0 + jj * 500, x0 + ii * 500 + 500, y0 + jj * 500 + 500
        ),
        crs="EPSG:27700",
    )


@pytest.fixture(scope="module")
def planted():
    """2,000 uniform points over the box plus 200 in a 150 m disc at its centre.

    The centre is a corner shared by four 500 m areas, so at area level the cluster
    makes four adjacent high areas (a high-high cluster), not one outlier.
    """
    xy = np.vstack([Synth.uniform(42), Synth.disc(7, (Synth.CENTRE.x, Synth.CENTRE.y))])
    return Synth.points(xy)


@pytest.fixture
def real_lsoa_counts(sample_ok, pack):
    """Gloucester's 82 LSOA 2021 polygons, their sample counts and binary queen weights.

    Built independently of the package (pandas counts, libpysal weights) for comparing
    the area methods with direct esda calls. Fresh weights per test: esda changes
    ``w.transform`` in place.
    """
    lsoa = load_layer(pack, "lsoa21")
    counts = sample_ok["lsoa21cd"].value_counts().reindex(lsoa["code"], fill_value=0)
    w = libpysal.weights.Queen.from_dataframe(lsoa, use_index=True)
    w.transform = "B"
    return lsoa, counts, w


@pytest.fixture(scope="module")
def street_grid():
    """Street segments of a 500 m street grid over the box, split at every junction.

    220 segments of 500 m (``segment_id`` ``h<col><row>`` / ``v<col><row>``); the four
    segments meeting at the box's centre are ``h44``, ``h54``... (see :data:`Synth`).
    """
    x0, y0 = Synth.X0, Synth.Y0
    rows = []
    for i in range(10):
        for j in range(11):
            a, b = (x0 + i * 500, y0 + j * 500), (x0 + i * 500 + 500, y0 + j * 500)
            rows.append((f"h{i}{j}", f"Row {j} Street", shapely.LineString([a, b])))
            a, b = (x0 + j * 500, y0 + i * 500), (x0 + j * 500, y0 + i * 500 + 500)
            rows.append((f"v{j}{i}", f"Column {j} Road", shapely.LineString([a, b])))
    ids, names, lines = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {
            "segment_id": ids,
            "name": names,
            "road_class": "residential",
            "ward_cd": "W1",
            "ward_nm": "Grid Ward",
            "in_area": True,
            "length_m": 500.0,
        },
        geometry=list(lines),
        crs="EPSG:27700",
    )
