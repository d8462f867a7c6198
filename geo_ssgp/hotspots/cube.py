"""The space-time cube: incident counts per place and time step, empty bins as zeros.

A cube bins incidents by *place* (square grid cells of a stated size, or LSOAs) and by
*time step* (calendar month by default; ISO week or day only where the source carries
dates, i.e. local logs with an ``occurred_at`` column — police.uk publishes months only).
Every place x step bin exists; a bin without incidents holds 0, never a missing value.

Places cover the area the incidents cover: grid cells over the study region intersected
with the convex hull of the incidents (buffered by half a cell); LSOAs whose inside point
lies there or that hold an incident. So an extract around one town (the police.uk API
radius file) does not turn the rest of the district into empty "cold" cells. The cube
carries the binary spatial adjacency of its places (queen: grid cells touching at an edge
or corner; LSOAs sharing a boundary point), which the emerging hotspot analysis extends
over time. Exports: a long table (one row per bin) as GeoParquet, or CSV without geometry
(``place_id`` and ``code`` join it to the GeoParquet).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from geo_ssgp.config import CRS_BNG
from geo_ssgp.errors import BadInput, NotEnoughData
from geo_ssgp.filters import Filters
from geo_ssgp.geocode import inside_area
from geo_ssgp.hotspots.grid import (
    grid_adjacency,
    make_grid,
    point_xy,
    region_geometry,
    study_region,
)
from geo_ssgp.pack import AreaPack, load_layer

#: Place units a cube can be built on.
UNITS = ("grid", "lsoa")
#: Time steps and the pandas period frequency of each.
STEPS = {"month": "M", "week": "W-SUN", "day": "D"}
#: Cell size of ``unit="grid"`` when none is given, metres.
DEFAULT_CELL_SIZE = 100.0


@dataclass
class SpaceTimeCube:
    """Counts per place (columns) and time step (rows).

    Attributes
    ----------
    places : geopandas.GeoDataFrame
        One row per place: ``place_id`` (0..n-1), ``code`` (cell ``r<row>c<col>`` or LSOA
        code), ``name``, geometry (EPSG:27700).
    steps : pandas.PeriodIndex
        The time steps, ascending and contiguous.
    counts : numpy.ndarray
        ``(n_steps, n_places)`` integer counts; zeros where nothing happened.
    adjacency : scipy.sparse.csr_matrix
        ``n_places x n_places`` binary spatial adjacency (no self-neighbours).
    parameters : dict
        Unit, cell size, step, period, filters: how the cube was made.
    """

    places: gpd.GeoDataFrame
    steps: pd.PeriodIndex
    counts: np.ndarray
    adjacency: sparse.csr_matrix
    parameters: dict = field(default_factory=dict)

    @property
    def step_labels(self) -> list[str]:
        """Time steps as text (``YYYY-MM``, ``YYYY-MM-DD`` for the first day of a week/day)."""
        if self.steps.freqstr.startswith("M"):
            return [str(p) for p in self.steps]
        return [p.start_time.strftime("%Y-%m-%d") for p in self.steps]

    def to_frame(self) -> gpd.GeoDataFrame:
        """The cube as a long table: one row per place x step with ``count`` (EPSG:27700)."""
        n_steps, n_places = self.counts.shape
        place_pos = np.tile(np.arange(n_places), n_steps)
        return gpd.GeoDataFrame(
            {
                "place_id": self.places["place_id"].to_numpy()[place_pos],
                "code": self.places["code"].to_numpy()[place_pos],
                "step": np.repeat(self.step_labels, n_places),
                "count": self.counts.ravel().astype(np.int64),
            },
            geometry=self.places.geometry.values[place_pos],
            crs=self.places.crs,
        )

    def export(self, path: str | Path) -> Path:
        """Write the long table: ``.parquet`` (GeoParquet) or ``.csv`` (no geometry column).

        Parameters
        ----------
        path : str or pathlib.Path
            Output file; the suffix chooses the format.

        Returns
        -------
        pathlib.Path
        """
        path = Path(path)
        frame = self.to_frame()
        if path.suffix == ".parquet":
            frame.to_parquet(path)
        elif path.suffix == ".csv":
            pd.DataFrame(frame.drop(columns="geometry")).to_csv(path, index=False)
        else:
            raise BadInput(f"cube export: use .parquet or .csv, not {path.suffix!r}", param="out")
        return path


def step_periods(incidents: pd.DataFrame, step: str) -> pd.PeriodIndex:
    """The time step of each incident (month from ``month``; week/day from ``occurred_at``).

    Parameters
    ----------
    incidents : pandas.DataFrame
        With ``month``; for ``week``/``day`` also ``occurred_at`` (NaT where only the month
        is known).
    step : {"month", "week", "day"}

    Returns
    -------
    pandas.PeriodIndex
    """
    if step not in STEPS:
        raise BadInput(f"step must be one of {tuple(STEPS)}, not {step!r}", param="step")
    if step == "month":
        return pd.PeriodIndex(pd.to_datetime(incidents["month"]), freq="M")
    when = incidents["occurred_at"] if "occurred_at" in incidents else None
    if when is None or pd.to_datetime(when).isna().any():
        raise BadInput(
            f"step={step!r} needs a date on every incident; police.uk publishes the month "
            "only (local logs with a date column have one) - use step='month'",
            param="step",
        )
    return pd.PeriodIndex(pd.to_datetime(when), freq=STEPS[step])


def coverage_region(
    incidents: gpd.GeoDataFrame, region: shapely.Geometry, margin: float
) -> shapely.Geometry:
    """The part of ``region`` the incidents cover: their convex hull buffered by ``margin``."""
    x, y = point_xy(incidents)
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([x, y])))
    return shapely.intersection(region, shapely.buffer(hull, margin))


def _grid_places(covered: shapely.Geometry, cell_size: float):
    """Square cells over the covered area: places, adjacency and a point locator."""
    grid = make_grid(covered, cell_size=cell_size, kind="square")
    cells = grid.cells
    places = gpd.GeoDataFrame(
        {
            "place_id": cells["cell_id"].to_numpy(),
            "code": [f"r{r}c{c}" for r, c in zip(cells["row"], cells["col"], strict=True)],
            "name": [f"{cell_size:.0f} m cell" for _ in range(len(cells))],
        },
        geometry=cells.geometry.values,
        crs=CRS_BNG,
    )
    return places, grid_adjacency(grid, "queen"), lambda x, y: grid.locate(x, y)


def _area_places(covered: shapely.Geometry, areas: gpd.GeoDataFrame, points: np.ndarray):
    """LSOAs holding an incident or whose inside point lies in the covered area."""
    inside = shapely.contains(covered, areas.geometry.representative_point().values)
    holding = np.unique(shapely.STRtree(areas.geometry.values).query(points, "intersects")[1])
    inside[holding] = True
    chosen = areas[inside].reset_index(drop=True)
    if chosen.empty:
        raise NotEnoughData("no LSOA lies inside the area the incidents cover")
    places = gpd.GeoDataFrame(
        {"place_id": np.arange(len(chosen)), "code": chosen["code"], "name": chosen["name"]},
        geometry=chosen.geometry.values,
        crs=CRS_BNG,
    )
    polys = places.geometry.values
    tree = shapely.STRtree(polys)
    a, b = tree.query(polys, predicate="intersects")
    keep = a != b
    n = len(places)
    adjacency = sparse.csr_matrix((np.ones(keep.sum()), (a[keep], b[keep])), shape=(n, n))

    def locate(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        pt_i, poly_i = tree.query(shapely.points(x, y), predicate="intersects")
        first = pd.DataFrame({"pt": pt_i, "poly": poly_i}).drop_duplicates("pt")
        out = np.full(len(x), -1)
        out[first["pt"].to_numpy()] = first["poly"].to_numpy()
        return out

    return places, adjacency, locate


def build_cube(
    incidents: gpd.GeoDataFrame,
    region: shapely.Geometry,
    *,
    unit: str = "grid",
    cell_size: float | None = None,
    step: str = "month",
    areas: gpd.GeoDataFrame | None = None,
) -> SpaceTimeCube:
    """Bin incidents into a place x time-step cube.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Incidents already filtered to the period and crime types (EPSG:27700).
    region : shapely.Geometry
        Study region; places are limited to the part the incidents cover.
    unit : {"grid", "lsoa"}
        Square cells of ``cell_size`` metres, or the polygons of ``areas``.
    cell_size : float, optional
        Grid cell side in metres (default :data:`DEFAULT_CELL_SIZE`).
    step : {"month", "week", "day"}
        Time step; week and day need ``occurred_at`` on every incident.
    areas : geopandas.GeoDataFrame, optional
        ``code``, ``name``, polygons (needed for ``unit="lsoa"``).

    Returns
    -------
    SpaceTimeCube
        Every step from the first to the last incident's, every covered place.
    """
    if unit not in UNITS:
        raise BadInput(f"unit must be one of {UNITS}, not {unit!r}", param="unit")
    if incidents.empty:
        raise NotEnoughData("no incidents to build a space-time cube from")
    size = float(cell_size or DEFAULT_CELL_SIZE)
    periods = step_periods(incidents, step)
    covered = coverage_region(incidents, region, size / 2.0)
    if unit == "grid":
        places, adjacency, locate = _grid_places(covered, size)
    else:
        if areas is None:
            raise BadInput("unit='lsoa' needs the LSOA polygons", param="unit")
        points = shapely.points(*point_xy(incidents))
        places, adjacency, locate = _area_places(covered, areas, points)
    steps = pd.period_range(periods.min(), periods.max(), freq=periods.freq)
    pos = locate(*point_xy(incidents))
    row = periods.asi8 - steps.asi8[0]
    ok = pos >= 0
    counts = np.zeros((len(steps), len(places)), dtype=np.int64)
    np.add.at(counts, (row[ok], pos[ok]), 1)
    parameters = {
        "unit": unit,
        "cell_size_m": size if unit == "grid" else None,
        "step": step,
        "steps": len(steps),
        "places": len(places),
        "period": {"from": str(steps[0]), "to": str(steps[-1])},
        "neighbours": "queen contiguity (binary)",
        "incidents_binned": int(ok.sum()),
        "incidents_outside_places": int((~ok).sum()),
    }
    return SpaceTimeCube(places, steps, counts, sparse.csr_matrix(adjacency), parameters)


def pack_cube(
    incidents: gpd.GeoDataFrame,
    pack: AreaPack,
    filters: Filters,
    *,
    unit: str = "grid",
    cell_size: float | None = None,
    step: str = "month",
) -> SpaceTimeCube:
    """The cube of a pack's geocoded incidents that these filters select (CLI, API, notebook).

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Geocoded incidents; rows with ``status != "ok"`` (outside the area) are left out.
    pack : AreaPack
    filters : Filters
        Period and crime types.
    unit, cell_size, step
        As :func:`build_cube` (LSOAs are the pack's finest LSOA layer).

    Returns
    -------
    SpaceTimeCube
        With the filters in ``parameters["filters"]``.
    """
    chosen = filters.apply(inside_area(incidents))
    areas = load_layer(pack, pack.primary_lsoa) if unit == "lsoa" else None
    region = region_geometry(study_region(pack))
    cube = build_cube(chosen, region, unit=unit, cell_size=cell_size, step=step, areas=areas)
    cube.parameters["filters"] = filters.as_dict()
    cube.parameters["lsoa_layer"] = pack.primary_lsoa if unit == "lsoa" else None
    return cube


__all__ = [
    "DEFAULT_CELL_SIZE",
    "STEPS",
    "UNITS",
    "SpaceTimeCube",
    "build_cube",
    "coverage_region",
    "inside_area",
    "pack_cube",
    "step_periods",
]
