"""Change between two periods: the one change test, per place or per hotspot.

**The test** (:func:`change_test`): for each place, ``n_a`` incidents in the earlier period
(``t_a`` months) and ``n_b`` in the later one (``t_b`` months). If both periods come from
one Poisson process with the same rate per month, then given ``n_a + n_b`` the later count
is binomial with ``p = t_b / (t_a + t_b)``: the exact conditional test for two Poisson
counts (``scipy.stats.binomtest``, two-sided), so unequal periods are compared per month.
It answers "did this place's rate per month change between the periods, beyond chance?".
p-values are adjusted over all places with Benjamini-Hochberg
(:func:`geo_ssgp.hotspots.gistar.adjust_pvalues`); ``change_class`` is ``significant
increase`` / ``significant decrease`` when the adjusted p is below ``alpha``, else ``no
significant change``. Places without incidents in either period are not tested.

**Places** (:func:`pack_change`): grid cells or LSOAs (from the space-time cube), or hotspot
polygons. Hotspots chosen on the earlier period alone fall back toward the average in the
later one even when nothing changed (regression to the mean), so by default they are chosen
on both periods pooled (``selection="both"``); ``selection="earlier"`` is offered and the
output says which was used.

:func:`compare_periods` takes the layers of an earlier period (A) and a later one (B),
made with the same method and settings. Each B hotspot is matched to the A hotspot it
overlaps most (by area); B hotspots overlapping none are ``new``, A hotspots
overlapping no B hotspot are reported as ``gone``. With the incidents of both periods,
the incidents of each period inside each hotspot polygon are counted and the change is
tested with :func:`change_test` (the meeting view's table; its hotspots are the later
period's, matched to the earlier ones).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.stats import binomtest

from geo_ssgp.errors import BadInput
from geo_ssgp.filters import Filters
from geo_ssgp.geocode import inside_area
from geo_ssgp.hotspots.cube import pack_cube
from geo_ssgp.hotspots.gistar import adjust_pvalues
from geo_ssgp.hotspots.grid import point_xy
from geo_ssgp.hotspots.label import label_hotspots
from geo_ssgp.hotspots.layer import HotspotLayer, frame_to_geojson, json_safe
from geo_ssgp.pack import AreaPack

#: Change classes.
INCREASE, DECREASE, NO_CHANGE = (
    "significant increase",
    "significant decrease",
    "no significant change",
)
#: Place units of :func:`pack_change`.
CHANGE_UNITS = ("grid", "lsoa", "hotspot")
#: How hotspots are chosen for the comparison.
SELECTIONS = {
    "both": "hotspots chosen on both periods pooled (no regression-to-the-mean bias)",
    "earlier": "hotspots chosen on the earlier period: expect falls from regression to the "
    "mean even where nothing changed",
}


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
        (per month), ``p_change``, ``p_adjusted`` and ``change_class``
        (:func:`change_test`). EPSG:27700.
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
    tested = change_test(n_a, n_b, t_a, t_b)
    out["rate_ratio"] = tested["rate_ratio"].to_numpy()
    out["p_change"] = tested["p_value"].to_numpy()
    out["p_adjusted"] = tested["p_adjusted"].to_numpy()
    out["change_class"] = tested["change_class"].to_numpy()


def change_test(
    n_before: np.ndarray,
    n_after: np.ndarray,
    months_before: float,
    months_after: float,
    *,
    alpha: float = 0.05,
    p_adjust: str = "fdr_bh",
) -> pd.DataFrame:
    """The exact conditional test for two Poisson counts, per place, with BH adjustment.

    Parameters
    ----------
    n_before, n_after : array-like of int
        Incidents per place in the earlier and the later period.
    months_before, months_after : float
        Length of each period (the exposure), months.
    alpha : float
        Level of the adjusted p-value for a significant class.
    p_adjust : {"fdr_bh", "bonferroni", "none"}

    Returns
    -------
    pandas.DataFrame
        ``before``, ``after``, ``before_per_month``, ``after_per_month``, ``rate_ratio``
        (after / before per month; NaN when ``before`` is 0), ``p_value`` (NaN when both
        counts are 0: not tested), ``p_adjusted`` and ``change_class``.
    """
    n_a = np.asarray(n_before, dtype=np.int64)
    n_b = np.asarray(n_after, dtype=np.int64)
    share = months_after / (months_before + months_after)
    p = np.full(len(n_a), np.nan)
    for i in np.flatnonzero(n_a + n_b > 0):  # one exact test per place with incidents
        p[i] = binomtest(int(n_b[i]), int(n_a[i] + n_b[i]), share).pvalue
    p_adj = adjust_pvalues(p, p_adjust)
    rate_a, rate_b = n_a / months_before, n_b / months_after
    significant = np.nan_to_num(p_adj, nan=1.0) < alpha
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(n_a > 0, rate_b / rate_a, np.nan)
    return pd.DataFrame(
        {
            "before": n_a,
            "after": n_b,
            "before_per_month": rate_a,
            "after_per_month": rate_b,
            "rate_ratio": ratio,
            "p_value": p,
            "p_adjusted": p_adj,
            "change_class": np.select(
                [significant & (rate_b > rate_a), significant & (rate_b < rate_a)],
                [INCREASE, DECREASE],
                default=NO_CHANGE,
            ),
        }
    )


def _months(filters: Filters) -> int:
    """Months in a period given with both ends."""
    if not (filters.start and filters.end):
        raise BadInput("a compared period needs a first and a last month", param="before")
    return period_months({"period": {"from": filters.start, "to": filters.end}})


def _place_counts(incidents, pack, before, after, unit, cell_size):
    """Places (cells or LSOAs) with their counts in each period, from one cube."""
    pooled = Filters.of(
        min(before.start, after.start), max(before.end, after.end), before.crime_types
    )
    cube = pack_cube(incidents, pack, pooled, unit=unit, cell_size=cell_size)
    months = np.array(cube.step_labels)
    in_a = (months >= before.start) & (months <= before.end)
    in_b = (months >= after.start) & (months <= after.end)
    return cube.places, cube.counts[in_a].sum(axis=0), cube.counts[in_b].sum(axis=0), cube


def _hotspot_counts(incidents, pack, before, after, method, selection):
    """Hotspot polygons chosen per ``selection`` with their counts in each period."""
    from geo_ssgp.hotspots import run_method  # the registry imports this module

    inside = inside_area(incidents)
    inc_a, inc_b = before.apply(inside), after.apply(inside)
    chosen = pd.concat([inc_a, inc_b]) if selection == "both" else inc_a
    layer = run_method(method, gpd.GeoDataFrame(chosen, crs=inside.crs), pack)
    spots = layer.hotspots[["rank", "label", "geometry"]].reset_index(drop=True)
    return spots, _count_each(inc_a, spots), _count_each(inc_b, spots), layer


def pack_change(
    incidents: gpd.GeoDataFrame,
    pack: AreaPack,
    before: Filters,
    after: Filters,
    *,
    unit: str = "grid",
    cell_size: float | None = None,
    method: str = "grid-count",
    selection: str = "both",
    alpha: float = 0.05,
) -> gpd.GeoDataFrame:
    """Tested change per place between two periods (CLI, API, meeting pack).

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Geocoded incidents (``status == "ok"`` rows are used).
    pack : AreaPack
    before, after : Filters
        The two periods (each with a first and last month) and the crime types.
    unit : {"grid", "lsoa", "hotspot"}
        Grid cells of ``cell_size`` metres, LSOAs, or hotspot polygons of ``method``.
    cell_size : float, optional
        Grid cell side, metres (default 100).
    method : str
        Hotspot method for ``unit="hotspot"``.
    selection : {"both", "earlier"}
        Which period(s) choose the hotspots (:data:`SELECTIONS`).
    alpha : float

    Returns
    -------
    geopandas.GeoDataFrame
        One row per place: ``code``, ``label`` (hotspots: theirs; cells and LSOAs: the
        label of places with a significant change, else ``""``), the columns of
        :func:`change_test`, geometry (EPSG:27700); ``attrs["parameters"]`` says how it
        was made.
    """
    if unit not in CHANGE_UNITS:
        raise BadInput(f"unit must be one of {CHANGE_UNITS}, not {unit!r}", param="unit")
    if selection not in SELECTIONS:
        raise BadInput(f"selection must be one of {tuple(SELECTIONS)}", param="selection")
    t_a, t_b = _months(before), _months(after)
    if before.end >= after.start:
        raise BadInput("the earlier period must end before the later one starts", param="after")
    if unit == "hotspot":
        places, n_a, n_b, layer = _hotspot_counts(incidents, pack, before, after, method, selection)
        made = {"method": layer.method, "selection": SELECTIONS[selection]}
    else:
        places, n_a, n_b, cube = _place_counts(incidents, pack, before, after, unit, cell_size)
        made = {"cell_size_m": cube.parameters["cell_size_m"]}
    tested = change_test(n_a, n_b, t_a, t_b, alpha=alpha)
    out = gpd.GeoDataFrame(
        pd.concat([places.drop(columns="geometry").reset_index(drop=True), tested], axis=1),
        geometry=places.geometry.values,
        crs=places.crs,
    )
    if unit != "hotspot":
        out["label"] = _changed_labels(out, incidents, pack, (before, after))
    out.attrs["parameters"] = {
        "unit": unit,
        **made,
        "before": before.as_dict(),
        "after": after.as_dict(),
        "months": {"before": t_a, "after": t_b},
        "test": "exact conditional binomial test of two Poisson counts, per month "
        "(scipy.stats.binomtest, two-sided)",
        "p_adjust": "fdr_bh",
        "alpha": alpha,
        "note": period_note(t_a, t_b),
    }
    return out


def _changed_labels(
    table: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame, pack: AreaPack, periods
) -> pd.Series:
    """Labels (ward, streets, nearest named place) of the places with a significant change.

    :func:`geo_ssgp.hotspots.label.label_hotspots` on the incidents of both periods; places
    without a significant change get ``""`` (a cell code says nothing on the ground).
    """
    labels = pd.Series("", index=table.index, dtype=object)
    changed = table["change_class"] != NO_CHANGE
    if changed.any():
        inside = inside_area(incidents)
        both = pd.concat([period.apply(inside) for period in periods])
        both = gpd.GeoDataFrame(both, crs=inside.crs)
        labels[changed] = label_hotspots(table[changed], both, pack).to_numpy()
    return labels


def period_note(t_a: int, t_b: int) -> str:
    """The visible note on period lengths (equal, or compared per month)."""
    if t_a == t_b:
        return f"both periods are {t_a} months"
    return f"periods differ ({t_a} and {t_b} months): counts are compared per month"


def change_geojson(table: gpd.GeoDataFrame) -> dict:
    """A :func:`pack_change` table as WGS84 GeoJSON with its parameters and class counts."""
    doc = frame_to_geojson(table)
    doc["parameters"] = json_safe(table.attrs.get("parameters", {}))
    doc["class_counts"] = {k: int(v) for k, v in table["change_class"].value_counts().items()}
    return doc


def _count_each(incidents: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> np.ndarray:
    """Incidents inside each polygon, counted independently (polygons may overlap)."""
    x, y = point_xy(incidents)
    tree = shapely.STRtree(shapely.points(x, y))
    poly_i, _ = tree.query(polygons.geometry.values, predicate="intersects")
    return np.bincount(poly_i, minlength=len(polygons))


__all__ = [
    "CHANGE_UNITS",
    "DECREASE",
    "INCREASE",
    "NO_CHANGE",
    "SELECTIONS",
    "change_geojson",
    "change_test",
    "compare_periods",
    "pack_change",
    "period_months",
    "period_note",
]
