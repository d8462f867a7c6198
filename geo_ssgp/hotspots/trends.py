"""Monthly series and their trend test, for any place and crime-type filter.

:func:`monthly_series` counts incidents per month inside a place (the district, a ward, an
LSOA, a focus area or a hotspot polygon; all incidents when no place is given), months
without incidents as 0. :func:`trend_test` answers "do the monthly counts rise or fall
steadily over the period, beyond chance?" with the Mann-Kendall test
(``pymannkendall.original_test``, two-sided, 5 %) and Sen's slope (incidents per month).
With fewer than 10 months the test has little power and the result says so.

Time of day (local logs only: police.uk publishes the month, never a date or time):
:func:`day_hour_table` counts incidents with a clock time (``time_known``) by day of week and
hour; :func:`~geo_ssgp.filters.night_time_mask` (the one rule, kept in ``filters.py`` so
``Filters(night=True)`` can use it; re-exported here) selects the night-time economy window,
by default nights starting Friday and Saturday from 20:00 to 04:00 the next morning
(settings ``night_days``, ``night_start``, ``night_end``), so Saturday 01:00 belongs to
Friday night.

Knife crime: police.uk has no knife flag. :data:`KNIFE_PROXY` (possession of weapons,
robbery, violence and sexual offences) stands in, and :data:`KNIFE_NOTE` says so wherever
it is shown.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pymannkendall
import shapely

from geo_ssgp.filters import DAYS, MONTH_ONLY_NOTE, night_time_mask, timed
from geo_ssgp.hotspots.grid import point_xy

#: Crime types standing in for knife crime (police.uk has no knife flag).
KNIFE_PROXY = ("Possession of weapons", "Robbery", "Violence and sexual offences")
#: The note shown with the knife-crime proxy.
KNIFE_NOTE = (
    "police.uk has no knife-crime flag: 'knife crime' here is the proxy possession of "
    "weapons + robbery + violence and sexual offences, which includes offences without a knife"
)
#: Months below which the trend test is flagged as weak.
MIN_MONTHS = 10


def monthly_series(
    incidents: gpd.GeoDataFrame,
    months: list[str],
    place: Any | None = None,
) -> pd.Series:
    """Incidents per month inside a place, zeros for months without any.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Already filtered to the crime types wanted (EPSG:27700), with ``month``.
    months : list of str
        The months of the series, ``YYYY-MM`` ascending.
    place : shapely geometry, optional
        Polygon in EPSG:27700; points on its edge count. ``None``: every incident.

    Returns
    -------
    pandas.Series
        Integer counts indexed by ``months``.
    """
    chosen = incidents
    if place is not None and len(incidents):
        x, y = point_xy(incidents)
        shapely.prepare(place)
        chosen = incidents[shapely.intersects(place, shapely.points(x, y))]
    labels = pd.to_datetime(chosen["month"]).dt.strftime("%Y-%m")
    return labels.value_counts().reindex(months, fill_value=0).astype(int).rename("count")


def trend_test(series: pd.Series, alpha: float = 0.05) -> dict:
    """Mann-Kendall trend of a monthly series, with Sen's slope and plain words.

    Parameters
    ----------
    series : pandas.Series
        Counts per month, in order.
    alpha : float

    Returns
    -------
    dict
        ``tau``, ``p_value``, ``slope_per_month``, ``n_months``, ``trend`` (``"rising"``,
        ``"falling"`` or ``"no clear trend"``), ``words`` (a sentence) and ``weak`` (fewer
        than :data:`MIN_MONTHS` months).
    """
    values = np.asarray(series, dtype=float)
    n = len(values)
    if n < 3 or np.ptp(values) == 0:
        tau, p, slope = 0.0, 1.0, 0.0
    else:
        result = pymannkendall.original_test(values, alpha=alpha)
        tau, p, slope = float(result.Tau), float(result.p), float(result.slope)
    trend = "no clear trend"
    if p < alpha:
        trend = "rising" if tau > 0 else "falling"
    words = f"{trend} over {n} months (Mann-Kendall p = {p:.2g}; {slope:+.1f} a month)"
    if n < MIN_MONTHS:
        words += f"; with fewer than {MIN_MONTHS} months the test rarely detects a trend"
    return {
        "tau": tau,
        "p_value": p,
        "slope_per_month": slope,
        "n_months": n,
        "trend": trend,
        "words": words,
        "weak": n < MIN_MONTHS,
    }


def place_trend(
    incidents: gpd.GeoDataFrame,
    months: list[str],
    label: str,
    place: Any | None = None,
) -> dict:
    """A labelled monthly series with its trend test (what a trend chart draws).

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Filtered incidents.
    months : list of str
    label : str
        What the series is (e.g. ``"Gloucester district, ASB"``).
    place : shapely geometry, optional

    Returns
    -------
    dict
        ``label``, ``months``, ``counts`` and the keys of :func:`trend_test`.
    """
    series = monthly_series(incidents, months, place)
    return {
        "label": label,
        "months": list(months),
        "counts": series.tolist(),
        **trend_test(series),
    }


def day_hour_table(incidents: pd.DataFrame) -> pd.DataFrame:
    """Incidents by day of week (rows, Mon..Sun) and hour (columns 0..23).

    Parameters
    ----------
    incidents : pandas.DataFrame
        With ``occurred_at`` and ``time_known`` (local logs).

    Returns
    -------
    pandas.DataFrame
        7 x 24 integer counts; ``attrs["without_time"]`` counts the incidents left out
        (police.uk rows, or local rows with a date only).
    """
    when = timed(incidents).dropna()
    table = pd.crosstab(
        pd.Categorical(when.dt.day_of_week.map(dict(enumerate(DAYS))), categories=DAYS),
        pd.Categorical(when.dt.hour, categories=range(24)),
        dropna=False,
    )
    table.index.name, table.columns.name = "day", "hour"
    table.attrs["without_time"] = int(len(incidents) - len(when))
    return table.astype(int)


__all__ = [
    "DAYS",
    "KNIFE_NOTE",
    "MONTH_ONLY_NOTE",
    "day_hour_table",
    "night_time_mask",
    "KNIFE_PROXY",
    "MIN_MONTHS",
    "monthly_series",
    "place_trend",
    "trend_test",
]
