"""The pipeline on Dask (``--engine dask``): the same functions, in parallel.

**Ingest and geocode.** The files are split, in order, into partitions of about
:data:`ROWS_PER_PARTITION` rows (at least one per worker; a file is never split). A worker
reads and validates a partition with :func:`geo_ssgp.incidents.read_incidents` and geocodes
it with :func:`geo_ssgp.geocode.geocode`. The pack and its polygon layers, as loaded by the
driver, are broadcast to every worker once (``client.scatter(..., broadcast=True)``) and
registered with :func:`geo_ssgp.pack.share_layers`, so no worker reads the boundary files.
Results are identical to the in-process path (:func:`geo_ssgp.pipeline.read_and_geocode`)
with one condition: the duplicate-ID rule runs within each partition, so a source record ID
that repeats **across** partitions raises :class:`~geo_ssgp.errors.IngestError` instead of
being quarantined (police.uk Crime IDs do not repeat between monthly files; when a local log
does, ingest those files in-process).

:func:`geocode_to_parquet` keeps the geocoded partitions on the workers; each worker writes
its partition as GeoParquet in Hilbert order, so ``dask_geopandas.read_parquet`` reads them
back with partition bounds.

**Areas and grid counts.** :func:`map_analysed` runs a stage's per-part function on
partitions of stored GeoParquet (the embedded store's datasets, or that output);
:func:`map_stored` does the same on a store, the PostGIS store included (each worker
queries its group of datasets from the database); the stage combines the parts
(:func:`geo_ssgp.areas.area_stats_from_parts`, a sum of
:func:`geo_ssgp.hotspots.count.cell_count_part`), so both engines share every rule.
"""

from __future__ import annotations

import functools
import math
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from distributed import Client, LocalCluster

from geo_ssgp.config import CRS_BNG
from geo_ssgp.errors import IngestError
from geo_ssgp.geocode import geocode
from geo_ssgp.incidents import IngestResult, read_incidents
from geo_ssgp.incidents.dedupe import count_once
from geo_ssgp.incidents.files import expand_paths
from geo_ssgp.incidents.locate import points_of
from geo_ssgp.incidents.result import concat_results
from geo_ssgp.pack import AreaPack, load_layer, share_layers
from geo_ssgp.pipeline import analysed_rows
from geo_ssgp.store import SQLiteStore, Store


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Client]:
    """A Dask client: on a running scheduler, or on a LocalCluster closed on exit.

    Parameters
    ----------
    workers : int, optional
        Worker processes of the local cluster (one thread each); default 2.
    scheduler : str, optional
        Address of a running ``dask scheduler`` (``tcp://host:8786``); ``workers`` is then
        ignored.

    Yields
    ------
    distributed.Client
    """
    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    cluster = LocalCluster(
        n_workers=workers or 2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, Client(cluster) as client:
        yield client


#: Rows of one partition. Fewer, larger partitions keep the per-task cost (scheduling,
#: result objects, one call of each vectorised function) small beside the work; at least one
#: partition per worker keeps every worker busy.
ROWS_PER_PARTITION = 300_000

#: Bytes of a police.uk street CSV row (measured on the 2025 Gloucestershire files: 236),
#: to size partitions of input files before reading them.
CSV_BYTES_PER_ROW = 240


def file_groups(
    files: list, rows: list[int], n_workers: int, per_partition: int = ROWS_PER_PARTITION
) -> list[list]:
    """Split files (or stored datasets), in order, into partitions of ``per_partition`` rows.

    Parameters
    ----------
    files : list
        Paths of files, or ids of stored datasets.
    rows : list of int
        Rows (or an estimate) of each file.
    n_workers : int
        At least this many partitions when there are as many files.
    per_partition : int

    Returns
    -------
    list of list
        Consecutive files (their order kept, so the concatenated result is in input order),
        no group empty; a file is never split.
    """
    if not files:
        return []
    weight = np.maximum(np.asarray(rows, dtype=float), 1.0)
    n = max(1, min(len(files), max(n_workers, math.ceil(weight.sum() / per_partition))))
    ends = np.cumsum(weight)
    label = np.minimum(((ends - weight / 2) / ends[-1] * n).astype(int), n - 1)
    return [[f for f, g in zip(files, label, strict=True) if g == k] for k in np.unique(label)]


def _read_geocode(
    paths: list[Path],
    source: str | None,
    columns: dict | None,
    pack: AreaPack,
    layers: dict[str, gpd.GeoDataFrame],
) -> tuple[IngestResult, gpd.GeoDataFrame]:
    """One partition: its files read, validated and geocoded by the in-process functions."""
    share_layers(pack, layers)
    result = read_incidents(paths, source=source, columns=columns, pack=pack)
    return result, geocode(result.incidents, pack)


def _balance(part: tuple[IngestResult, gpd.GeoDataFrame]) -> IngestResult:
    """A partition's ingest result without its incidents (they stay on the worker)."""
    result = part[0]
    return IngestResult(result.incidents.iloc[:0], result.quarantine, result.n_in, result.files)


def _id_keys(part: tuple[IngestResult, gpd.GeoDataFrame]) -> pd.Series:
    """A partition's (source, record ID) keys as one text each, to compare exactly."""
    incidents = part[1]
    return (incidents["source"] + "\x1f" + incidents["incident_id"]).astype(object)


def _id_hashes(part: tuple[IngestResult, gpd.GeoDataFrame]) -> np.ndarray:
    """64-bit hashes of a partition's (source, record ID) keys (the same in every worker)."""
    incidents = part[1]
    return text_hashes(incidents["source"].astype("str") + "\x1f" + incidents["incident_id"])


def text_hashes(values: pd.Series) -> np.ndarray:
    """64-bit hashes of texts (``pandas.util.hash_pandas_object``: SipHash with a fixed key).

    Deterministic, so equal texts get equal hashes in every process; a repeated hash may
    still be a collision, so a repeat is confirmed on the texts themselves.

    Parameters
    ----------
    values : pandas.Series of str
        Missing values hash as ``""``.

    Returns
    -------
    numpy.ndarray of uint64
    """
    return pd.util.hash_pandas_object(values.fillna(""), index=False).to_numpy(np.uint64)


def _keys_with_hashes(part: tuple[IngestResult, gpd.GeoDataFrame], hashes: np.ndarray):
    """The partition's keys whose hash is one of ``hashes`` (to confirm a repeat exactly)."""
    return _id_keys((None, part[1][np.isin(_id_hashes(part), hashes)]))


def _n_workers(client: Client) -> int:
    return max(1, sum(client.nthreads().values()))


def _partition_plan(client: Client, paths, pack: AreaPack) -> tuple[list[list[Path]], list]:
    """The files' partitions, and the pack and its layers broadcast to every worker once."""
    files = expand_paths(paths)
    rows = [f.stat().st_size // CSV_BYTES_PER_ROW for f in files]
    groups = file_groups(files, rows, _n_workers(client))
    layers = {key: load_layer(pack, key) for key in pack.layers}
    return groups, [_broadcast(client, pack), _broadcast(client, layers)]


def _broadcast(client: Client, value: Any) -> Any:
    """A future of ``value`` held by every worker, under a key of its own.

    Wrapped in a list so a dict is sent as one value (``scatter`` would name each item by
    its dict key, and a second run's ``"lsoa21"`` would race the release of the first's),
    with ``hash=False`` so equal values sent by two runs do not share a key either.
    """
    return client.scatter([value], broadcast=True, hash=False)[0]


def _partitions(client: Client, paths, pack, source, columns) -> list:
    """Futures of the geocoded partitions (kept on the workers)."""
    groups, shared = _partition_plan(client, paths, pack)
    return [client.submit(_read_geocode, g, source, columns, *shared, pure=False) for g in groups]


def _check_ids_unique_across_files(client: Client, parts: list) -> None:
    """Refuse record IDs that repeat across partitions (within one, the ingest rule applies).

    Each partition sends 8-byte hashes of its keys; only keys whose hash repeats are
    fetched and compared exactly.
    """
    hashes = client.gather([client.submit(_id_hashes, p) for p in parts])
    _refuse_repeats(
        hashes, lambda h: client.gather([client.submit(_keys_with_hashes, p, h) for p in parts])
    )


def _refuse_repeats(hashes: list[np.ndarray], keys_with: Callable[[np.ndarray], list]) -> None:
    """IngestError when keys repeat across partitions, given each one's key hashes.

    ``keys_with(h)`` returns each partition's keys whose hash is in ``h``: only those are
    compared exactly (a repeated hash alone may be a collision).
    """
    every = np.concatenate([np.empty(0, np.uint64), *hashes])
    values, counts = np.unique(every, return_counts=True)
    repeated = values[counts > 1]
    if not len(repeated):
        return
    keys = pd.concat(keys_with(repeated))
    n = len(keys) - keys.nunique()
    if n:
        raise IngestError(
            f"{n:,} record IDs repeat across files; the Dask engine checks"
            " duplicates within each partition of files: ingest these files with the"
            " in-process engine"
        )


def read_and_geocode_dask(
    paths: Iterable[str | Path],
    pack: AreaPack,
    client: Client,
    source: str | None = None,
    columns: dict[str, str] | None = None,
    held: pd.DataFrame | None = None,
) -> tuple[IngestResult, gpd.GeoDataFrame]:
    """Read, validate and geocode files on a Dask cluster; the result is gathered.

    An incident that another file of the call (or ``held``) already has is counted once
    (:func:`geo_ssgp.incidents.dedupe.count_once`, on the gathered result), as in-process.

    Parameters
    ----------
    paths : iterable of path
        Incident files (or folders of them), grouped into partitions.
    pack : AreaPack
    client : distributed.Client
    source : str, optional
        Force a source format; auto-detected per file by default.
    columns : dict, optional
        Column mapping for local logs.
    held : pandas.DataFrame, optional
        Incidents kept before (the store's), to count once against.

    Returns
    -------
    (IngestResult, geopandas.GeoDataFrame)
        Equal to :func:`geo_ssgp.pipeline.read_and_geocode` on the same files.

    Raises
    ------
    IngestError
        A file cannot be read, or record IDs repeat across files.
    """
    parts = _partitions(client, paths, pack, source, columns)
    _check_ids_unique_across_files(client, parts)
    gathered = client.gather(parts)
    result = count_once(concat_results(r for r, _ in gathered), held)
    geocoded = pd.concat([g for _, g in gathered], ignore_index=True)
    geocoded = geocoded.loc[result.incidents.index]  # duplicates moved to quarantine
    return result, gpd.GeoDataFrame(geocoded, geometry="geometry", crs=CRS_BNG)


def geocode_to_parquet(
    paths: Iterable[str | Path],
    pack: AreaPack,
    client: Client,
    out: str | Path,
    source: str | None = None,
    columns: dict[str, str] | None = None,
) -> IngestResult:
    """Read, validate and geocode files on a cluster; write Hilbert-ordered GeoParquet.

    The geocoded incidents never leave the workers: each task reads, geocodes and writes its
    partition (consecutive files, :func:`file_groups`), sorted along a Hilbert curve over
    the pack's districts (the same curve for every partition), to ``out/part.<i>.parquet``
    with GeoParquet metadata and its bounding box (points in the native GeoArrow encoding
    of GeoParquet 1.1, which writes and reads without WKB); only the balance and 8-byte key
    hashes come back, so memory stays at one partition per worker. Police.uk files are one
    force and month each, so a partition is already compact; there is no global shuffle
    (``spatial_shuffle`` cost minutes for a million rows on two cores).

    Parameters
    ----------
    paths : iterable of path
    pack : AreaPack
    client : distributed.Client
    out : str or Path
        Output folder (replaced if it exists), writable by the workers.
    source : str, optional
    columns : dict, optional

    Returns
    -------
    IngestResult
        Quarantine, balance and per-file summaries; its ``incidents`` table is empty.

    Raises
    ------
    IngestError
        A file cannot be read, or record IDs repeat across partitions (``out`` is removed).
    """
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    bounds = tuple(load_layer(pack, "district").total_bounds)
    groups, shared = _partition_plan(client, paths, pack)
    files = [out / f"part.{i}.parquet" for i in range(len(groups))]
    done = client.gather(
        [
            client.submit(_geocode_write, g, source, columns, *shared, bounds, f, pure=False)
            for g, f in zip(groups, files, strict=True)
        ]
    )

    def keys_with(hashes: np.ndarray) -> list:
        return client.gather([client.submit(_stored_keys_with_hashes, f, hashes) for f in files])

    try:
        _refuse_repeats([hashes for _, hashes in done], keys_with)
    except IngestError:
        shutil.rmtree(out)
        raise
    return concat_results(balance for balance, _ in done)


def _geocode_write(
    paths: list[Path], source, columns, pack, layers, bounds: tuple, path: Path
) -> tuple[IngestResult, np.ndarray]:
    """Read, geocode and write one partition; its balance and key hashes go back."""
    part = _read_geocode(paths, source, columns, pack, layers)
    _hilbert_sorted(part, bounds).to_parquet(path, geometry_encoding="geoarrow")
    return _balance(part), _id_hashes(part)


def _stored_keys_with_hashes(path: Path, hashes: np.ndarray) -> pd.Series:
    frame = pd.read_parquet(path, columns=["source", "incident_id"])
    return _keys_with_hashes((None, frame), hashes)


def _hilbert_sorted(part: tuple[IngestResult, gpd.GeoDataFrame], bounds: tuple) -> gpd.GeoDataFrame:
    """A partition's incidents in Hilbert order over ``bounds`` (distance as the index)."""
    incidents = part[1]
    distance = incidents.geometry.hilbert_distance(total_bounds=bounds, level=16)
    return incidents.set_index(distance.rename("hilbert_distance")).sort_index(kind="stable")


def map_analysed(
    client: Client, files: list[Path], func: Callable, *args, columns: list[str] | None = None
) -> list:
    """``func(frame, *args)`` on the analysed rows of partitions of GeoParquet, on the cluster.

    ``frame`` holds the rows inside the area (:func:`geo_ssgp.pipeline.analysed_rows`, the
    rows the in-process commands analyse) of one partition.

    The files (e.g. the embedded store's datasets, :meth:`SQLiteStore.incident_files`, or
    the output of :func:`geocode_to_parquet`) are grouped, in order, into partitions of
    about :data:`ROWS_PER_PARTITION` rows; each worker reads its partition and applies
    ``func``. The arguments are broadcast to every worker once. Used with functions whose
    results add up over parts (:func:`geo_ssgp.areas.area_count_part`,
    :func:`geo_ssgp.hotspots.count.cell_count_part`).

    Parameters
    ----------
    client : distributed.Client
    files : list of Path
        GeoParquet files, readable by the workers.
    func : callable
        Takes a GeoDataFrame and ``*args``.
    *args
        Further arguments of ``func``.
    columns : list of str, optional
        The columns ``func`` reads; only these, ``status`` (which selects the analysed rows)
        and ``geometry`` are read from the files. All columns by default.

    Returns
    -------
    list
        One result per partition, in file order.
    """
    files = [Path(f) for f in files]
    rows = [pq.ParquetFile(f).metadata.num_rows for f in files]
    read = functools.partial(_read_parquet, columns=columns)
    return _map_groups(client, file_groups(files, rows, _n_workers(client)), read, func, args)


def map_stored(client: Client, store: Store, func: Callable, *args) -> list:
    """``func(frame, *args)`` on the analysed rows of partitions of a store, on the cluster.

    The workers read the incidents themselves: the embedded store's GeoParquet datasets
    (:func:`map_analysed`), or, for the PostGIS store, groups of consecutive datasets of
    about :data:`ROWS_PER_PARTITION` stored rows each, which every worker queries from the
    database (:meth:`~geo_ssgp.store_postgis.PostGISStore.dataset_incidents`, the reader
    of :meth:`~geo_ssgp.store_postgis.PostGISStore.incidents`, so the rows, columns and
    dtypes are those the in-process path reads). A dataset is never split. The workers
    need to reach the database at the store's URL.

    Parameters
    ----------
    client : distributed.Client
    store : Store
        The embedded store or the PostGIS store.
    func : callable
        Takes a GeoDataFrame and ``*args`` (a per-part function whose results add up).
    *args
        Further arguments of ``func``, broadcast to every worker once.

    Returns
    -------
    list
        One result per partition, in ingest order.
    """
    if isinstance(store, SQLiteStore):
        return map_analysed(client, store.incident_files(), func, *args)
    catalogue = store.datasets()
    ids = [int(i) for i in catalogue["id"]]
    groups = file_groups(ids, catalogue["n_accepted"].tolist(), _n_workers(client))
    return _map_groups(client, groups, store.dataset_incidents, func, args)


def _map_groups(client: Client, groups: list, read: Callable, func: Callable, args) -> list:
    """``func`` on the analysed rows of ``read(group)`` for every group, one task each."""
    shared = [_broadcast(client, a) for a in args]
    return client.gather(
        [client.submit(_apply_to_part, read, g, func, *shared, pure=False) for g in groups]
    )


def _read_parquet(paths: list[Path], columns: list[str] | None = None) -> gpd.GeoDataFrame:
    """GeoParquet files of incidents as one GeoDataFrame.

    Reads ``columns`` (plus ``status`` and ``geometry``, which select the analysed rows), or
    every column when ``columns`` is None.
    """
    if columns is not None:
        columns = list(dict.fromkeys(["status", "geometry", *columns]))
    frames = [_read_geoparquet(p, columns) for p in paths]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=CRS_BNG)


def _apply_to_part(read: Callable, group: list, func: Callable, *args):
    return func(analysed_rows(read(group)), *args)


def _read_geoparquet(path: Path, columns: list[str] | None) -> gpd.GeoDataFrame:
    """A GeoParquet file of incidents (EPSG:27700) as a GeoDataFrame.

    Native GeoArrow points (:func:`geocode_to_parquet`'s files) become shapely points built
    once per distinct location (:func:`geo_ssgp.incidents.locate.points_of`), a fraction of
    the cost of one per row; other encodings (the embedded store's WKB) are read by
    geopandas.
    """
    field = pq.read_schema(path).field("geometry")
    if (field.metadata or {}).get(b"ARROW:extension:name") != b"geoarrow.point":
        return gpd.read_parquet(path, columns=columns)
    table = pq.read_table(path, columns=columns)
    xy = table.column("geometry").combine_chunks()
    x, y = (xy.field(k).to_numpy(zero_copy_only=False) for k in ("x", "y"))
    if xy.null_count or not (np.isfinite(x).all() and np.isfinite(y).all()):
        return gpd.read_parquet(path, columns=columns)  # empty points: geopandas' rules
    frame = table.drop_columns(["geometry"]).to_pandas()
    return gpd.GeoDataFrame(frame, geometry=points_of(x, y), crs=CRS_BNG)
