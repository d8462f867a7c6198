"""Change between two periods: match hotspots by overlap and test the change in counts.

:func:`compare_periods` takes the layers of an earlier period (A) and a later one (B),
made with the same method and settings. Each B hotspot is matched to the A hotspot it
overlaps most (by area); B hotspots overlapping none are ``new``, A hotspots
overlapping no B hotspot are reported as ``gone``. With the incidents of both periods,
the incidents of each period inside each hotspot polygon are counted and the change is
tested with the conditional test for two Poisson counts: given ``n_a + n_b``, ``n_b`` is
binomial with ``p = t_b / (t_a + t_b)`` for period lengths ``t`` in months (exact
two-sided ``scipy.stats.binomtest``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.stats import binomtest

from geo_ssgp.hotspots.grid import point_xy
from geo_ssgp.hotspots.layer import HotspotLayer


def period_months(parameters: dict) -> int | None:
    """Number of months in a layer's recorded period (None if not recorded).

    Parameters
    ----------
    parameters : dict
        A layer's parameters with ``period`` ``{"from": "YYYY-MM", "to": "YYYY-MM"}``.

    Returns
    -------
    int or None
    """
    period = parameters.get("period") or {}
    if not period.get("from") or not period.get("to"):
        return None
    start, end = pd.Period(period["from"], "M"), pd.Period(period["to"], "M")
    return int((end - start).n) + 1


def _best_overlap(b: gpd.GeoDataFrame, a: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``b``: position of the most-overlapping row of ``a`` (-1) and share."""
    best = np.full(len(b), -1)
    share = np.zeros(len(b))
    if len(a) == 0 or len(b) == 0:
        return best, share
    tree = shapely.STRtree(a.geometry.values)
    bi, ai = tree.query(b.geometry.values, predicate="intersects")
    if len(bi) == 0:
        return best, share
    inter = shapely.area(shapely.intersection(b.geometry.values[bi], a.geometry.values[ai]))
    pairs = pd.DataFrame({"b": bi, "a": ai, "area": inter})
    pairs = pairs[pairs["area"] > 0].sort_values(["b", "area"], ascending=[True, False])
    top = pairs.drop_duplicates("b")
    best[top["b"].to_numpy()] = top["a"].to_numpy()
    share[top["b"].to_numpy()] = (
        top["area"].to_numpy() / b.geometry.area.to_numpy()[top["b"].to_numpy()]
    )
    return best, share


def compare_periods(
    layer_a: HotspotLayer,
    layer_b: HotspotLayer,
    incidents_a: gpd.GeoDataFrame | None = None,
    incidents_b: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Hotspots of period B with their match in period A and the change in counts.

    Parameters
    ----------
    layer_a, layer_b : HotspotLayer
        Earlier and later layers (same method and settings).
    incidents_a, incidents_b : geopandas.GeoDataFrame, optional
        The incidents of each period; without them only the matching is reported.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per B hotspot (``status`` ``"persistent"`` or ``"new"``), then one per
        unmatched A hotspot (``"gone"``, with A's geometry): ``status``, ``rank``,
        ``rank_before``, ``overlap_share`` (of the B polygon), ``label``; with incidents
        also ``n_before``, ``n_after``, ``change``, ``change_pct``, ``rate_ratio``
        (per month) and ``p_change``. EPSG:27700.
    """
    a, b = layer_a.hotspots, layer_b.hotspots
    best, share = _best_overlap(b, a)
    a_rank = a["rank"].to_numpy()
    out = gpd.GeoDataFrame(
        {
            "status": np.where(best >= 0, "persistent", "new"),
            "rank": b["rank"].to_numpy(),
            "rank_before": pd.array(
                np.where(best >= 0, a_rank[np.maximum(best, 0)], 0), dtype="Int64"
            ),
            "overlap_share": share,
            "label": b["label"].to_numpy(),
        },
        geometry=b.geometry.values,
        crs=b.crs,
    )
    out.loc[best < 0, "rank_before"] = pd.NA
    gone_pos = np.setdiff1d(np.arange(len(a)), best[best >= 0])
    if len(gone_pos):
        gone = gpd.GeoDataFrame(
            {
                "status": "gone",
                "rank": pd.array(np.full(len(gone_pos), pd.NA), dtype="Int64"),
                "rank_before": pd.array(a_rank[gone_pos], dtype="Int64"),
                "overlap_share": 0.0,
                "label": a["label"].to_numpy()[gone_pos],
            },
            geometry=a.geometry.values[gone_pos],
            crs=a.crs,
        )
        out = pd.concat([out, gone], ignore_index=True)
    out["rank"] = pd.array(out["rank"], dtype="Int64")
    if incidents_a is not None and incidents_b is not None:
        _add_change(out, layer_a, layer_b, incidents_a, incidents_b)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=b.crs if len(b) else a.crs)


def _add_change(out, layer_a, layer_b, incidents_a, incidents_b) -> None:
    """Counts before/after inside each polygon and the two-Poisson change test."""
    n_a = _count_each(incidents_a, out)
    n_b = _count_each(incidents_b, out)
    t_a = period_months(layer_a.parameters) or 1
    t_b = period_months(layer_b.parameters) or 1
    out["n_before"] = n_a
    out["n_after"] = n_b
    out["change"] = n_b - n_a
    with np.errstate(divide="ignore", invalid="ignore"):
        out["change_pct"] = np.where(n_a > 0, 100.0 * (n_b - n_a) / n_a, np.nan)
        out["rate_ratio"] = np.where(n_a > 0, (n_b / t_b) / (n_a / t_a), np.nan)
    share = t_b / (t_a + t_b)
    out["p_change"] = [  # one exact test per hotspot (tens of rows)
        binomtest(int(nb), int(na + nb), share).pvalue if na + nb > 0 else np.nan
        for na, nb in zip(n_a, n_b, strict=True)
    ]


def _count_each(incidents: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> np.ndarray:
    """Incidents inside each polygon, counted independently (polygons may overlap)."""
    x, y = point_xy(incidents)
    tree = shapely.STRtree(shapely.points(x, y))
    poly_i, _ = tree.query(polygons.geometry.values, predicate="intersects")
    return np.bincount(poly_i, minlength=len(polygons))


__all__ = ["compare_periods", "period_months"]
