"""Per-place exceedance test: is this place far above what we would expect.

The question (distinct from Gi*'s "is there a cluster of high values here?"): *does
this 50 m cell hold far more incidents than an even spread over the district would
put there?* It is asked of every cell of a common grid over the study region, never
finer than 50 m (police.uk moves incidents to anonymous map points, each the
catchment of at least 8 addresses):

* **Baseline** (area): a cell's expected count is ``N x a / A`` (``N`` incidents in
  the region of area ``A``; ``a`` the cell's area *inside* the region, so cells
  clipped by the boundary expect less).
* **Model.** ``"poisson"`` (default): ``p = P(X >= c)`` with ``X ~ Poisson(expected)``.
  ``"nb"``: negative binomial with the same mean and variance ``mu + alpha mu²``,
  ``alpha`` by the method of moments over all cells; it asks "far above even given how
  clumped incidents are across the district" and flags only the most extreme places.
* **Multiple testing.** Benjamini-Hochberg over *every* cell of the region (empty ones
  included), so picking hotspots first does not shrink the correction.
* **A hotspot** takes the smallest p-value of the cells it covers (``p_value``), the
  smallest BH-adjusted one (``p_adjusted``) and ``significant = p_adjusted < alpha``:
  "at least one of its cells is far above expectation".

Calibration: on uniform random points inside the district (nothing to find) the share
of runs with any significant cell stays under ``alpha`` (``tests/hotspots/
test_significance.py``), and planted clusters are found.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.stats import nbinom, poisson

from geo_ssgp.config import CRS_BNG
from geo_ssgp.errors import BadInput
from geo_ssgp.hotspots.gistar import adjust_pvalues
from geo_ssgp.hotspots.grid import Grid, grid_count, make_grid, region_geometry

#: The unit of the test: police.uk map-point precision.
SIGNIFICANCE_CELL_M = 50.0
#: Exceedance models.
MODELS = ("poisson", "nb")
#: Adjusted-p cut for ``significant``.
DEFAULT_ALPHA = 0.05


def nb_dispersion(counts: np.ndarray, expected: np.ndarray) -> float:
    """Method-of-moments ``alpha`` of ``var = mu + alpha mu²`` (0 when not overdispersed).

    Parameters
    ----------
    counts, expected : numpy.ndarray
        Observed and expected counts per cell.

    Returns
    -------
    float
    """
    excess = float(((counts - expected) ** 2 - counts).sum())
    return max(0.0, excess / float((expected**2).sum()))


def exceedance_pvalues(
    counts: np.ndarray, expected: np.ndarray, model: str = "poisson"
) -> np.ndarray:
    """Upper-tail p-values ``P(X >= count)`` of each cell under the model.

    Parameters
    ----------
    counts : numpy.ndarray
        Observed integer counts.
    expected : numpy.ndarray
        Expected counts (> 0).
    model : {"poisson", "nb"}

    Returns
    -------
    numpy.ndarray
    """
    if model not in MODELS:
        raise BadInput(f"model must be one of {MODELS}, not {model!r}", param="model")
    counts = np.asarray(counts, dtype=float)
    expected = np.asarray(expected, dtype=float)
    alpha = nb_dispersion(counts, expected) if model == "nb" else 0.0
    if alpha == 0.0:
        return poisson.sf(counts - 1, expected)
    size = 1.0 / alpha
    return nbinom.sf(counts - 1, size, size / (size + expected))


def cell_exceedance(
    grid: Grid, incidents: gpd.GeoDataFrame, model: str = "poisson"
) -> pd.DataFrame:
    """The exceedance test on every cell of a grid.

    Parameters
    ----------
    grid : Grid
        Cells over the study region (``area_m2`` inside the region).
    incidents : geopandas.GeoDataFrame
        Points, EPSG:27700.
    model : {"poisson", "nb"}

    Returns
    -------
    pandas.DataFrame
        Indexed like ``grid.cells``: ``count``, ``expected``, ``p_value``,
        ``p_adjusted`` (Benjamini-Hochberg over all cells).
    """
    counts = grid_count(grid, incidents).to_numpy()
    area = grid.cells["area_m2"].to_numpy()
    expected = counts.sum() * area / area.sum()
    p = exceedance_pvalues(counts, expected, model) if counts.sum() else np.ones(len(counts))
    return pd.DataFrame(
        {
            "count": counts,
            "expected": expected,
            "p_value": p,
            "p_adjusted": adjust_pvalues(p, "fdr_bh"),
        },
        index=grid.cells.index,
    )


def _cells_of(hotspots: gpd.GeoDataFrame, grid: Grid) -> pd.DataFrame:
    """Pairs (hotspot position, cell position) of the cells each hotspot covers.

    The cells whose centre lies in the hotspot, and the cell holding the hotspot's
    representative point (so a map point or a hotspot smaller than a cell has one).
    """
    geoms = hotspots.geometry.values
    centres = shapely.points(grid.cells["x"].to_numpy(), grid.cells["y"].to_numpy())
    hot_i, cell_i = shapely.STRtree(centres).query(geoms, predicate="contains")
    rep = shapely.point_on_surface(geoms)
    own = grid.locate(shapely.get_x(rep), shapely.get_y(rep))
    inside = own >= 0
    pairs = pd.DataFrame(
        {
            "hotspot": np.concatenate([hot_i, np.flatnonzero(inside)]),
            "cell": np.concatenate([cell_i, own[inside]]),
        }
    )
    return pairs.drop_duplicates(ignore_index=True)


def hotspot_significance(
    hotspots: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    region: gpd.GeoDataFrame | shapely.Geometry,
    *,
    model: str = "poisson",
    alpha: float = DEFAULT_ALPHA,
    cell_size: float = SIGNIFICANCE_CELL_M,
) -> pd.DataFrame:
    """``p_value``, ``p_adjusted`` and ``significant`` of every hotspot.

    Parameters
    ----------
    hotspots : geopandas.GeoDataFrame
        Hotspot polygons or points, EPSG:27700.
    incidents : geopandas.GeoDataFrame
        The incidents the layer was built from.
    region : GeoDataFrame or shapely.Geometry
        Study region (the baseline's area).
    model : {"poisson", "nb"}
    alpha : float
        Cut on the adjusted p-value.
    cell_size : float
        Test unit in metres (at least 50).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``hotspots``: ``p_value``, ``p_adjusted``, ``significant``.
    """
    if not cell_size >= SIGNIFICANCE_CELL_M:
        raise BadInput(f"cell_size must be at least {SIGNIFICANCE_CELL_M:g} m", param="cell_size")
    grid = make_grid(region_geometry(region), cell_size=cell_size)
    tests = cell_exceedance(grid, incidents, model)
    pairs = _cells_of(hotspots, grid)
    pairs["p_value"] = tests["p_value"].to_numpy()[pairs["cell"]]
    pairs["p_adjusted"] = tests["p_adjusted"].to_numpy()[pairs["cell"]]
    best = pairs.groupby("hotspot")[["p_value", "p_adjusted"]].min()
    out = pd.DataFrame({"p_value": 1.0, "p_adjusted": 1.0}, index=range(len(hotspots)))
    out.loc[best.index, ["p_value", "p_adjusted"]] = best.to_numpy()
    out["significant"] = out["p_adjusted"] < alpha
    out.index = hotspots.index
    return out


def significance_parameters(model: str = "poisson", alpha: float = DEFAULT_ALPHA) -> dict:
    """How ``p_value`` / ``p_adjusted`` / ``significant`` were computed, for a layer."""
    return {
        "question": "is a cell of this hotspot far above an even spread over the region?",
        "unit": f"{SIGNIFICANCE_CELL_M:g} m cells (police.uk map-point precision)",
        "baseline": "incidents x cell area inside the region / region area",
        "model": model,
        "p_adjust": "Benjamini-Hochberg over every cell of the region",
        "alpha": float(alpha),
        "hotspot_p": "smallest p of the cells the hotspot covers",
    }


def uniform_points(
    region: gpd.GeoDataFrame | shapely.Geometry, n: int, seed: int
) -> gpd.GeoDataFrame:
    """``n`` seeded uniform random points inside the region: data with nothing in it.

    Parameters
    ----------
    region : GeoDataFrame or shapely.Geometry
        EPSG:27700.
    n : int
    seed : int

    Returns
    -------
    geopandas.GeoDataFrame
        Points with a ``month`` column (2025-01), EPSG:27700.
    """
    geom = region_geometry(region)
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = geom.bounds
    share = geom.area / ((xmax - xmin) * (ymax - ymin))
    found = np.empty((0, 2))
    while len(found) < n:
        draw = rng.uniform((xmin, ymin), (xmax, ymax), (int(1.2 * (n - len(found)) / share) + 8, 2))
        inside = shapely.contains_xy(geom, draw[:, 0], draw[:, 1])
        found = np.vstack([found, draw[inside]])
    found = found[:n]
    return gpd.GeoDataFrame(
        {"month": np.full(n, np.datetime64("2025-01-01"))},
        geometry=gpd.points_from_xy(found[:, 0], found[:, 1]),
        crs=CRS_BNG,
    )


def segment_exceedance(
    counts: np.ndarray, length_m: np.ndarray, model: str = "poisson"
) -> pd.DataFrame:
    """The exceedance test on street segments against a street-length baseline.

    It answers *does this street segment hold far more incidents than an even spread
    over the street length would put on it?* A segment's expected count is
    ``N x l / L`` (``N`` incidents on ``L`` metres of street, ``l`` the segment's
    length); p-values as in :func:`exceedance_pvalues`, Benjamini-Hochberg over every
    segment given (empty ones included).

    Parameters
    ----------
    counts : numpy.ndarray
        Incidents per segment.
    length_m : numpy.ndarray
        Segment lengths in metres (> 0).
    model : {"poisson", "nb"}

    Returns
    -------
    pandas.DataFrame
        ``count``, ``expected``, ``p_value``, ``p_adjusted``, one row per segment.
    """
    counts = np.asarray(counts, dtype=float)
    length = np.asarray(length_m, dtype=float)
    expected = counts.sum() * length / length.sum()
    p = exceedance_pvalues(counts, expected, model) if counts.sum() else np.ones(len(counts))
    return pd.DataFrame(
        {
            "count": counts.astype(np.int64),
            "expected": expected,
            "p_value": p,
            "p_adjusted": adjust_pvalues(p, "fdr_bh"),
        }
    )


def street_significance_parameters(model: str = "poisson", alpha: float = DEFAULT_ALPHA) -> dict:
    """How a street-segment layer's ``p_value`` / ``p_adjusted`` / ``significant`` were made."""
    return {
        "question": "does this street segment hold far more incidents than an even spread "
        "over the street length would put on it?",
        "unit": "street segments (junction to junction)",
        "baseline": "incidents snapped to streets x segment length / street length",
        "model": model,
        "p_adjust": "Benjamini-Hochberg over every street segment of the region",
        "alpha": float(alpha),
        "hotspot_p": "the segment's own p",
    }
