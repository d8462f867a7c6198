"""Text and colour for the page: escaping, value labels, classification and colour ramps.

Text from data (names, labels, location text, parameters) is HTML-escaped here before it
reaches the page (braces too, because Folium passes rendered scripts through Jinja2 again):
tooltips, popups, legends and Leaflet's layer control insert text with ``innerHTML``, so the
escaped text is displayed literally. Numbers become display text with an en dash for
missing values; :func:`classify` puts values into mapclassify classes and :func:`ramp`
gives their ColorBrewer colours.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import mapclassify
import numpy as np
import pandas as pd
from branca.utilities import color_brewer

#: Caveat shown wherever incidents sit on police.uk snap points.
SNAP_POINT_NOTE = "police.uk snap point: an anonymised map point, not an address"
#: Fill of areas without a value.
NO_DATA = "#cccccc"
#: One colour per hotspot layer on a map, in the order the layers are added.
HOTSPOT_COLOURS = ("#d7301f", "#6a51a3", "#08519c", "#006d2c", "#b35806", "#c51b7d")

_MISSING = "–"
_UNITS = (("_per_km2", " per km²"), ("_km2", " (km²)"), ("_m2", " (m²)"), ("_m", " (m)"))


# --------------------------------------------------------------------------------------------
# Escaping
# --------------------------------------------------------------------------------------------


def esc(text: Any) -> str:
    """HTML-escape text for the page; braces become entities too.

    Folium passes every rendered script through Jinja2 again, so ``{{``, ``{%`` and ``{#``
    from data would be evaluated as template code; ``&#123;`` displays as ``{``.

    Parameters
    ----------
    text : Any
        Converted with ``str``.

    Returns
    -------
    str
    """
    return html.escape(str(text)).replace("{", "&#123;").replace("}", "&#125;")


def js_json(obj: Any) -> str:
    """Compact JSON for a ``<script>`` block.

    ``<`` and ``>`` are written as JSON unicode escapes so no text can close the script
    element; ``&`` is kept, so HTML-escaped text (``&lt;img``) reads as such in the page.

    Parameters
    ----------
    obj : Any
        JSON-serialisable value without NaN.

    Returns
    -------
    str
    """
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e")
    # Folium renders script text through Jinja2 again: break up its delimiters. In compact
    # JSON these pairs only occur inside strings, where the escape is valid.
    return text.replace("{{", "{\\u007b").replace("{%", "\\u007b%").replace("{#", "\\u007b#")


def layer_name(name: str) -> str:
    """A layer-control name: Leaflet inserts it with innerHTML, so it is escaped.

    Parameters
    ----------
    name : str

    Returns
    -------
    str
    """
    return esc(str(name))


# --------------------------------------------------------------------------------------------
# Display text of columns
# --------------------------------------------------------------------------------------------


def as_float(values: Any) -> pd.Series:
    """Numbers as float64 with NaN for missing (nullable integers included).

    Parameters
    ----------
    values : array-like

    Returns
    -------
    pandas.Series
    """
    return pd.to_numeric(pd.Series(values), errors="coerce").astype("float64")


def text(values: pd.Series) -> pd.Series:
    """Escaped display text; missing or empty values become an en dash.

    Parameters
    ----------
    values : pandas.Series

    Returns
    -------
    pandas.Series
        Object dtype.
    """
    out = values.astype(object).where(values.notna(), None)
    return out.map(lambda v: _MISSING if v is None or v == "" else esc(str(v))).astype(object)


def _numbers_text(values: pd.Series, render: Callable[[float], str]) -> pd.Series:
    """Each number rendered as text; missing values become an en dash."""
    out = as_float(values).map(lambda v: _MISSING if pd.isna(v) else render(v))
    return out.astype(object)


def int_text(values: pd.Series) -> pd.Series:
    """Rounded whole numbers with thousands separators (``1,234``); missing -> en dash.

    Parameters
    ----------
    values : pandas.Series

    Returns
    -------
    pandas.Series
        Object dtype.
    """
    return _numbers_text(values, lambda v: f"{int(round(v)):,}")


def num_text(values: pd.Series, digits: int = 1) -> pd.Series:
    """Numbers with ``digits`` decimals and thousands separators; missing -> en dash.

    Parameters
    ----------
    values : pandas.Series
    digits : int

    Returns
    -------
    pandas.Series
        Object dtype.
    """
    return _numbers_text(values, lambda v: f"{v:,.{digits}f}")


def _number_text(value: float) -> str:
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if abs(value) >= 1000 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.4g}"


def value_text(value: Any) -> str:
    """Plain (unescaped) text of a parameter or statistic value.

    Parameters
    ----------
    value : Any
        None/NaN (``"none"``), bool, number, mapping, sequence, timestamp or anything else.

    Returns
    -------
    str
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "none"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return _number_text(float(value))
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={value_text(v)}" for k, v in value.items()) or "none"
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return ", ".join(value_text(v) for v in value) or "none"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m")
    return str(value)


def pretty(key: str) -> str:
    """Display name of a column or parameter: ``cell_size_m`` -> ``Cell size (m)``.

    Parameters
    ----------
    key : str

    Returns
    -------
    str
    """
    label = str(key)
    for suffix, unit in _UNITS:
        if label.endswith(suffix):
            label = label[: -len(suffix)] + unit
            break
    label = label.replace("_", " ").strip()
    return label[:1].upper() + label[1:]


def range_label(low: float, high: float, digits: int) -> str:
    """Legend text of a class: ``low – high`` with ``digits`` decimals.

    Parameters
    ----------
    low, high : float
    digits : int

    Returns
    -------
    str
    """
    return f"{low:,.{digits}f} – {high:,.{digits}f}"


# --------------------------------------------------------------------------------------------
# Classes and colours
# --------------------------------------------------------------------------------------------


def classify(
    values: Any,
    k: int = 5,
    scheme: str = "quantiles",
    bins: Sequence[float] | None = None,
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Class of each value with mapclassify, and each class's (low, high) bounds.

    Parameters
    ----------
    values : array-like
        Numbers; missing values get class -1.
    k : int
        Number of classes, reduced to the number of distinct values when there are fewer.
    scheme : {"quantiles", "fisher_jenks"}
        ``mapclassify.Quantiles`` or ``mapclassify.FisherJenks``.
    bins : sequence of float, optional
        Explicit upper class bounds (a value goes to the first class whose bound it does not
        exceed, as in ``mapclassify.UserDefined``), e.g. breaks shared by two maps; ``k``
        and ``scheme`` are then not used and every class is kept, so two maps classified
        with the same bins have the same legend.

    Returns
    -------
    (numpy.ndarray, list of (float, float))
        Class index per value (0 = lowest) and the bounds of the classes in use; a class
        holds values above the previous class's upper bound up to its own.
    """
    schemes = {"quantiles": mapclassify.Quantiles, "fisher_jenks": mapclassify.FisherJenks}
    if scheme not in schemes:
        raise ValueError(f"scheme must be one of {sorted(schemes)}, not {scheme!r}")
    y = as_float(values).to_numpy()
    ok = np.isfinite(y)
    cls = np.full(len(y), -1, dtype=int)
    if bins is not None:
        return _user_classes(y, ok, cls, bins)
    if not ok.any():
        return cls, []
    k = max(1, min(int(k), len(np.unique(y[ok]))))
    if k == 1:
        cls[ok] = 0
        return cls, [(float(y[ok].min()), float(y[ok].max()))]
    classifier = schemes[scheme](y[ok], k=k)
    bins = np.asarray(classifier.bins, dtype=float)
    lows = np.r_[y[ok].min(), bins[:-1]]
    used, dense = np.unique(np.asarray(classifier.yb), return_inverse=True)
    cls[ok] = dense
    return cls, [(float(lows[c]), float(bins[c])) for c in used]


def _user_classes(
    y: np.ndarray, ok: np.ndarray, cls: np.ndarray, bins: Sequence[float]
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Classes of ``y`` by explicit upper bounds (every class kept, lowest from 0)."""
    upper = np.asarray(sorted(bins), dtype=float)
    if ok.any() and y[ok].max() > upper[-1]:
        upper = np.r_[upper[:-1], y[ok].max()]  # values above the last bound join the top class
    cls[ok] = np.minimum(np.searchsorted(upper, y[ok], side="left"), len(upper) - 1)
    lows = np.r_[min(0.0, float(y[ok].min()) if ok.any() else 0.0), upper[:-1]]
    return cls, [(float(lo), float(hi)) for lo, hi in zip(lows, upper, strict=True)]


def ramp(name: str, n: int) -> list[str]:
    """``n`` colours of a ColorBrewer ramp (at least 3 are drawn, the darkest kept).

    Parameters
    ----------
    name : str
        ColorBrewer name, e.g. ``"YlOrRd"``.
    n : int

    Returns
    -------
    list of str
        Hex colours, lightest first.
    """
    return color_brewer(name, max(3, n))[-n:] if n else []
