"""Disclosure control: the one place that decides what a non-analyst sees of an aggregate.

Two rules, applied by construction rather than field by field:

1. **Public records only.** Every answer for the ``pcso`` and ``viewer`` roles is computed
   from public (police.uk) records alone: :func:`visible_filters` turns the caller's filters
   into ``restricted=False`` and refuses a filter that selects restricted (local) records
   only (``source=local``, or a ``subcategory``: only local logs carry one). No count,
   density, score, percentile, label or month a non-analyst sees depends on a restricted
   record, so no pair of allowed queries can be differenced into one: the
   ``/api/incidents`` points they may fetch already give public counts exactly.
2. **Small counts suppressed with everything derived from them.** A count from 1 up to
   ``settings.suppress_below - 1`` is replaced by ``null`` with a ``suppressed`` flag, and on
   that row every column not on an allow-list of count-free columns (names, codes,
   population, deprivation, area, geometry, rank) is nulled too: densities, cell maxima,
   snap-point counts and shares, scores, z-values, percentiles. The allow-list, not a list of
   derived columns, decides, so a column a method adds later is suppressed by default.
   Zero is not disclosive and is kept.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable

import numpy as np
import pandas as pd

from geo_ssgp.errors import Forbidden
from geo_ssgp.filters import Filters

#: Sources whose records are restricted (local, non-public).
RESTRICTED_SOURCES = frozenset({"local"})

#: Hotspot columns that do not depend on the incident count (kept on suppressed rows).
HOTSPOT_KEEP = frozenset({"rank", "area_m2", "label", "geometry", "suppressed"})

#: Area-statistics columns that do not depend on the incident count.
AREA_KEEP = frozenset(
    {
        "code",
        "name",
        "lad_cd",
        "ward_cd",
        "ward_nm",
        "lsoa11cd",
        "population",
        "imd_rank",
        "imd_decile",
        "imd_crime_decile",
        "area_m2",
        "area_km2",
        "lsoa_vintage",
        "geometry",
        "suppressed",
    }
)

#: Candidate-ranking columns that do not depend on the incident count.
CANDIDATE_KEEP = frozenset(
    {
        "id",
        "name",
        "ward",
        "place",
        "imd_decile",
        "deprivation_scaled",
        "deprivation_weight",
        "deprivation_points",
        "count_weight",
        "rate_weight",
        "trend_weight",
        "position",
        "suppressed",
    }
)


def visible_filters(filters: Filters, is_analyst: bool) -> Filters:
    """The filters an answer for this caller is computed with (rule 1).

    Parameters
    ----------
    filters : Filters
    is_analyst : bool

    Returns
    -------
    Filters
        Unchanged for analysts; ``restricted=False`` (public records only) otherwise.

    Raises
    ------
    Forbidden
        A non-analyst asked for restricted records only (``source=local``, or a
        subcategory, which only local records carry).
    """
    if is_analyst:
        return filters
    if filters.subcategories:
        raise Forbidden(
            "subcategories come from restricted local logs: analysts only", param="subcategory"
        )
    if filters.restricted or (filters.sources and set(filters.sources) <= RESTRICTED_SOURCES):
        raise Forbidden("restricted (local) records are for analysts only", param="source")
    return dataclasses.replace(filters, restricted=False)


def small(values: pd.Series, threshold: int) -> pd.Series:
    """Whether each count is disclosive: ``0 < value < threshold``."""
    numbers = pd.to_numeric(values, errors="coerce")
    return (numbers > 0) & (numbers < threshold)


def _null_rows(column: pd.Series, mask: np.ndarray) -> pd.Series:
    """The column with ``mask`` rows nulled (NaN for numbers, ``None`` otherwise)."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.astype("float64").where(~mask, np.nan)
    return column.astype(object).where(~mask, None)


def suppress_frame(
    frame: pd.DataFrame,
    count: str,
    threshold: int,
    derived: Iterable[str] = (),
    keep: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Null small counts and the columns derived from them; add a ``suppressed`` flag.

    Parameters
    ----------
    frame : pandas.DataFrame
    count : str
        Count column.
    threshold : int
        Counts below it (and above zero) are suppressed.
    derived : iterable of str
        Columns computed from the count, nulled on the same rows (used without ``keep``).
    keep : iterable of str, optional
        Allow-list: when given, every column *not* in it is nulled on suppressed rows.

    Returns
    -------
    pandas.DataFrame
        A copy with ``suppressed`` (bool) added; ``attrs`` kept.
    """
    out = frame.copy()
    mask = small(out[count], threshold).to_numpy()
    geometry = getattr(out, "_geometry_column_name", None)
    if keep is None:
        cols = [count, *derived]
    else:
        kept = set(keep) | {geometry}
        cols = [c for c in out.columns if c not in kept]
    for col in cols:
        if col in out:
            out[col] = _null_rows(out[col], mask)
    out["suppressed"] = mask
    out.attrs = frame.attrs
    return out


def _small(value: object, threshold: int) -> bool:
    return isinstance(value, (int, float)) and 0 < value < threshold


def suppress_summary(summary: dict, threshold: int) -> dict:
    """Suppress the small counts of a focus-area summary (:func:`geo_ssgp.focus.summarise`).

    Parameters
    ----------
    summary : dict
    threshold : int

    Returns
    -------
    dict
        A copy: the headline count (with its rate and shares), the district total, the
        crime-type, monthly (selection and district), street and LSOA counts below the
        threshold become ``None`` with ``suppressed: True``.
    """
    out = copy.deepcopy(summary)
    if _small(out.get("incidents"), threshold):
        for key in (
            "incidents",
            "rate_per_1000",
            "rate_ratio",
            "share_of_district_incidents",
            "concentration",
        ):
            out[key] = None
        out["suppressed"] = True
    district = out.get("district")
    if isinstance(district, dict) and _small(district.get("incidents"), threshold):
        out["district"] = {**district, "incidents": None, "rate_per_1000": None}
        out["district"]["suppressed"] = True
        out["rate_ratio"] = out["share_of_district_incidents"] = None
    for key, fields in (
        ("crime_types", ("incidents", "share")),
        ("top_streets", ("incidents",)),
        ("lsoas", ("incidents", "rate_per_1000")),
        ("monthly", ("incidents",)),
    ):
        for row in out.get(key) or []:
            _suppress_row(row, fields, threshold)
    for row in out.get("monthly") or []:
        if _small(row.get("district"), threshold):
            row["district"] = None
            row["suppressed"] = True
    change = out.get("change")
    if change and (_small(change["recent"], threshold) or _small(change["previous"], threshold)):
        out["change"] = {
            **change,
            "recent": None,
            "previous": None,
            "percent": None,
            "suppressed": True,
        }
    return out


def _suppress_row(row: dict, fields: tuple[str, ...], threshold: int) -> None:
    hide = _small(row.get(fields[0]), threshold)
    row["suppressed"] = hide
    if hide:
        for f in fields:
            row[f] = None
