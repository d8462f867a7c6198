"""Orchestration of the ingest -> geocode -> store path, shared by the CLI and the API.

Each function composes the pipeline stages; none re-implements one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo_ssgp.geocode import geocode, inside_area, map_point_memory, recall_map_points
from geo_ssgp.incidents import IngestResult, read_incidents
from geo_ssgp.incidents.dedupe import MATCH_COLUMNS, count_once
from geo_ssgp.pack import AreaPack
from geo_ssgp.store import Store, dataset_public

Progress = Callable[[int], None] | None

#: Geocode columns copied to the ``geocode`` command's output.
GEOCODE_OUT = ["lsoa21cd", "lsoa21nm", "lsoa11cd", "ward_cd", "ward_nm", "lad_cd"]


def read_and_geocode(
    paths: Iterable[str | Path],
    pack: AreaPack,
    source: str | None = None,
    columns: dict[str, str] | None = None,
    progress: Progress = None,
    held: pd.DataFrame | None = None,
) -> tuple[IngestResult, gpd.GeoDataFrame]:
    """Read incident files and geocode the accepted rows, without storing anything.

    An incident that another file of the call (or ``held``) already has is counted once
    (:func:`geo_ssgp.incidents.dedupe.count_once`): it is quarantined as
    ``duplicate_incident`` with the file it repeats.

    Parameters
    ----------
    paths : iterable of path
        Incident files (police.uk CSV, API JSON, GeoJSON, local CSV/Excel).
    pack : AreaPack
    source : str, optional
        Force a source format; auto-detected per file by default.
    columns : dict, optional
        Column mapping for local logs.
    progress : callable, optional
        Called with 1 per file read.
    held : pandas.DataFrame, optional
        Incidents kept before (the store's), to count once against.

    Returns
    -------
    (IngestResult, geopandas.GeoDataFrame)
        The ingest result and its geocoded incidents.
    """
    result = read_incidents(
        [Path(p) for p in paths], source=source, columns=columns, pack=pack, progress=progress
    )
    result = count_once(result, held)
    return result, geocode(result.incidents, pack)


def ingest_files(
    store: Store,
    pack: AreaPack,
    paths: Iterable[str | Path],
    source: str | None = None,
    columns: dict[str, str] | None = None,
    progress: Progress = None,
    client=None,
    public: bool = False,
) -> dict:
    """Read, validate, geocode and store incident files atomically.

    Files whose content is already stored are skipped (re-ingesting is idempotent). An
    incident the store (or a preferred file of the call) already holds is counted once: it is
    quarantined as ``duplicate_incident``, and the balance reads in = accepted + quarantined +
    duplicates. If any file cannot be read the call raises and the store is left as it was.
    Ambiguous police.uk points take the LSOA 2021 code police.uk gave their map point in an
    earlier month, learnt from the store and the call's files
    (:func:`geo_ssgp.geocode.recall_map_points`).

    Parameters
    ----------
    store : Store
    pack : AreaPack
    paths : iterable of path
    source : str, optional
        Force a source format (``police-uk``, ``police-uk-api``, ``police-uk-geojson``, ``local``).
    columns : dict, optional
        Column mapping for local logs.
    progress : callable, optional
        Called with 1 per file read (in-process engine only).
    client : distributed.Client, optional
        Read and geocode on this Dask cluster (:mod:`geo_ssgp.dask_engine`) instead of
        in-process; the stored result is the same.
    public : bool, default False
        The uploader marks local logs public: their records are stored unrestricted (seen by
        every role) and the dataset records ``public``. Police.uk data is always public.

    Returns
    -------
    dict
        ``files`` (per-file balance and whether it was skipped), ``in``, ``accepted``,
        ``quarantined``, ``by_reason`` (totals over the newly stored files), ``outside``
        (accepted rows outside the area: stored, but left out of area statistics and
        hotspots, per file as ``n_outside``) and ``skipped``.

    Raises
    ------
    geo_ssgp.incidents.IngestError
        A file cannot be read at all (the message names the file).
    """
    paths = [Path(p) for p in paths]
    stored = store.incidents()
    held = stored[MATCH_COLUMNS] if len(stored) else None
    if client is not None:
        from geo_ssgp.dask_engine import read_and_geocode_dask

        result, geocoded = read_and_geocode_dask(paths, pack, client, source, columns, held)
    else:
        result, geocoded = read_and_geocode(paths, pack, source, columns, progress, held)
    geocoded = recall_map_points(geocoded, map_point_memory(stored, geocoded), pack)
    if public:
        geocoded = geocoded.assign(restricted=False)
    items, files, skipped = [], [], []
    for info in result.files:
        name = info["name"]
        quarantine = result.quarantine[result.quarantine["source_file"] == name]
        done = store.has_dataset(info["sha256"])
        info = {**info, "by_reason": quarantine["reason"].value_counts().to_dict()}
        info["public"] = dataset_public({**info, "public": public})
        files.append({**info, "skipped": done})
        if done:
            skipped.append(name)
            continue
        incidents = geocoded[geocoded["source_file"] == name]
        files[-1]["n_outside"] = int((incidents.get("status") == "outside_area").sum())
        items.append((info, incidents.reset_index(drop=True), quarantine.reset_index(drop=True)))
    store.add_datasets(items)
    return _summary(files, skipped)


def _summary(files: list[dict], skipped: list[str]) -> dict:
    stored = [f for f in files if not f["skipped"]]
    by_reason: dict[str, int] = {}
    for f in stored:
        for reason, n in f.get("by_reason", {}).items():
            by_reason[reason] = by_reason.get(reason, 0) + int(n)
    counts = (
        ("in", "n_in"),
        ("accepted", "n_accepted"),
        ("quarantined", "n_quarantined"),
        ("duplicates", "n_duplicates"),
        ("outside", "n_outside"),
    )
    total = {k: sum(int(f.get(key, 0)) for f in stored) for k, key in counts}
    return {"files": files, **total, "by_reason": by_reason, "skipped": skipped}


def ensure_sample(store: Store, pack: AreaPack, progress: Progress = None) -> dict | None:
    """Ingest the pack's sample incidents if the store holds none.

    Parameters
    ----------
    store : Store
    pack : AreaPack
    progress : callable, optional
        Called with 1 per file read.

    Returns
    -------
    dict or None
        The ingest summary, or ``None`` when the store already had data.
    """
    if len(store.datasets()):
        return None
    files = pack.sample_files()
    return ingest_files(store, pack, files, source=pack.sample.get("source"), progress=progress)


def analysed_incidents(store: Store) -> gpd.GeoDataFrame:
    """Stored incidents inside the area (status ``ok``), the input of areas and hotspots."""
    return analysed_rows(store.incidents())


def analysed_rows(incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The rows of geocoded incidents inside the area (status ``ok``), index reset.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Geocoded incidents (the whole store, or one partition of it).

    Returns
    -------
    geopandas.GeoDataFrame
    """
    rows = inside_area(incidents)
    return rows if rows is incidents else rows.reset_index(drop=True)


def geocode_rows(
    raw: pd.DataFrame, result: IngestResult, geocoded: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Every input row, in input order, with its geocode or its quarantine reason.

    Parameters
    ----------
    raw : pandas.DataFrame
        The original rows with ``source_file`` and ``source_row`` columns.
    result : IngestResult
        The ingest result of the same files.
    geocoded : geopandas.GeoDataFrame
        Geocoded accepted incidents.

    Returns
    -------
    pandas.DataFrame
        ``raw`` plus ``status``, ``lsoa21cd``, ``lsoa21nm``, ``lsoa11cd``, ``ward_cd``,
        ``ward_nm``, ``lad_cd``, ``edge_distance_m``, ``longitude``, ``latitude`` (an added
        column whose name the input already uses gets the suffix ``_geocoded``; the input's
        columns are never renamed).
    """
    wgs = geocoded.to_crs("EPSG:4326")
    added = pd.DataFrame(
        {
            "source_file": geocoded["source_file"],
            "source_row": geocoded["source_row"],
            "status": geocoded["status"],
            **{c: geocoded[c] for c in GEOCODE_OUT},
            "edge_distance_m": geocoded["edge_distance_m"].round(1),
            "longitude": wgs.geometry.x.round(6),
            "latitude": wgs.geometry.y.round(6),
        }
    )
    quarantined = result.quarantine[["source_file", "source_row", "reason"]].rename(
        columns={"reason": "status"}
    )
    added = pd.concat([added, quarantined], ignore_index=True)
    # the input's own columns keep their names; an added column that clashes gets _geocoded
    return raw.merge(
        added,
        on=["source_file", "source_row"],
        how="left",
        validate="one_to_one",
        suffixes=("", "_geocoded"),
    )
