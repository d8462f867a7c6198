"""Emerging hotspot analysis on a space-time cube: Gi* per bin, Mann-Kendall trend, categories.

Steps (after ArcGIS Pro's *Emerging Hot Spot Analysis*):

1. **Gi* per bin on space-time neighbours.** The neighbours of place ``i`` at step ``t``
   are ``i`` and its queen neighbours at steps ``t - k .. t`` (``neighbour_steps = k``,
   default 1, as ArcGIS's default time-step interval). One ``esda.G_Local`` (binary
   weights, ``star``) runs over every bin of the cube, so the expectation is the whole
   cube's mean. p-values are the exact total-randomisation p-values of
   :func:`geo_ssgp.hotspots.gistar.exact_pvalues` (calibrated for sparse counts), adjusted
   over all bins with :func:`~geo_ssgp.hotspots.gistar.adjust_pvalues` (Benjamini-Hochberg
   by default). A bin is *hot* (*cold*) when its adjusted p is below ``alpha`` and z > 0
   (z < 0). Question answered per bin: "is the space-time window around this place and
   step far above (below) the cube's average?"
2. **Trend.** A Mann-Kendall test on each place's Gi* z-score series, pre-whitened
   (``pymannkendall.pre_whitening_modification_test``, Yue & Wang 2002): consecutive
   windows share a step, so the z-scores are autocorrelated and the plain test
   (``original_test``) calls a trend in 12.5 % of steady series at 5 % (400 simulated
   MA(1) series of 19 steps); pre-whitened, 2.8 % (``tests/hotspots/test_emerging.py``
   keeps it at or below 5 %). Question: "is the clustering here getting stronger or
   weaker over time?" (``trend_tau``, ``trend_p``; significant when ``trend_p < alpha``).
   The first ``k`` steps are left out of the trend: their windows reach back fewer
   steps, so their z-scores are on a smaller window and would fake an upward trend in a
   steady hotspot.
3. **Category** of each place from its series of hot/cold bins and the trend, by the rules
   in :data:`ARCGIS_RULES` (or the simpler :data:`CHAINEY_RULES`). Fewer than
   :data:`MIN_STEPS` steps gives a warning (ArcGIS asks for at least 10).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pymannkendall
from libpysal.graph import Graph
from scipy import sparse

from geo_ssgp.errors import BadInput, NotEnoughData
from geo_ssgp.filters import Filters
from geo_ssgp.geocode import inside_area
from geo_ssgp.hotspots.cube import SpaceTimeCube, pack_cube
from geo_ssgp.hotspots.gistar import district_gistar, gistar_table
from geo_ssgp.hotspots.grid import pack_districts
from geo_ssgp.hotspots.halo import place_districts
from geo_ssgp.hotspots.label import label_hotspots
from geo_ssgp.hotspots.layer import frame_to_geojson, json_safe
from geo_ssgp.pack import AreaPack

#: Time steps below which the analysis warns (ArcGIS's minimum).
MIN_STEPS = 10
#: Share of steps that makes a place "mostly" hot (ArcGIS's 90 %).
MOSTLY = 0.9
SCHEMES = ("arcgis", "chainey")

#: ArcGIS categories (hot; the cold ones mirror them) and the rule each one applies.
ARCGIS_RULES = {
    "new": "hot in the final step and in no step before",
    "consecutive": "hot in an unbroken run of >= 2 final steps, never hot before the run, "
    "hot in < 90% of steps",
    "intensifying": "hot in >= 90% of steps including the final one; significant upward trend",
    "persistent": "hot in >= 90% of steps including the final one; no significant trend",
    "diminishing": "hot in >= 90% of steps including the final one; significant downward trend",
    "sporadic": "hot in the final step, hot in < 90% of steps, never cold; not new/consecutive",
    "oscillating": "hot in the final step, hot in < 90% of steps, cold in some earlier step; "
    "not new/consecutive",
    "historical": "not hot in the final step, hot in >= 90% of steps",
}
#: Chainey (2020) / sfhotspot ``hotspot_classify`` categories (hot; cold mirror them).
#: "Recent" = the last 20 % of steps (at least one); any category needs hot in >= 10 %.
CHAINEY_RULES = {
    "persistent": "hot in >= 80% of steps",
    "emerging": "hot in >= half the recent steps and in < 10% of the earlier steps",
    "former": "hot in >= 10% of the earlier steps and in no recent step",
    "intermittent": "hot in >= 10% of steps, none of the above",
}
NO_PATTERN = "no pattern"


@dataclass
class EmergingHotspots:
    """Result of :func:`emerging_hotspots`.

    Attributes
    ----------
    locations : geopandas.GeoDataFrame
        One row per place: ``place_id``, ``code``, ``name``, ``category``, ``trend_tau``,
        ``trend_p``, ``n_hot``, ``n_cold``, ``total``, geometry (EPSG:27700).
    steps : list of str
        Time-step labels.
    counts, z, p_adj : numpy.ndarray
        ``(n_steps, n_places)`` counts, Gi* z-scores and adjusted p-values.
    parameters : dict
        Method, neighbours, p-values, adjustment, scheme, rules and the cube's parameters.
    warnings : list of str
        E.g. too few time steps.
    """

    locations: gpd.GeoDataFrame
    steps: list[str]
    counts: np.ndarray
    z: np.ndarray
    p_adj: np.ndarray
    parameters: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def category_counts(self) -> dict[str, int]:
        """Places per category, largest first."""
        return {k: int(v) for k, v in self.locations["category"].value_counts().items()}

    def to_geojson(self) -> dict:
        """WGS84 FeatureCollection; each feature has its ``counts`` and ``z`` series."""
        frame = self.locations.copy()
        frame["counts"] = [list(map(int, c)) for c in self.counts.T]
        frame["z"] = [np.round(col, 3).tolist() for col in self.z.T]
        out = frame_to_geojson(frame)
        out["steps"] = self.steps
        out["category_counts"] = self.category_counts()
        out["parameters"] = json_safe(self.parameters)
        out["warnings"] = list(self.warnings)
        return out


def space_time_weights(adjacency: sparse.spmatrix, n_steps: int, neighbour_steps: int) -> Graph:
    """Binary space-time weights: same or adjacent place, this step or ``k`` steps before.

    Parameters
    ----------
    adjacency : scipy.sparse matrix
        ``n x n`` binary spatial adjacency without self-neighbours.
    n_steps : int
    neighbour_steps : int
        ``k``: how many previous steps a window reaches back.

    Returns
    -------
    libpysal.graph.Graph
        Over ``n_steps * n`` bins, bin ``t * n + i``, with the self-weight 1 that Gi*
        (``G_Local(star=True)``) uses (a ``Graph`` is built from the sparse matrix in one
        pass; a ``W`` of 30,000 bins takes seconds).
    """
    n = adjacency.shape[0]
    space = sparse.csr_matrix(adjacency, dtype=float) + sparse.identity(n, format="csr")
    time = sparse.diags(
        [np.ones(n_steps - d) for d in range(neighbour_steps + 1)],
        [-d for d in range(neighbour_steps + 1)],
        shape=(n_steps, n_steps),
        format="csr",
    )
    full = sparse.kron(time, space, format="csr")
    full.data[:] = 1.0
    return Graph.from_sparse(full)


#: Decimals of the z-scores the trend test compares. Gi* computed in another summation order
#: (per district with a halo, or by esda over the whole area) differs in the last bits; a
#: rank test on raw floats would turn that noise into ties broken one way or the other (a
#: series constant up to 1e-15 is no trend), so both paths give the test the same values.
Z_DECIMALS = 9


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pre-whitened Mann-Kendall tau and two-sided p of each column (``pymannkendall``).

    Parameters
    ----------
    series : numpy.ndarray
        ``(n_steps, n_places)``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``tau`` and ``p`` per place (tau 0, p 1 for a constant series).
    """
    tau = np.zeros(series.shape[1])
    p = np.ones(series.shape[1])
    for j in range(series.shape[1]):
        col = series[:, j]
        if np.ptp(col) == 0:
            continue
        with np.errstate(all="ignore"):
            result = pymannkendall.pre_whitening_modification_test(col)
        if np.isfinite(result.p):
            tau[j], p[j] = result.Tau, result.p
    return tau, p


def arcgis_categories(
    hot: np.ndarray, cold: np.ndarray, tau: np.ndarray, trend_p: np.ndarray, alpha: float
) -> np.ndarray:
    """ArcGIS category of each place from its hot/cold steps and trend (:data:`ARCGIS_RULES`).

    Parameters
    ----------
    hot, cold : numpy.ndarray
        ``(n_steps, n_places)`` booleans.
    tau, trend_p : numpy.ndarray
        Mann-Kendall tau and p per place (of the z-scores).
    alpha : float
        Trend significance level.

    Returns
    -------
    numpy.ndarray of str
        ``"new hot spot"`` ... ``"historical cold spot"`` or ``"no pattern"``.
    """
    up = (trend_p < alpha) & (tau > 0)
    down = (trend_p < alpha) & (tau < 0)
    hot_choice = _arcgis_one_side(hot, cold, up, down, "hot spot")
    cold_choice = _arcgis_one_side(cold, hot, down, up, "cold spot")
    return np.where(hot_choice != NO_PATTERN, hot_choice, cold_choice)


def _arcgis_one_side(
    sig: np.ndarray, other: np.ndarray, stronger: np.ndarray, weaker: np.ndarray, kind: str
) -> np.ndarray:
    """ArcGIS rules for one side (hot, or cold with the roles swapped)."""
    n_steps = sig.shape[0]
    n_sig = sig.sum(axis=0)
    final = sig[-1]
    run = np.cumprod(sig[::-1], axis=0).sum(axis=0)  # length of the final run
    mostly = n_sig >= MOSTLY * n_steps
    new = final & (n_sig == 1)
    consecutive = final & (run >= 2) & (n_sig == run) & ~mostly
    recurring = final & ~mostly & ~new & ~consecutive
    conditions = [
        new,
        consecutive,
        mostly & final & stronger,
        mostly & final & weaker,
        mostly & final,
        recurring & other.any(axis=0),
        recurring,
        mostly & ~final,
    ]
    names = [
        "new",
        "consecutive",
        "intensifying",
        "diminishing",
        "persistent",
        "oscillating",
        "sporadic",
        "historical",
    ]
    return np.select(conditions, [f"{n} {kind}" for n in names], default=NO_PATTERN)


def chainey_categories(
    hot: np.ndarray, cold: np.ndarray, recent_share: float = 0.2, min_share: float = 0.1
) -> np.ndarray:
    """Chainey (2020) / sfhotspot categories of each place (:data:`CHAINEY_RULES`).

    Parameters
    ----------
    hot, cold : numpy.ndarray
        ``(n_steps, n_places)`` booleans.
    recent_share : float
        Share of steps treated as recent (at least one step).
    min_share : float
        Share of steps a place must be hot (cold) in to get any category.

    Returns
    -------
    numpy.ndarray of str
        ``"persistent hot spot"``, ``"emerging hot spot"``, ... or ``"no pattern"``.
    """
    hot_choice = _chainey_one_side(hot, recent_share, min_share, "hot spot")
    cold_choice = _chainey_one_side(cold, recent_share, min_share, "cold spot")
    return np.where(hot_choice != NO_PATTERN, hot_choice, cold_choice)


def _chainey_one_side(sig: np.ndarray, recent_share: float, min_share: float, kind: str):
    n_steps = sig.shape[0]
    n_recent = max(1, int(round(recent_share * n_steps)))
    recent, earlier = sig[-n_recent:], sig[:-n_recent]
    share = sig.mean(axis=0)
    earlier_share = earlier.mean(axis=0) if len(earlier) else np.zeros(sig.shape[1])
    any_type = share >= min_share
    conditions = [
        any_type & (share >= 0.8),
        any_type & (recent.mean(axis=0) >= 0.5) & (earlier_share < min_share),
        any_type & (earlier_share >= min_share) & ~recent.any(axis=0),
        any_type,
    ]
    names = ["persistent", "emerging", "former", "intermittent"]
    return np.select(conditions, [f"{n} {kind}" for n in names], default=NO_PATTERN)


def emerging_hotspots(
    cube: SpaceTimeCube,
    *,
    neighbour_steps: int = 1,
    scheme: str = "arcgis",
    alpha: float = 0.05,
    p_adjust: str = "fdr_bh",
    districts: gpd.GeoDataFrame | None = None,
    client=None,
) -> EmergingHotspots:
    """Classify every place of a cube into emerging hot/cold-spot categories.

    Parameters
    ----------
    cube : SpaceTimeCube
    neighbour_steps : int
        Previous steps inside each space-time window (``k``, default 1).
    scheme : {"arcgis", "chainey"}
        Category rules (:data:`ARCGIS_RULES` or :data:`CHAINEY_RULES`).
    alpha : float
        Significance level of the adjusted bin p-values and of the trend test.
    p_adjust : {"fdr_bh", "bonferroni", "none"}
        Multiple-testing adjustment over all bins.
    districts : geopandas.GeoDataFrame, optional
        Compute the space-time window sums district by district with a halo of
        neighbouring places (:func:`geo_ssgp.hotspots.halo.district_gistar`); the result
        is the same.
    client : distributed.Client, optional
        With ``districts``: run the districts in parallel on this Dask cluster.

    Returns
    -------
    EmergingHotspots
    """
    if scheme not in SCHEMES:
        raise BadInput(f"scheme must be one of {SCHEMES}, not {scheme!r}", param="scheme")
    if neighbour_steps < 0:
        raise BadInput("neighbour_steps must be 0 or more", param="neighbour_steps")
    n_steps, n_places = cube.counts.shape
    if n_steps < 3:
        raise NotEnoughData(f"emerging hotspots need at least 3 time steps, got {n_steps}")
    notes = []
    if n_steps < MIN_STEPS:
        notes.append(
            f"only {n_steps} time steps: categories need at least {MIN_STEPS} "
            "(ArcGIS's minimum) to be reliable"
        )
    if districts is None:
        w = space_time_weights(cube.adjacency, n_steps, neighbour_steps)
        table = gistar_table(
            cube.counts.ravel(), w, permutations=0, p_value="exact", p_adjust=p_adjust
        )
    else:
        owner = place_districts(cube.places.geometry, districts)
        table = district_gistar(
            cube.counts,
            cube.adjacency,
            owner,
            neighbour_steps=neighbour_steps,
            p_adjust=p_adjust,
            client=client,
        )
    z = table["z"].to_numpy().reshape(n_steps, n_places)
    p_adj = table["p_adj"].to_numpy().reshape(n_steps, n_places)
    sig = np.nan_to_num(p_adj, nan=1.0) < alpha
    hot, cold = sig & (z > 0), sig & (z < 0)
    tau, trend_p = mann_kendall(np.round(np.nan_to_num(z[neighbour_steps:]), Z_DECIMALS))
    if scheme == "arcgis":
        category = arcgis_categories(hot, cold, tau, trend_p, alpha)
    else:
        category = chainey_categories(hot, cold)
    locations = cube.places.copy()
    locations["category"] = category
    locations["trend_tau"] = tau
    locations["trend_p"] = trend_p
    locations["n_hot"] = hot.sum(axis=0)
    locations["n_cold"] = cold.sum(axis=0)
    locations["total"] = cube.counts.sum(axis=0)
    parameters = {
        "method": "emerging hot spots (space-time Gi* + Mann-Kendall)",
        "statistic": "Getis-Ord Gi* (esda.G_Local, star=True, binary space-time weights)",
        "neighbours": f"queen neighbours and self, this step and {neighbour_steps} before",
        "p_value": "exact total-randomisation p of the window count, over all bins",
        "p_adjust": p_adjust,
        "alpha": alpha,
        "trend": "pre-whitened Mann-Kendall (pymannkendall) on each place's z-scores "
        f"from step {neighbour_steps + 1} on (full windows)",
        "scheme": scheme,
        "rules": ARCGIS_RULES if scheme == "arcgis" else CHAINEY_RULES,
        "cube": cube.parameters,
    }
    return EmergingHotspots(locations, cube.step_labels, cube.counts, z, p_adj, parameters, notes)


def emerging_scope(filters: Filters, months: Sequence[str]) -> Filters:
    """The period an emerging analysis of the filters runs on: theirs, or every month.

    A selection with fewer than :data:`MIN_STEPS` months of data is widened to all of the
    data's months (crime types, sources and other filters are kept), so the analyst map's
    "Emerging" layer has the steps ArcGIS asks for whenever the data has them.

    Parameters
    ----------
    filters : Filters
    months : sequence of str
        Months with data, ``YYYY-MM``.

    Returns
    -------
    Filters
    """
    first, last = filters.start or "0000-00", filters.end or "9999-99"
    if sum(first <= m <= last for m in months) >= MIN_STEPS:
        return filters
    return filters.replace(start=None, end=None)


def pack_emerging(
    incidents: gpd.GeoDataFrame,
    pack: AreaPack,
    filters: Filters,
    *,
    unit: str = "grid",
    cell_size: float | None = None,
    step: str = "month",
    scheme: str = "arcgis",
    neighbour_steps: int = 1,
    client=None,
) -> EmergingHotspots:
    """Emerging hotspots of a pack's incidents (the CLI, the API and the notebook call this).

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Geocoded incidents (only ``status == "ok"`` rows are used).
    pack : AreaPack
    filters : Filters
        Period and crime types.
    unit, cell_size, step
        The cube (:func:`geo_ssgp.hotspots.cube.pack_cube`).
    scheme, neighbour_steps
        As :func:`emerging_hotspots`.
    client : distributed.Client, optional
        Compute the space-time Gi* district by district over the pack's districts, each
        with its halo of neighbouring places, in parallel on this Dask cluster (the same
        result).

    Returns
    -------
    EmergingHotspots
        Places with a pattern also get a ``label`` (ward, streets, nearest named place;
        :func:`geo_ssgp.hotspots.label.label_hotspots`), others ``""``.
    """
    cube = pack_cube(incidents, pack, filters, unit=unit, cell_size=cell_size, step=step)
    districts = None if client is None else pack_districts(pack)
    result = emerging_hotspots(
        cube, scheme=scheme, neighbour_steps=neighbour_steps, districts=districts, client=client
    )
    places = result.locations
    places["label"] = ""
    patterned = places["category"] != NO_PATTERN
    if patterned.any():
        labels = label_hotspots(places[patterned], filters.apply(inside_area(incidents)), pack)
        places.loc[patterned, "label"] = labels.to_numpy()
    return result


__all__ = [
    "ARCGIS_RULES",
    "CHAINEY_RULES",
    "MIN_STEPS",
    "NO_PATTERN",
    "SCHEMES",
    "EmergingHotspots",
    "arcgis_categories",
    "chainey_categories",
    "emerging_hotspots",
    "emerging_scope",
    "mann_kendall",
    "pack_emerging",
    "space_time_weights",
]
