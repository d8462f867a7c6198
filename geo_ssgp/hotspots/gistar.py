"""Getis-Ord Gi* hotspots on grid cells or on LSOAs, with multiple-testing adjustment.

Statistic: ``esda.G_Local(y, w, transform="B", star=True, permutations=..., seed=...)``
on incident counts per cell (binary queen weights of the grid, as sfhotspot's
``nb_dist = cell_size * sqrt(2)``; rook optional) or per LSOA (binary queen
contiguity, ``libpysal.weights.Queen.from_dataframe(..., use_index=True)``); ``star``
adds each unit to its own neighbourhood.

p-values (``p_value``):

* ``"poisson"`` (default for grid counts): the area-weighted Poisson p-value of the
  window count. Under complete spatial randomness at the district's mean density
  ``lambda = N / A``, a window's count (own cell plus neighbours) is Poisson with mean
  ``lambda x`` *the window's area inside the region*, so cells clipped by the district
  boundary are expected to hold less, not flagged as cold (:func:`poisson_window_pvalues`).
  Two-sided ``min(1, 2 * min(P(S >= s), P(S <= s)))``; hot or cold by the side of the
  expectation. It is calibrated: on uniform random points inside the Gloucester
  district (50 and 100 m cells, 1,500 and 14,000 points) the share of runs with any
  significant cell after Benjamini-Hochberg stays under 5 %
  (``benchmarks/bench_gistar_calibration.py``), because the window count is exact
  rather than a permutation p-value whose floor ``k / n`` BH can never reject. The
  question it answers: *is there a cluster of high (low) counts here, against an even
  spread over the district?*
* ``"exact"`` (default for area counts): the total-randomisation p-value of the window
  count, computed exactly. With binary weights and ``star``, Gi* of a unit is a
  function of its window sum (own count plus neighbours'); under total randomisation,
  the null behind Gi*'s z-score, that sum is a random draw of ``k + 1`` counts, whose
  distribution is the ``(k + 1)``-fold convolution of the empirical count distribution
  (see :func:`exact_pvalues`). The normal approximation (``"norm"``) is badly
  calibrated for sparse, skewed counts: on 2,000 uniform random points over a 50 x 50
  grid (200 seeded runs) it finds a hot cell at adjusted p < 0.05 in 77 runs, the exact
  p-value in 2 (the nominal false-discovery rate under pure noise is 5 %;
  ``benchmarks/bench_gistar_calibration.py`` reprints these figures). Permutation
  p-values cannot go below ``1 / (permutations + 1)``, too coarse for an FDR adjustment
  over thousands of cells.
* ``"sim"``: esda's conditional-permutation pseudo p-value, two-sided
  ``min(1, 2 * p_sim)`` (``permutations``, ``seed``); used for non-integer values
  (rates). esda holds the unit's own value fixed and counts ties with the upper tail,
  so on grids full of zero counts empty windows get the smallest possible p-value.
* ``"norm"``: two-sided normal approximation of the z-score, ``2 * p_norm`` (as
  sfhotspot / spdep ``localG``).

Permutations (999 by default) run only when the ``"sim"`` p-value is used
(:func:`needed_permutations`); the Poisson and exact p-values are analytic, so the
default layers skip them (``p_sim`` is then NaN) unless ``permutations`` is given.

All four are kept as columns (``p_poisson``, ``p_exact``, ``p_sim``, ``p_norm``); ``p`` is the
one used.

Adjustment: Benjamini-Hochberg false discovery rate (``"fdr_bh"``, default),
``"bonferroni"`` or ``"none"``. Classes: ``hot``/``cold`` at 99 / 95 / 90 % confidence
when the adjusted p-value is below 0.01 / 0.05 / 0.10, else ``not significant``.
Hotspots are the hot cells with adjusted p below ``alpha`` (default 0.05);
edge-adjacent hot cells are merged (LSOA hotspots stay one per LSOA).
"""

from __future__ import annotations

import warnings

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.stats import false_discovery_control, norm, poisson

from geo_ssgp.errors import BadInput
from geo_ssgp.hotspots.grid import (
    components,
    dissolve_cells,
    grid_adjacency,
    grid_count,
    make_grid,
    region_label,
    star_weights,
)
from geo_ssgp.hotspots.halo import cell_districts, district_windows
from geo_ssgp.hotspots.layer import HotspotLayer, finish_hotspots
from geo_ssgp.hotspots.rates import area_values, area_weights

P_ADJUST_METHODS = ("fdr_bh", "bonferroni", "none")
#: Confidence classes: (label, adjusted p below).
CONFIDENCE = ((99, 0.01), (95, 0.05), (90, 0.10))
DEFAULT_PERMUTATIONS = 999


def adjust_pvalues(p: np.ndarray, method: str = "fdr_bh") -> np.ndarray:
    """Adjust p-values for multiple testing.

    Parameters
    ----------
    p : numpy.ndarray
        Raw p-values (NaN allowed, left as NaN and not counted as tests).
    method : {"fdr_bh", "bonferroni", "none"}
        Benjamini-Hochberg step-up false discovery rate
        (:func:`scipy.stats.false_discovery_control`), Bonferroni, or none.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, capped at 1. For ``fdr_bh``, ``p_adj <= alpha`` rejects
        exactly the hypotheses the BH procedure rejects at level ``alpha``.
    """
    if method not in P_ADJUST_METHODS:
        raise BadInput(
            f"p_adjust must be one of {P_ADJUST_METHODS}, not {method!r}", param="p_adjust"
        )
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if not ok.any() or method == "none":
        out[ok] = p[ok]
    elif method == "bonferroni":
        out[ok] = np.minimum(p[ok] * ok.sum(), 1.0)
    else:
        out[ok] = false_discovery_control(p[ok], method="bh")
    return out


def classify(z: np.ndarray, p_adj: np.ndarray) -> np.ndarray:
    """Hot/cold class of each unit: ``"hot 99%"`` ... ``"cold 90%"`` or ``"not significant"``.

    Parameters
    ----------
    z : numpy.ndarray
        Signed statistic (positive = hot).
    p_adj : numpy.ndarray
        Adjusted p-values.

    Returns
    -------
    numpy.ndarray of str
    """
    z = np.asarray(z, dtype=float)
    p_adj = np.nan_to_num(np.asarray(p_adj, dtype=float), nan=1.0)
    out = np.full(len(z), "not significant", dtype=object)
    for level, cut in reversed(CONFIDENCE):  # strongest last so it wins
        sig = p_adj < cut
        out[sig & (z > 0)] = f"hot {level}%"
        out[sig & (z < 0)] = f"cold {level}%"
    return out


def exact_pvalues(y: np.ndarray, w) -> tuple[np.ndarray, np.ndarray]:
    """Gi* p-values for integer counts under total randomisation, without approximation.

    With binary weights and ``star``, Gi* of unit ``i`` is a function of the window sum
    ``S_i`` (its own count plus its ``k_i`` neighbours'). Under total randomisation (the
    null behind Gi*'s z-score) the ``k_i + 1`` window values are a random draw from all
    counts; drawing with replacement, ``S_i`` follows the ``(k_i + 1)``-fold convolution
    of the empirical count distribution (slightly heavier-tailed than drawing without
    replacement, so the p-values are, if anything, conservative).

    Parameters
    ----------
    y : numpy.ndarray
        Non-negative integer counts per unit.
    w : libpysal.weights.W
        Binary weights aligned with ``y`` (any self-weight is ignored; self is added).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Two-sided p-values ``min(1, 2 * min(P(S >= s_i), P(S <= s_i)))`` and the
        upper-tail probabilities ``P(S >= s_i)``.
    """
    y = np.asarray(y)
    if not _is_count(y):
        raise ValueError("exact p-values need non-negative integer counts")
    y = np.round(y).astype(np.int64)
    adj = sparse.csr_matrix(w.sparse, dtype=float, copy=True)
    adj.setdiag(0)
    adj.eliminate_zeros()
    adj.data[:] = 1.0
    size = np.asarray(adj.sum(axis=1)).ravel().astype(np.int64) + 1  # window incl. self
    s = np.rint(adj @ y).astype(np.int64) + y
    return exact_window_pvalues(y, s, size)


def exact_window_pvalues(
    y: np.ndarray, s: np.ndarray, size: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`exact_pvalues` from window sums already made (e.g. per district, with a halo).

    Parameters
    ----------
    y : numpy.ndarray
        Non-negative integer counts of *every* unit (their distribution is the null).
    s, size : numpy.ndarray
        Window sum and window size (self included) of each unit to test.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        As :func:`exact_pvalues`, one value per entry of ``s``.
    """
    y = np.round(np.asarray(y)).astype(np.int64)
    s = np.asarray(s, dtype=np.int64)
    size = np.asarray(size, dtype=np.int64)
    pmf1 = np.bincount(y) / len(y)
    upper = np.ones(len(s))
    lower = np.ones(len(s))
    pmf = np.array([1.0])
    for m in range(1, int(size.max()) + 1):  # exact convolution chain, one step per size
        pmf = convolve_sparse(pmf, pmf1)
        sel = size == m
        if not sel.any():
            continue
        sf = np.append(np.cumsum(pmf[::-1])[::-1], 0.0)  # sf[t] = P(S >= t)
        cdf = np.cumsum(pmf)
        upper[sel] = np.minimum(sf[np.minimum(s[sel], len(pmf))], 1.0)
        lower[sel] = np.minimum(cdf[np.minimum(s[sel], len(pmf) - 1)], 1.0)
    return np.minimum(1.0, 2.0 * np.minimum(upper, lower)), upper


def convolve_sparse(pmf: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``numpy.convolve(pmf, kernel)`` summed over the kernel's non-zero entries only.

    The count distribution of a few dozen LSOAs has at most that many distinct values
    spread over thousands of possible counts; shifting and adding once per value costs
    that many passes instead of one per possible count (0.4 s down to a few ms for a
    year of Gloucester's 82 LSOAs), with the same sums.

    Parameters
    ----------
    pmf, kernel : numpy.ndarray
        Probability mass functions on 0, 1, 2, ...

    Returns
    -------
    numpy.ndarray
        Length ``len(pmf) + len(kernel) - 1``.
    """
    out = np.zeros(len(pmf) + len(kernel) - 1)
    for value in np.flatnonzero(kernel):
        out[value : value + len(pmf)] += kernel[value] * pmf
    return out


def poisson_window_pvalues(
    y: np.ndarray, w, area: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gi* window counts against an area-weighted Poisson expectation.

    Parameters
    ----------
    y : numpy.ndarray
        Non-negative integer counts per unit.
    w : libpysal.weights.W
        Binary weights aligned with ``y`` (self is added).
    area : numpy.ndarray
        Area of each unit inside the region (clipped cells smaller).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Two-sided p-values ``min(1, 2 * min(P(S >= s), P(S <= s)))`` with
        ``S ~ Poisson(lambda * window area)``, ``lambda = sum(y) / sum(area)``; and the
        observed minus expected window count (positive = hot).
    """
    y = np.asarray(y, dtype=float)
    area = np.asarray(area, dtype=float)
    adj = sparse.csr_matrix(w.sparse, dtype=float, copy=True)
    adj.setdiag(0)
    adj.eliminate_zeros()
    adj.data[:] = 1.0
    s = adj @ y + y
    expected = (adj @ area + area) * (y.sum() / area.sum())
    return poisson_pvalues(s, expected), s - expected


def poisson_pvalues(s: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Two-sided ``min(1, 2 * min(P(S >= s), P(S <= s)))`` with ``S ~ Poisson(expected)``.

    Parameters
    ----------
    s : numpy.ndarray
        Observed window counts.
    expected : numpy.ndarray
        Expected window counts (the area-weighted rate times the window's area).

    Returns
    -------
    numpy.ndarray
    """
    upper = poisson.sf(s - 1, expected)
    lower = poisson.cdf(s, expected)
    return np.minimum(1.0, 2.0 * np.minimum(upper, lower))


def _is_count(y: np.ndarray) -> bool:
    return bool(len(y)) and bool((y >= 0).all()) and bool(np.allclose(y, np.round(y)))


def gistar_table(
    y: np.ndarray,
    w,
    *,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
    p_value: str | None = None,
    p_adjust: str = "fdr_bh",
    area: np.ndarray | None = None,
) -> pd.DataFrame:
    """Gi* statistics for one variable, via ``esda.G_Local``.

    Parameters
    ----------
    y : numpy.ndarray
        Counts or rates per unit.
    w : libpysal.weights.W
        Binary weights aligned with ``y`` (self-neighbours are added by ``star``).
    permutations : int
        Conditional permutations for ``p_sim`` (0 to skip).
    seed : int
        Permutation seed.
    p_value : {"poisson", "exact", "sim", "norm"}, optional
        Which p-value is adjusted and classified (see module docstring); default
        ``"poisson"`` for counts with ``area``, ``"exact"`` for other counts and
        ``"sim"`` otherwise.
    p_adjust : {"fdr_bh", "bonferroni", "none"}
    area : numpy.ndarray, optional
        Unit areas inside the region, for ``"poisson"``.

    Returns
    -------
    pandas.DataFrame
        ``gi`` (G*), ``z``, ``p_poisson``, ``p_exact``, ``p_norm``, ``p_sim`` (all
        two-sided; NaN where not computed), ``p`` (the chosen one), ``p_adj``,
        ``hot_cold``.
    """
    y = np.asarray(y, dtype=float)
    p_value = resolve_p_value(p_value, y, area)
    if p_value == "sim" and not permutations:
        raise BadInput("p_value='sim' needs permutations > 0", param="permutations")
    with warnings.catch_warnings():
        # esda warns that its default permutation alternative will change; we double
        # the directed pseudo p-value ourselves to get the two-sided one.
        warnings.simplefilter("ignore", DeprecationWarning)
        g = esda.G_Local(
            y,
            w,
            transform="B",
            star=True,
            permutations=permutations,
            seed=seed,
            keep_simulations=False,
            n_jobs=1,
        )
    p_norm = np.minimum(2.0 * np.asarray(g.p_norm, dtype=float), 1.0)
    p_sim = (
        np.minimum(2.0 * np.asarray(g.p_sim, dtype=float), 1.0)
        if permutations
        else np.full(len(y), np.nan)
    )
    p_exact = exact_pvalues(y, w)[0] if _is_count(y) else np.full(len(y), np.nan)
    p_poisson, side = np.full(len(y), np.nan), np.asarray(g.Zs, dtype=float)
    if p_value == "poisson":
        p_poisson, side = poisson_window_pvalues(y, w, area)
    p = {"poisson": p_poisson, "exact": p_exact, "sim": p_sim, "norm": p_norm}[p_value]
    p_adj = adjust_pvalues(p, p_adjust)
    return pd.DataFrame(
        {
            "gi": np.asarray(g.Gs, dtype=float),
            "z": np.asarray(g.Zs, dtype=float),
            "p_poisson": p_poisson,
            "p_exact": p_exact,
            "p_norm": p_norm,
            "p_sim": p_sim,
            "p": p,
            "p_adj": p_adj,
            "hot_cold": classify(side, p_adj),
        }
    )


def district_gistar(
    counts: np.ndarray,
    adjacency: sparse.spmatrix,
    owner: np.ndarray,
    *,
    area: np.ndarray | None = None,
    neighbour_steps: int = 0,
    p_value: str = "exact",
    p_adjust: str = "fdr_bh",
    client=None,
) -> pd.DataFrame:
    """Gi* of every unit (or space-time bin), neighbour sums per district with a halo.

    Equals :func:`~geo_ssgp.hotspots.gistar.gistar_table` (``permutations=0``) on the whole
    area with the same binary weights: ``gi`` and ``z`` follow ``esda.G_Local``
    (``star=True``, ``transform="B"``) from the window sums and the whole area's mean and
    variance; the p-values and the adjustment run over every unit.

    Parameters
    ----------
    counts : numpy.ndarray
        Integer counts, steps x units (one row for a plain map).
    adjacency : scipy.sparse matrix
        Binary unit adjacency without self-neighbours.
    owner : numpy.ndarray
        District of each unit (:func:`place_districts`).
    area : numpy.ndarray, optional
        Unit areas inside the region (needed for ``p_value="poisson"``).
    neighbour_steps : int
        Previous steps inside each window (emerging hotspots; 0 for a map).
    p_value : {"exact", "poisson", "norm"}
        Which p-value is adjusted and classified (see :mod:`geo_ssgp.hotspots.gistar`).
    p_adjust : {"fdr_bh", "bonferroni", "none"}
    client : distributed.Client, optional

    Returns
    -------
    pandas.DataFrame
        One row per bin in order ``t * n_units + i``: ``gi``, ``z``, ``p_poisson``,
        ``p_exact``, ``p_norm``, ``p`` (the chosen one), ``p_adj``, ``hot_cold``.
    """
    if p_value not in ("exact", "poisson", "norm"):
        raise BadInput(
            f"p_value={p_value!r} per district: use exact, poisson or norm (permutation "
            "p-values draw from the whole area)",
            param="p_value",
        )
    if p_value == "poisson" and area is None:
        raise BadInput("p_value='poisson' needs unit areas", param="p_value")
    y = np.atleast_2d(np.asarray(counts, dtype=float))
    s, size, win_area = district_windows(
        y, adjacency, owner, area=area, neighbour_steps=neighbour_steps, client=client
    )
    y, s, size = y.ravel(), s.ravel(), size.ravel()
    gi, z = _gi_star(y, s, size)
    p_norm = np.minimum(2.0 * norm.sf(np.abs(z)), 1.0)
    p_exact = exact_window_pvalues(y, np.rint(s), size)[0]
    p_poisson, side = np.full(len(y), np.nan), z
    if p_value == "poisson":
        expected = np.tile(win_area, len(y) // len(win_area)) * (y.sum() / area.sum())
        p_poisson, side = poisson_pvalues(s, expected), s - expected
    p = {"poisson": p_poisson, "exact": p_exact, "norm": p_norm}[p_value]
    p_adj = adjust_pvalues(p, p_adjust)
    return pd.DataFrame(
        {
            "gi": gi,
            "z": z,
            "p_poisson": p_poisson,
            "p_exact": p_exact,
            "p_norm": p_norm,
            "p": p,
            "p_adj": p_adj,
            "hot_cold": classify(side, p_adj),
        }
    )


def _gi_star(y: np.ndarray, s: np.ndarray, size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """G* and its z-score from window sums, with esda.G_Local's moments (star, binary).

    ``G*_i = s_i / sum(y)``; ``E = size_i / N``;
    ``V = size_i (N - size_i) / (N - 1) / N**2 * var(y) / mean(y)**2`` over all ``N`` units.
    """
    n = len(y)
    mean = y.sum() / n
    variance = (y**2).sum() / n - mean**2
    gi = s / y.sum()
    expected = size / n
    var_g = size * (n - size) / (n - 1) / n**2 * variance / mean**2
    return gi, (gi - expected) / np.sqrt(var_g)


def resolve_p_value(p_value: str | None, y: np.ndarray, area: np.ndarray | None = None) -> str:
    """The p-value kind to use by default, or check a requested one.

    ``"poisson"`` for counts with areas, ``"exact"`` for other counts, ``"sim"``
    otherwise.

    Parameters
    ----------
    p_value : {"poisson", "exact", "sim", "norm"} or None
    y : numpy.ndarray
        The analysed values.
    area : numpy.ndarray, optional
        Unit areas (needed by ``"poisson"``).

    Returns
    -------
    str
    """
    counts = _is_count(np.asarray(y, dtype=float))
    if p_value is None:
        return ("poisson" if area is not None else "exact") if counts else "sim"
    if p_value == "poisson" and (area is None or not counts):
        raise BadInput("p_value='poisson' needs integer counts on units with areas",
                       param="p_value")
    if p_value not in P_VALUES:
        raise BadInput(
            f"p_value must be one of {tuple(P_VALUES)}, not {p_value!r}", param="p_value"
        )
    if p_value == "exact" and not _is_count(np.asarray(y, dtype=float)):
        raise BadInput("p_value='exact' needs integer counts; use 'sim' for rates", param="p_value")
    return p_value


def needed_permutations(permutations: int | None, p_value: str) -> int:
    """Permutations to run: as asked, else 999 for ``"sim"`` p-values and none otherwise.

    The Poisson-window and exact p-values are analytic, so the default layers spend
    no time on permutations whose pseudo p-values nobody reads.

    Parameters
    ----------
    permutations : int or None
    p_value : str
        The p-value kind in use (:func:`resolve_p_value`).

    Returns
    -------
    int
    """
    if permutations is not None:
        return int(permutations)
    return DEFAULT_PERMUTATIONS if p_value == "sim" else 0


#: p-value kinds and how parameters describe them.
P_VALUES = {
    "poisson": "two-sided area-weighted Poisson p of the window count (clipped cells: "
    "area inside the region)",
    "exact": "two-sided exact total-randomisation p of the window count (convolution)",
    "sim": "two-sided conditional permutation pseudo p (2 x p_sim)",
    "norm": "two-sided normal approximation of z (2 x p_norm)",
}


def _significance_params(permutations, seed, p_value, p_adjust, alpha) -> dict:
    return {
        "statistic": "Getis-Ord Gi* (esda.G_Local, star=True, binary weights)",
        "permutations": int(permutations),
        "seed": seed,
        "p_value": P_VALUES[p_value],
        "p_adjust": p_adjust,
        "alpha": float(alpha),
        "classes": "hot/cold at 99/95/90% when adjusted p < 0.01/0.05/0.10",
    }


def gistar_grid_hotspots(
    incidents: gpd.GeoDataFrame,
    region: gpd.GeoDataFrame,
    *,
    cell_size: float | None = None,
    grid: str = "square",
    neighbours: str = "queen",
    permutations: int | None = None,
    seed: int = 0,
    p_value: str | None = None,
    p_adjust: str = "fdr_bh",
    alpha: float = 0.05,
    districts: gpd.GeoDataFrame | None = None,
    client=None,
) -> HotspotLayer:
    """Gi* hotspots on grid-cell counts.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Points in EPSG:27700.
    region : geopandas.GeoDataFrame
        Study region.
    cell_size : float, optional
        Cell size in metres (default: the sfhotspot rule).
    grid : {"square", "hex"}
    neighbours : {"queen", "rook"}
        Adjacent-cell neighbours (hexagons: the six touching cells).
    permutations : int, optional
        Conditional permutations; default :func:`needed_permutations` (999 only when
        the p-value used is ``"sim"``).
    seed, p_value, p_adjust, alpha
        See :func:`gistar_table`; ``alpha`` is the adjusted-p cut for hotspots.
    districts : geopandas.GeoDataFrame, optional
        Districts covering the region: the window sums are made district by district with
        a one-cell halo (:func:`district_gistar`), giving the same layer; permutation
        p-values are then not available.
    client : distributed.Client, optional
        With ``districts``: run the districts in parallel on this Dask cluster.

    Returns
    -------
    HotspotLayer
        Hotspots (merged hot cells) with ``z`` (max, = ``score``), ``p``, ``p_adj``
        (min), ``hot_cold`` (of the strongest cell), ``count``, ``n_cells``,
        ``cluster_id``. The surface holds ``count``, ``gi``, ``z``, ``p_norm``,
        ``p_sim``, ``p``, ``p_adj``, ``hot_cold`` for every cell (``score`` = ``z``).
    """
    g = make_grid(region, cell_size=cell_size, kind=grid)
    counts = grid_count(g, incidents)
    area = g.cells["area_m2"].to_numpy()
    p_value = resolve_p_value(p_value, counts.to_numpy(), area)
    permutations = needed_permutations(permutations, p_value)
    if districts is None:
        table = gistar_table(
            counts.to_numpy(),
            star_weights(g, neighbours),
            permutations=permutations,
            seed=seed,
            p_value=p_value,
            p_adjust=p_adjust,
            area=area,
        )
    else:
        table = _district_cell_table(g, counts.to_numpy(), area, neighbours, districts, client,
                                     permutations=permutations, p_value=p_value,
                                     p_adjust=p_adjust)
    surface = g.cells.copy()
    surface["count"] = counts.to_numpy()
    for col in table.columns:
        surface[col] = table[col].to_numpy()
    surface["score"] = surface["z"]
    hot_mask = surface["hot_cold"].str.startswith("hot").to_numpy() & (
        surface["p_adj"] < alpha
    ).to_numpy()
    surface["hotspot"] = hot_mask
    group = components(grid_adjacency(g, "rook"), hot_mask)
    polys = dissolve_cells(surface, group, {"z": "max", "p": "min", "p_adj": "min", "count": "sum"})
    polys["hot_cold"] = classify(polys["z"].to_numpy(), polys["p_adj"].to_numpy())
    polys["score"] = polys["z"]
    hot = finish_hotspots(polys, incidents)
    params = {
        "method": "gistar",
        **g.describe(),
        "neighbours": "hexagon edge neighbours" if grid == "hex" else f"{neighbours} adjacency",
        **_significance_params(permutations, seed, p_value, p_adjust, alpha),
        "variable": "incidents per cell",
        "merge": "edge-adjacent hot cells merged into one hotspot",
        "score": "largest Gi* z-score in the hotspot",
        "region": region_label(region),
        "incidents_outside_grid": counts.attrs["outside_grid"],
    }
    return HotspotLayer("gistar", hot, params, surface)


def _district_cell_table(
    grid, counts, area, neighbours, districts, client, *, permutations, p_value, p_adjust
) -> pd.DataFrame:
    """:func:`gistar_table`'s columns for grid cells, per district with a halo."""
    if permutations:
        raise BadInput(
            "permutations per district: the permutation p-value draws from the whole area; "
            "use the poisson, exact or norm p-value",
            param="permutations",
        )
    table = district_gistar(
        counts,
        grid_adjacency(grid, neighbours),
        cell_districts(grid, districts),
        area=area,
        p_value=p_value,
        p_adjust=p_adjust,
        client=client,
    )
    table.insert(table.columns.get_loc("p"), "p_sim", np.nan)
    return table


def gistar_area_hotspots(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    value: str = "count",
    population: pd.Series | None = None,
    permutations: int | None = None,
    seed: int = 0,
    p_value: str | None = None,
    p_adjust: str = "fdr_bh",
    alpha: float = 0.05,
    area_level: str = "areas",
) -> HotspotLayer:
    """Gi* hotspots on area (LSOA) counts or rates.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Points in EPSG:27700.
    areas : geopandas.GeoDataFrame
        Area polygons with ``code`` and ``name`` (e.g. LSOA 2021), EPSG:27700.
    value : {"count", "rate", "eb_rate"}
        Variable: incidents, rate per 1,000 residents, or empirical-Bayes rate.
    population : pandas.Series, optional
        Residents by area code (needed for rates).
    permutations : int, optional
        Conditional permutations; default :func:`needed_permutations`.
    seed, p_value, p_adjust, alpha
        See :func:`gistar_table`.
    area_level : str
        Name of the area layer, recorded in the parameters.

    Returns
    -------
    HotspotLayer
        One hotspot per significant hot area (``code``, ``name``, ``value``, ``z`` =
        ``score``, ``p``, ``p_adj``, ``hot_cold``, ``count``); the surface holds every
        area's statistics.
    """
    table = area_values(incidents, areas, value=value, population=population)
    w = area_weights(table)
    p_value = resolve_p_value(p_value, table["value"].to_numpy())
    permutations = needed_permutations(permutations, p_value)
    stats = gistar_table(
        table["value"].to_numpy(),
        w,
        permutations=permutations,
        seed=seed,
        p_value=p_value,
        p_adjust=p_adjust,
    )
    surface = table.copy()
    for col in stats.columns:
        surface[col] = stats[col].to_numpy()
    surface["score"] = surface["z"]
    hot_mask = (surface["z"] > 0) & (surface["p_adj"] < alpha)
    surface["hotspot"] = hot_mask.to_numpy()
    keep = ["code", "name", "count", "value", "z", "p", "p_adj", "hot_cold", "score"]
    hot = finish_hotspots(surface.loc[hot_mask, keep + ["geometry"]], incidents)
    params = {
        "method": "lsoa-gistar",
        "areas": area_level,
        "n_areas": int(len(surface)),
        "variable": _VALUE_TEXT[value],
        "neighbours": "queen contiguity of area polygons (libpysal Queen.from_dataframe)",
        **_significance_params(permutations, seed, p_value, p_adjust, alpha),
        "score": "Gi* z-score of the area",
    }
    return HotspotLayer("lsoa-gistar", hot, params, surface)


_VALUE_TEXT = {
    "count": "incidents per area",
    "rate": "incidents per 1,000 residents",
    "eb_rate": "empirical-Bayes smoothed incidents per 1,000 residents (esda Empirical_Bayes)",
}
