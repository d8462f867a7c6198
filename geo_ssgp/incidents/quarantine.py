"""Quarantine bookkeeping: one reason per rejected row, and the quarantine table.

Every check of validation marks rows on one :class:`Reasons` record, whose first reason
for a row wins; this is what makes the documented check order hold. :func:`quarantine_table`
turns the rejected rows into the :data:`~geo_ssgp.schema.QUARANTINE_COLUMNS` table with
each original row as JSON text, so that nothing is dropped without a trace.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from geo_ssgp.incidents.staging import Staged
from geo_ssgp.schema import QUARANTINE_COLUMNS

#: Function of a boolean row mask giving one text per masked row.
RowText = Callable[[np.ndarray], np.ndarray]
#: Detail text for every marked row, or a :data:`RowText`.
Detail = str | RowText


class Reasons:
    """Per-row quarantine reason and detail; the first reason set for a row wins.

    Parameters
    ----------
    n : int
        Rows.

    Attributes
    ----------
    reason, detail : numpy.ndarray of str
        Reason code (one of :data:`~geo_ssgp.schema.QUARANTINE_REASONS`) and explanation;
        ``""`` for rows still accepted.
    ok : numpy.ndarray of bool
        Rows without a reason yet.
    """

    def __init__(self, n: int) -> None:
        self.reason = np.full(n, "", dtype=object)
        self.detail = np.full(n, "", dtype=object)
        self.ok = np.ones(n, dtype=bool)

    def mark(self, mask: np.ndarray | pd.Series, code: str, detail: Detail) -> None:
        """Give ``code`` to rows in ``mask`` that have no reason yet.

        Parameters
        ----------
        mask : array of bool
        code : str
            A reason code.
        detail : str or callable
            Text, or a function of the boolean row mask returning one text per row; it is
            called only for rows that get ``code``.
        """
        m = np.asarray(mask, dtype=bool) & self.ok
        if m.any():
            self.reason[m] = code
            self.detail[m] = detail(m) if callable(detail) else detail
            self.ok[m] = False

    def take(self, other: Reasons, rows: np.ndarray) -> None:
        """Copy ``other``'s reason and detail onto ``rows`` (which must still be ok)."""
        self.reason[rows] = other.reason[rows]
        self.detail[rows] = other.detail[rows]
        self.ok[rows] = False


def quarantine_table(
    staged: Sequence[Staged], reasons: Reasons, file_idx: np.ndarray, row: np.ndarray
) -> pd.DataFrame:
    """The quarantine: one row per rejected input row, in input order.

    Parameters
    ----------
    staged : sequence of Staged
        The files of the call.
    reasons : Reasons
        Reasons over all rows of the call.
    file_idx, row : numpy.ndarray of int
        Per row of the call, its file (index into ``staged``) and its row in that file.

    Returns
    -------
    pandas.DataFrame
        :data:`~geo_ssgp.schema.QUARANTINE_COLUMNS`; ``original`` is the input row as JSON.
    """
    pos = np.flatnonzero(~reasons.ok)
    original = np.empty(len(pos), dtype=object)
    for i, s in enumerate(staged):
        sel = file_idx[pos] == i
        if sel.any():
            records = s.original(row[pos[sel]])
            original[sel] = [json.dumps(rec, ensure_ascii=False, default=str) for rec in records]
    return pd.DataFrame(
        {
            "source": np.array([s.source for s in staged], dtype=object)[file_idx[pos]],
            "source_file": np.array([s.path.name for s in staged], dtype=object)[file_idx[pos]],
            "source_row": row[pos],
            "reason": reasons.reason[pos],
            "detail": reasons.detail[pos],
            "original": original,
        },
        columns=QUARANTINE_COLUMNS,
    )
