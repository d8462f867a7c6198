"""Incident IDs: duplicate source IDs and the IDs generated for rows without one.

A source record ID that repeats an earlier *otherwise valid* record of the same source in
the same call (files in the order given, rows in file order) is quarantined as
``duplicate_id``; the first is kept. Rows without a source ID are never deduplicated:
police.uk publishes anti-social behaviour without IDs, and identical rows are separate
incidents at the same snap point. They get a generated, deterministic ID
``<source>:<first 12 hex digits of the file's SHA-256>:<row>``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from geo_ssgp.incidents.quarantine import Reasons
from geo_ssgp.incidents.staging import Staged


def incident_ids(
    rec_id: pd.Series,
    staged: Sequence[Staged],
    file_idx: np.ndarray,
    row: np.ndarray,
    keep: np.ndarray,
) -> pd.Series:
    """IDs of the kept rows: the source's ID, or a generated one where it is blank.

    Parameters
    ----------
    rec_id : pandas.Series of str
        Source record IDs of all rows of the call (``""`` when none).
    staged : sequence of Staged
        The files of the call.
    file_idx, row : numpy.ndarray of int
        Per row of the call, its file (index into ``staged``) and its row in that file.
    keep : numpy.ndarray of int
        Positions of the accepted rows.

    Returns
    -------
    pandas.Series of str
        One ID per kept row, 0-based index; ``<source>:<sha256[:12]>:<row>`` without one.
    """
    ids = rec_id.take(keep).reset_index(drop=True)
    blank = (ids == "").to_numpy()
    if blank.any():
        prefix = np.array([f"{s.source}:{s.sha256[:12]}:" for s in staged], dtype=object)
        at = keep[blank]
        ids[blank] = prefix[file_idx[at]] + row[at].astype(str).astype(object)
    return ids


def mark_duplicates(
    reasons: Reasons,
    rec_id: pd.Series,
    staged: Sequence[Staged],
    file_idx: np.ndarray,
    row: np.ndarray,
) -> None:
    """Quarantine otherwise valid rows whose source ID repeats an earlier one of its source.

    Parameters
    ----------
    reasons : Reasons
        Reasons so far; rows already quarantined neither count nor are marked.
    rec_id : pandas.Series of str
        Source record IDs of all rows of the call (``""`` when none: never a duplicate).
    staged : sequence of Staged
        The files of the call.
    file_idx, row : numpy.ndarray of int
        Per row of the call, its file (index into ``staged``) and its row in that file.
    """
    has_id = reasons.ok & (rec_id != "").to_numpy(dtype=bool)
    row_source = np.array([s.source for s in staged], dtype=object)[file_idx]
    mask = np.zeros(len(rec_id), dtype=bool)
    for source in dict.fromkeys(s.source for s in staged):  # in order of first appearance
        cand = np.flatnonzero(has_id & (row_source == source))
        mask[cand[rec_id.take(cand).duplicated(keep="first").to_numpy()]] = True
    if not mask.any():
        return
    ids = rec_id.to_numpy(dtype=object)
    first_of = _first_positions(has_id, row_source, ids)
    names = np.array([s.path.name for s in staged], dtype=object)

    def detail(m: np.ndarray) -> np.ndarray:
        first = first_of[m]
        return (
            "record ID '"
            + ids[m]
            + "' repeats row "
            + row[first].astype(str).astype(object)
            + " of "
            + names[file_idx[first]]
        )

    reasons.mark(mask, "duplicate_id", detail)


def _first_positions(has_id: np.ndarray, row_source: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Per row with an ID, the position of the first row with its (source, ID); else 0."""
    first_pos = (
        pd.Series(np.flatnonzero(has_id))
        .groupby([row_source[has_id], ids[has_id]], sort=False)
        .transform("first")
    )
    first_of = np.zeros(len(ids), dtype=np.int64)
    first_of[has_id] = first_pos.to_numpy()
    return first_of
