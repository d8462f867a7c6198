"""The staging contract between the readers and validation.

A reader turns one file into a :class:`Staged` record: the file's identity (path, SHA-256,
source), its row count, a :data:`Stage` of text columns named in :data:`STAGE_COLUMNS`, and
a way back to each original row for the quarantine. Validation gathers the stage columns of
all files with :func:`gather` and reads them through :class:`Text`, one column over every
row of the call. This module reads no files and judges no rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Columns every reader hands to validation (all text; blank when absent).
STAGE_COLUMNS = [
    "rec_id",
    "date",
    "time",
    "crime",
    "location_text",
    "outcome",
    "source_lsoa",
    "source_lsoa_name",
    "lon",
    "lat",
    "east",
    "north",
    "postcode",
]

#: A staged file: stage column -> text Series (``str`` dtype, 0-based index); columns the
#: source lacks are left out and read as blank.
Stage = dict[str, pd.Series]
#: Stage columns over all files, for validation.
Columns = dict[str, "Text"]
#: Row positions -> the original records (dicts) at those positions.
RowsOf = Callable[[np.ndarray], list[dict]]


@dataclass
class Staged:
    """One file read into the stage columns, before validation.

    Attributes
    ----------
    path : Path
        The file read.
    sha256 : str
        SHA-256 of the file's bytes (hex).
    source : str
        One of :data:`geo_ssgp.schema.SOURCES`.
    n : int
        Rows read.
    frame : Stage
        The stage columns the source has.
    original : callable
        Row positions -> the original records, for the quarantine and :func:`read_raw`.
    raw : pandas.DataFrame, optional
        The table as read (CSV and Excel only).
    """

    path: Path
    sha256: str
    source: str
    n: int
    frame: Stage
    original: RowsOf
    raw: pd.DataFrame | None = None


def make_stage(**cols: pd.Series | np.ndarray | None) -> Stage:
    """Build the stage columns from text values.

    Parameters
    ----------
    **cols : Series, ndarray or None
        Stage column -> text values; ``None`` means the source has no such column.
        Surrounding white space is removed later, over all files at once.

    Returns
    -------
    Stage
    """
    out: Stage = {}
    for key, values in cols.items():
        if values is None:
            continue
        if isinstance(values, pd.Series) and isinstance(values.dtype, pd.StringDtype):
            out[key] = values  # read as text already (CSV and Excel readers: 0-based index)
        else:
            out[key] = pd.Series(np.asarray(values, dtype=object), dtype="str")
    return out


def gather(staged: Sequence[Staged], key: str) -> pd.Series | None:
    """One stage column over all files, white space stripped.

    Parameters
    ----------
    staged : sequence of Staged
    key : str
        A name of :data:`STAGE_COLUMNS`.

    Returns
    -------
    pandas.Series or None
        Blank where a file lacks the column; ``None`` when every file does.
    """
    if not any(key in s.frame for s in staged):
        return None
    parts = [s.frame[key] if key in s.frame else pd.Series([""] * s.n, dtype="str") for s in staged]
    column = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if column.hasnans:
        column = column.fillna("")
    return column.str.strip()


def or_blank(column: pd.Series | None, n: int) -> pd.Series:
    """``column``, or ``n`` blank texts when it is ``None``."""
    return pd.Series([""] * n, dtype="str") if column is None else column


class Text:
    """A text column over all rows of a call, read lazily.

    ``col[mask]`` gives the masked rows as an object array of ``str`` (for messages);
    :attr:`blank` and :meth:`floats` work on the whole column without Python objects.

    Parameters
    ----------
    series : pandas.Series or None
        ``str`` dtype, stripped; ``None`` when no file has the column.
    n : int
        Rows in the call.
    """

    def __init__(self, series: pd.Series | None, n: int) -> None:
        self.series = series
        self.n = n

    def __getitem__(self, mask: np.ndarray) -> np.ndarray:
        if self.series is None:
            return np.full(int(np.count_nonzero(mask)), "", dtype=object)
        return self.series[mask].to_numpy(dtype=object)

    @property
    def blank(self) -> np.ndarray:
        """Whether each row is blank (boolean array)."""
        if self.series is None:
            return np.ones(self.n, dtype=bool)
        return (self.series == "").to_numpy(dtype=bool)

    def floats(self, mask: np.ndarray) -> np.ndarray:
        """Numbers parsed where ``mask`` holds; NaN elsewhere and where unparsable."""
        out = np.full(self.n, np.nan)
        if self.series is None or not mask.any():
            return out
        sub = self.series[mask]
        try:  # fast path: every value is a number (Arrow cast, no Python objects)
            out[mask] = pc.cast(pa.array(sub.array), pa.float64()).to_numpy(zero_copy_only=False)
        except (AttributeError, TypeError, pa.ArrowException):
            out[mask] = pd.to_numeric(sub.to_numpy(dtype=object), errors="coerce")
        return out
