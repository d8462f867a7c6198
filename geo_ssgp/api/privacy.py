"""Disclosure control for roles other than analyst.

Published crime statistics suppress small counts so that individual incidents cannot be
singled out. For the ``pcso`` and ``viewer`` roles every count from 1 up to
``settings.suppress_below - 1`` is replaced by ``null`` with a ``suppressed`` flag, and every
figure derived from it (rates, shares) is nulled too. Zero is not disclosive and is kept.
Restricted (local) records never appear individually to these roles (see
:mod:`geo_ssgp.api.auth`); they are counted in aggregates only.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import numpy as np
import pandas as pd


def small(values: pd.Series, threshold: int) -> pd.Series:
    """Whether each count is disclosive: ``0 < value < threshold``."""
    numbers = pd.to_numeric(values, errors="coerce")
    return (numbers > 0) & (numbers < threshold)


def suppress_frame(
    frame: pd.DataFrame, count: str, threshold: int, derived: Iterable[str] = ()
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
        Columns computed from the count (rates, shares), nulled on the same rows.

    Returns
    -------
    pandas.DataFrame
        A copy with ``suppressed`` (bool) added.
    """
    out = frame.copy()
    mask = small(out[count], threshold).to_numpy()
    for col in [count, *derived]:
        if col in out:
            out[col] = out[col].astype("float64").where(~mask, np.nan)
    out["suppressed"] = mask
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
        A copy: the headline count (with its rate and shares), crime-type, monthly, street
        and LSOA counts below the threshold become ``None`` with ``suppressed: True``.
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
    for key, fields in (
        ("crime_types", ("incidents", "share")),
        ("top_streets", ("incidents",)),
        ("lsoas", ("incidents", "rate_per_1000")),
    ):
        for row in out.get(key) or []:
            _suppress_row(row, fields, threshold)
    for row in out.get("monthly") or []:
        _suppress_row(row, ("incidents",), threshold)
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
