"""Local Moran's I (LISA) clusters of area (LSOA) counts or rates.

Statistic: ``esda.Moran_Local(y, w, transformation="r", permutations=9999, seed=...)``
with queen contiguity of the area polygons, row-standardised. Quadrants: ``HH`` (high
value, high neighbours), ``LH``, ``LL``, ``HL``. The p-value is the two-sided
conditional-permutation pseudo p-value, ``min(1, 2 * p_sim)`` (esda's ``p_sim`` is
the directed one-tailed value). 9,999 permutations by default: with ~80 LSOAs they
cost little, and a false-discovery-rate adjustment needs p-values below
``alpha / n``, which 999 permutations cannot reach. Adjustment: Benjamini-Hochberg
(default), ``"bonferroni"`` or ``"none"``. Hotspots are the ``HH`` areas with
adjusted p below ``alpha``, one per area.
"""

from __future__ import annotations

import warnings

import esda
import geopandas as gpd
import numpy as np
import pandas as pd

from geo_ssgp.errors import BadInput
from geo_ssgp.hotspots.gistar import _VALUE_TEXT, adjust_pvalues
from geo_ssgp.hotspots.layer import HotspotLayer, finish_hotspots
from geo_ssgp.hotspots.rates import area_values, area_weights

#: esda quadrant codes -> labels.
QUADRANTS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
DEFAULT_LISA_PERMUTATIONS = 9999


def lisa_table(
    y: np.ndarray,
    w,
    *,
    permutations: int = DEFAULT_LISA_PERMUTATIONS,
    seed: int = 0,
    p_adjust: str = "fdr_bh",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Local Moran's I for one variable, via ``esda.Moran_Local``.

    Parameters
    ----------
    y : numpy.ndarray
        Counts or rates per area.
    w : libpysal.weights.W
        Contiguity weights (row-standardised by esda).
    permutations : int
        Conditional permutations (> 0).
    seed : int
    p_adjust : {"fdr_bh", "bonferroni", "none"}
    alpha : float
        Significance level for the ``significant`` flag and ``cluster`` label.

    Returns
    -------
    pandas.DataFrame
        ``local_i``, ``z_value`` (standardised y), ``quadrant`` (HH/LH/LL/HL),
        ``p`` (two-sided pseudo p), ``p_adj``, ``significant``, ``cluster``
        (quadrant if significant, else ``"not significant"``).
    """
    if not permutations:
        raise BadInput("LISA needs permutations > 0", param="permutations")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        lm = esda.Moran_Local(
            np.asarray(y, dtype=float),
            w,
            transformation="r",
            permutations=permutations,
            seed=seed,
            keep_simulations=False,
            n_jobs=1,
        )
    p = np.minimum(2.0 * np.asarray(lm.p_sim, dtype=float), 1.0)
    p_adj = adjust_pvalues(p, p_adjust)
    quadrant = pd.Series(np.asarray(lm.q)).map(QUADRANTS).to_numpy()
    significant = p_adj < alpha
    return pd.DataFrame(
        {
            "local_i": np.asarray(lm.Is, dtype=float),
            "z_value": np.asarray(lm.z, dtype=float),
            "quadrant": quadrant,
            "p": p,
            "p_adj": p_adj,
            "significant": significant,
            "cluster": np.where(significant, quadrant, "not significant"),
        }
    )


def lisa_hotspots(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    value: str = "count",
    population: pd.Series | None = None,
    permutations: int = DEFAULT_LISA_PERMUTATIONS,
    seed: int = 0,
    p_adjust: str = "fdr_bh",
    alpha: float = 0.05,
    area_level: str = "areas",
) -> HotspotLayer:
    """LISA high-high clusters of area counts or rates.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Points in EPSG:27700.
    areas : geopandas.GeoDataFrame
        Area polygons with ``code`` and ``name``.
    value : {"count", "rate", "eb_rate"}
    population : pandas.Series, optional
        Residents by area code (for rates).
    permutations, seed, p_adjust, alpha
        See :func:`lisa_table`.
    area_level : str
        Name of the area layer, recorded in the parameters.

    Returns
    -------
    HotspotLayer
        One hotspot per significant HH area (``code``, ``name``, ``value``,
        ``local_i`` = ``score``, ``quadrant``, ``p``, ``p_adj``). The surface holds
        every area; its ``score`` is ``local_i`` for HH areas and NaN otherwise (LISA
        ranks only high-high areas as hot).
    """
    table = area_values(incidents, areas, value=value, population=population)
    stats = lisa_table(
        table["value"].to_numpy(),
        area_weights(table),
        permutations=permutations,
        seed=seed,
        p_adjust=p_adjust,
        alpha=alpha,
    )
    surface = table.copy()
    for col in stats.columns:
        surface[col] = stats[col].to_numpy()
    surface["score"] = np.where(surface["quadrant"] == "HH", surface["local_i"], np.nan)
    hot_mask = (surface["quadrant"] == "HH") & surface["significant"]
    surface["hotspot"] = hot_mask.to_numpy()
    keep = ["code", "name", "count", "value", "local_i", "quadrant", "p", "p_adj", "score"]
    hot = finish_hotspots(surface.loc[hot_mask, keep + ["geometry"]], incidents)
    params = {
        "method": "lisa",
        "areas": area_level,
        "n_areas": int(len(surface)),
        "variable": _VALUE_TEXT[value],
        "statistic": "local Moran's I (esda.Moran_Local)",
        "neighbours": "queen contiguity of area polygons, row-standardised",
        "permutations": int(permutations),
        "seed": seed,
        "p_value": "two-sided conditional permutation pseudo p (2 x p_sim)",
        "p_adjust": p_adjust,
        "alpha": float(alpha),
        "hotspots": "significant high-high (HH) areas",
        "score": "local Moran's I of the HH area",
    }
    return HotspotLayer("lisa", hot, params, surface)
