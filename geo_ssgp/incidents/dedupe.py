"""Incident IDs, duplicate source IDs, and incidents another source already holds.

A source record ID that repeats an earlier *otherwise valid* record of the same source in
the same call (files in the order given, rows in file order) is quarantined as
``duplicate_id``; the first is kept. Rows without a source ID are never deduplicated:
police.uk publishes anti-social behaviour without IDs, and identical rows are separate
incidents at the same snap point. They get a generated, deterministic ID
``<source>:<first 12 hex digits of the file's SHA-256>:<row>``.

Across files and sources (:func:`cross_source_duplicates`), one incident is counted once: a
row is a duplicate of a row already held when both carry the same source crime ID, or,
where IDs are missing, when they share month, crime type and map point, matched as
multisets (three identical rows against two held ones: two duplicates, one new incident).
Files are taken in :data:`SOURCE_PREFERENCE` order so that the richer record is the one kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_ssgp.incidents.quarantine import Reasons
from geo_ssgp.incidents.result import IngestResult
from geo_ssgp.incidents.staging import Staged

#: Which copy of an incident is kept when sources overlap: street CSVs carry IDs, location
#: text, LSOA and outcome; the API's flat exports carry only month, category and point.
SOURCE_PREFERENCE = ("police-uk", "police-uk-geojson", "police-uk-api", "local")

#: IDs made up by :func:`incident_ids` for rows without a source ID.
GENERATED_ID = re.compile(r"^[a-z-]+:[0-9a-f]{12}:\d+$")

#: Columns :func:`cross_source_duplicates` reads from both tables.
MATCH_COLUMNS = ["incident_id", "source_file", "month", "crime_type", "geometry"]


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
        ids = rec_id.take(cand)
        if ids.nunique() < len(ids):  # a count of distinct IDs is cheaper than marking
            mask[cand[ids.duplicated(keep="first").to_numpy()]] = True
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


def _keys(incidents: pd.DataFrame) -> pd.Series:
    """Month, crime type and map point (to 0.1 m) as one text key per row."""
    x = incidents.geometry.x.round(1).astype(str)
    y = incidents.geometry.y.round(1).astype(str)
    month = pd.to_datetime(incidents["month"]).dt.strftime("%Y-%m")
    return month + "|" + incidents["crime_type"].astype(str) + "|" + x + "|" + y


def _source_ids(incidents: pd.DataFrame) -> pd.Series:
    """Source crime IDs, ``""`` where the ID was generated."""
    ids = incidents["incident_id"].astype(str)
    return ids.where(~ids.str.match(GENERATED_ID), "")


def cross_source_duplicates(new: pd.DataFrame, held: pd.DataFrame) -> pd.Series:
    """Which rows of ``new`` are incidents ``held`` already has, and in which file.

    Parameters
    ----------
    new : geopandas.GeoDataFrame
        Incidents of one file (:data:`MATCH_COLUMNS`), EPSG:27700.
    held : geopandas.GeoDataFrame
        Incidents already kept (stored, or earlier files of the call), same CRS.

    Returns
    -------
    pandas.Series of str
        Indexed like ``new``: the ``source_file`` of the held copy, ``""`` for a new incident.
        Rows sharing a source crime ID with a held row match it; the others match as
        multisets on (month, crime type, point): the first ``k`` of them, where ``k`` is the
        number of held rows with that key not matched by ID.
    """
    out = pd.Series("", index=new.index, dtype=object)
    if new.empty or held.empty:
        return out
    new_ids, held_ids = _source_ids(new), _source_ids(held)
    id_file = held.loc[held_ids != "", "source_file"].groupby(held_ids[held_ids != ""]).first()
    by_id = new_ids.map(id_file).where(new_ids != "", None)
    matched = by_id.notna()
    out[matched] = by_id[matched]
    held_left = held[~held_ids.isin(set(new_ids[matched]))]
    held_keys = _keys(held_left)
    n_held = held_keys.value_counts()
    file_of = held_left["source_file"].groupby(held_keys).first()
    rest = new[~matched]
    keys = _keys(rest)
    rank = keys.groupby(keys).cumcount()
    dup = rank.to_numpy() < keys.map(n_held).fillna(0).to_numpy()
    out[rest.index[dup]] = keys[dup].map(file_of).to_numpy()
    return out


def _duplicate_rows(incidents: pd.DataFrame, held_file: pd.Series) -> pd.DataFrame:
    """Quarantine rows (reason ``duplicate_incident``) for duplicates, naming the held file."""
    original = incidents[["incident_id", "month", "crime_type", "location_text"]].assign(
        month=pd.to_datetime(incidents["month"]).dt.strftime("%Y-%m")
    )
    return pd.DataFrame(
        {
            "source": incidents["source"].to_numpy(),
            "source_file": incidents["source_file"].to_numpy(),
            "source_row": incidents["source_row"].to_numpy(),
            "reason": "duplicate_incident",
            "detail": ("same incident as one in " + held_file).to_numpy(),
            "original": original.apply(lambda r: r.to_json(), axis=1).to_numpy(),
        }
    )


def _contested(incidents: pd.DataFrame, held: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Rows that can take part in a match, and the held rows they can match.

    A row can match, or be matched by, only a row with the same source ID or the same
    (month, crime type, point) key (:func:`cross_source_duplicates`); a row whose ID and key
    occur in no other file of the call and not in ``held`` is new whatever the order, so
    :func:`count_once` compares only the others (linear in the rows instead of comparing
    every file with everything kept before it). Keys are compared by 64-bit hashes here: a
    collision only adds a row to the exact comparison.
    """
    keys, ids = _key_hashes(incidents), _id_hashes(incidents)
    held_keys, held_ids = _key_hashes(held), _id_hashes(held)
    files = pd.factorize(incidents["source_file"])[0]
    active = np.zeros(len(incidents), dtype=bool)
    for values, held_values in ((keys, held_keys), (ids, held_ids[held_ids != 0])):
        pairs = pd.DataFrame({"h": values, "f": files}).drop_duplicates()
        n_files = pairs["h"].value_counts()
        several = n_files.index[n_files.to_numpy() > 1]
        shared = np.isin(values, several) | np.isin(values, held_values)
        active |= shared & (values != 0)  # 0: no source ID
    useful = np.isin(held_keys, keys) | (np.isin(held_ids, ids) & (held_ids != 0))
    return active, held[useful]


def _key_hashes(incidents: pd.DataFrame) -> np.ndarray:
    """64-bit hashes of the (month, crime type, point to 0.1 m) key of :func:`_keys`."""
    key = pd.DataFrame(
        {
            "month": pd.to_datetime(incidents["month"]).dt.strftime("%Y-%m"),
            "type": incidents["crime_type"].astype(str),
            "x": incidents.geometry.x.round(1),
            "y": incidents.geometry.y.round(1),
        }
    )
    return pd.util.hash_pandas_object(key, index=False).to_numpy() | 1  # never 0


def _id_hashes(incidents: pd.DataFrame) -> np.ndarray:
    """64-bit hashes of the source IDs of :func:`_source_ids`; 0 where the ID was generated."""
    ids = _source_ids(incidents)
    hashes = pd.util.hash_pandas_object(ids, index=False).to_numpy()
    return np.where((ids != "").to_numpy(), hashes | 1, 0)


def count_once(result: IngestResult, held: pd.DataFrame | None = None) -> IngestResult:
    """Move incidents already held (or held by a preferred file of the call) to quarantine.

    Parameters
    ----------
    result : IngestResult
        A :func:`~geo_ssgp.incidents.read_incidents` result.
    held : pandas.DataFrame, optional
        Incidents kept before (e.g. the store's), with :data:`MATCH_COLUMNS`.

    Returns
    -------
    IngestResult
        Same files; each file's duplicates (:func:`cross_source_duplicates`, files taken in
        :data:`SOURCE_PREFERENCE` order) are quarantined as ``duplicate_incident`` with the
        file they repeat; per file ``n_duplicates`` and ``duplicate_of`` (file -> rows) are
        added and ``n_accepted`` reduced. Input order is kept.
    """
    incidents = result.incidents
    rank = {s: i for i, s in enumerate(SOURCE_PREFERENCE)}
    order = sorted(result.files, key=lambda f: rank.get(f["source"], len(rank)))
    held = held[MATCH_COLUMNS] if held is not None and len(held) else incidents.iloc[:0]
    active, held = _contested(incidents[MATCH_COLUMNS], held)
    kept = [held] if len(held) else []
    held_file = pd.Series("", index=incidents.index, dtype=object)
    contested = incidents[active]
    by_file = contested.groupby("source_file", sort=False).indices
    for info in order:
        rows = contested.iloc[by_file.get(info["name"], [])]
        current = pd.concat(kept, ignore_index=True) if kept else rows.iloc[:0]
        of = cross_source_duplicates(rows[MATCH_COLUMNS], current)
        held_file[of.index] = of
        kept.append(rows.loc[of == "", MATCH_COLUMNS])
    dup = (held_file != "").to_numpy()
    if not dup.any():
        return result
    files = []
    for info in result.files:
        mine = dup & (incidents["source_file"] == info["name"]).to_numpy()
        of = held_file[mine].value_counts().to_dict()
        n = int(mine.sum())
        files.append(
            {**info, "n_accepted": info["n_accepted"] - n, "n_duplicates": n, "duplicate_of": of}
        )
    quarantine = pd.concat(
        [result.quarantine, _duplicate_rows(incidents[dup], held_file[dup])], ignore_index=True
    )
    return IngestResult(
        gpd.GeoDataFrame(incidents[~dup], geometry="geometry", crs=incidents.crs),
        quarantine,
        n_in=result.n_in,
        files=files,
    )
