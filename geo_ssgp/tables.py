"""Tables written for people: every CSV the product writes goes through :func:`to_csv`.

A spreadsheet treats a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula, so text from incident files (a location such as ``=HYPERLINK(...)``)
could run when an exported CSV is opened. Following OWASP's rule for CSV injection, such a
text cell is prefixed with a single quote, which spreadsheets show as text. Plain numbers
(``-2.24``, ``+44``) are left alone: they are not formulas. Column names are checked the same
way and never renamed otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

#: First characters that make a spreadsheet cell a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def neutralise(value: object) -> object:
    """A cell value that a spreadsheet will not run as a formula.

    Parameters
    ----------
    value : object
        Non-strings and plain numbers written as text are returned unchanged.

    Returns
    -------
    object
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell and column name neutralised."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    out.columns = [neutralise(c) if isinstance(c, str) else c for c in out.columns]
    return out


def to_csv(frame: pd.DataFrame, path: str | Path | None = None, **kwargs) -> str | None:
    """Write ``frame`` as CSV (no index) with formula cells neutralised.

    Parameters
    ----------
    frame : pandas.DataFrame
    path : str or Path, optional
        Output file; ``None`` returns the text.
    **kwargs
        Passed to :meth:`pandas.DataFrame.to_csv`.

    Returns
    -------
    str or None
    """
    return safe_frame(frame).to_csv(path, index=False, **kwargs)
