"""Persistence: an embedded store with no server (SQLite catalogue plus GeoParquet files).

Layout of a store folder (one per area pack)::

    <store_dir>/<pack>/catalogue.sqlite    datasets, runs, focus areas
    <store_dir>/<pack>/datasets/<sha>.parquet             geocoded incidents (GeoParquet)
    <store_dir>/<pack>/datasets/<sha>.quarantine.parquet  quarantined rows

Every write is atomic: data files are written under temporary names and only renamed into
place inside the SQLite transaction that records them, so a failure leaves the store as it
was. Datasets are keyed by the SHA-256 of the source file, so re-ingesting a file is a no-op;
two concurrent ingests of one file store it once (the second gets
:class:`~geo_ssgp.errors.AlreadyStored`). Opening a store removes temporary and orphan data
files a killed process left behind, and logs what it removed. Focus-area updates merge only
the fields given, in one transaction, optionally guarded by the area's ``etag``
(:class:`~geo_ssgp.errors.StaleWrite` when it changed since it was read). Ids are 64-bit:
anything outside ``1 .. 2**63 - 1`` is simply not found.
:class:`Store` is the small interface the rest of the code uses; another backend (for example
PostGIS) implements the same methods.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely import wkt
from shapely.geometry.base import BaseGeometry

from geo_ssgp.config import CRS_BNG, POSTGRES_SCHEMES, Settings
from geo_ssgp.errors import AlreadyStored, BadInput, IngestError, NotFound, StaleWrite
from geo_ssgp.schema import QUARANTINE_COLUMNS

log = logging.getLogger(__name__)

#: Largest id a store holds (signed 64-bit: SQLite INTEGER PRIMARY KEY, PostgreSQL bigint).
MAX_ID = 2**63 - 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    n_in INTEGER NOT NULL,
    n_accepted INTEGER NOT NULL,
    n_quarantined INTEGER NOT NULL,
    by_reason TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    public INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    command TEXT NOT NULL,
    params TEXT NOT NULL,
    summary TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS focus_areas (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    notes TEXT NOT NULL DEFAULT '',
    geometry_wkt TEXT NOT NULL,
    lsoa_codes TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class FocusArea:
    """A saved focus area.

    Attributes
    ----------
    id : int
    name, notes : str
    geometry : shapely geometry in EPSG:27700
    lsoa_codes : list of str
        LSOAs selected (empty for a drawn polygon that was not snapped to LSOAs).
    params : dict
        Filters the area was chosen under (period, crime types, method).
    created_at, updated_at : str
        ISO timestamps (UTC).
    """

    id: int
    name: str
    notes: str
    geometry: BaseGeometry
    lsoa_codes: list[str]
    params: dict[str, Any]
    created_at: str
    updated_at: str

    @property
    def etag(self) -> str:
        """A strong validator of the stored content (HTTP ``ETag``), changes with every edit."""
        text = json.dumps(
            [self.name, self.notes, self.geometry.wkt, self.lsoa_codes, self.params],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(f"{self.updated_at}|{text}".encode()).hexdigest()[:32]


class Store(ABC):
    """Interface of an incident store; :class:`SQLiteStore` is the embedded default."""

    @abstractmethod
    def has_dataset(self, sha256: str) -> bool:
        """Whether a file with this content hash is already stored."""

    @abstractmethod
    def add_datasets(self, items: list[tuple[dict, gpd.GeoDataFrame, pd.DataFrame]]) -> list[int]:
        """Store several datasets atomically: (file info, geocoded incidents, quarantine)."""

    @abstractmethod
    def datasets(self) -> pd.DataFrame:
        """Catalogue of stored datasets."""

    @abstractmethod
    def incidents(self) -> gpd.GeoDataFrame:
        """All stored geocoded incidents (EPSG:27700)."""

    @abstractmethod
    def quarantine(self) -> pd.DataFrame:
        """All stored quarantined rows."""

    @abstractmethod
    def log_run(self, command: str, params: dict, summary: dict) -> None:
        """Record run metadata."""

    @abstractmethod
    def save_focus_area(
        self, name: str, notes: str, geometry: BaseGeometry, lsoa_codes: list[str], params: dict
    ) -> FocusArea:
        """Create a focus area."""

    @abstractmethod
    def remove_dataset(self, dataset_id: int) -> dict:
        """Remove one dataset and its files atomically; raises NotFound if absent."""

    @abstractmethod
    def update_focus_area(
        self, focus_id: int, if_match: str | None = None, **changes: Any
    ) -> FocusArea:
        """Change name, notes, geometry, lsoa_codes or params of a focus area.

        Only the given fields change, in one transaction; with ``if_match`` the update is
        refused (StaleWrite) when the area's etag differs.
        """

    @abstractmethod
    def get_focus_area(self, focus_id: int) -> FocusArea:
        """One focus area; raises NotFound if absent."""

    @abstractmethod
    def list_focus_areas(self) -> list[FocusArea]:
        """All focus areas, oldest first."""

    @abstractmethod
    def delete_focus_area(self, focus_id: int) -> None:
        """Remove a focus area; raises NotFound if absent."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SQLiteStore(Store):
    """The embedded store: SQLite catalogue plus GeoParquet files in one folder.

    Parameters
    ----------
    root : Path
        Folder of this store (created if missing).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.data_dir = self.root / "datasets"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / "catalogue.sqlite"
        with self._connect() as con:
            con.executescript(SCHEMA)
            _add_public_column(con)
        self._cache: tuple[tuple[str, ...], gpd.GeoDataFrame] | None = None
        self.removed_leftovers = self.clean_leftovers()

    def clean_leftovers(self, min_age_s: float = 60.0) -> list[str]:
        """Remove temporary and orphan data files (left by a killed ingest); log each one.

        A temporary file starts with ``.``; an orphan is a data file whose hash the catalogue
        does not hold.

        Parameters
        ----------
        min_age_s : float
            Files younger than this are left alone (an ingest may be writing them).

        Returns
        -------
        list of str
            Names of the removed files.
        """
        known = set(self.datasets()["sha256"])
        cutoff = datetime.now(UTC).timestamp() - min_age_s
        removed = []
        for path in self.data_dir.iterdir():
            orphan = path.name.split(".")[0] not in known
            if (path.name.startswith(".") or orphan) and path.stat().st_mtime <= cutoff:
                path.unlink(missing_ok=True)
                removed.append(path.name)
        if removed:
            names = ", ".join(sorted(removed))
            log.warning("removed %d leftover file(s) in %s: %s", len(removed), self.data_dir, names)
        return removed

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.db_path, timeout=30)
        try:
            with con:  # commits on success, rolls back on error
                yield con
        finally:
            con.close()

    # datasets -----------------------------------------------------------------------------

    def has_dataset(self, sha256: str) -> bool:
        """Whether a file with this content hash is already stored."""
        with self._connect() as con:
            row = con.execute("SELECT 1 FROM datasets WHERE sha256 = ?", (sha256,)).fetchone()
        return row is not None

    def add_datasets(self, items: list[tuple[dict, gpd.GeoDataFrame, pd.DataFrame]]) -> list[int]:
        """Store datasets in one transaction; nothing is kept if any step fails.

        Parameters
        ----------
        items : list of (info, incidents, quarantine)
            ``info`` has ``sha256``, ``name``, ``source``, ``n_in``, ``n_accepted``,
            ``n_quarantined``, ``by_reason`` and, for a local log, ``public`` (the uploader
            marked it public; :func:`dataset_public`); ``incidents`` is the geocoded table
            of that file and ``quarantine`` its quarantined rows.

        Returns
        -------
        list of int
            Dataset ids, in the order given.
        """
        check_not_empty(items)
        staged: list[tuple[Path, Path]] = []
        try:
            with self._connect() as con:
                ids = [self._insert(con, info, inc, qua, staged) for info, inc, qua in items]
                for tmp, final in staged:
                    tmp.replace(final)
        except sqlite3.IntegrityError as exc:
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)
            if "sha256" not in str(exc):
                raise
            raise already_stored() from None
        except BaseException:
            for tmp, final in staged:
                tmp.unlink(missing_ok=True)
                if not self._recorded(final):
                    final.unlink(missing_ok=True)
            raise
        self._cache = None
        return ids

    def _recorded(self, final: Path) -> bool:
        sha = final.name.split(".")[0]
        return self.has_dataset(sha)

    def _insert(
        self,
        con: sqlite3.Connection,
        info: dict,
        incidents: gpd.GeoDataFrame,
        quarantine: pd.DataFrame,
        staged: list[tuple[Path, Path]],
    ) -> int:
        sha = info["sha256"]
        token = uuid.uuid4().hex
        for suffix, frame in ((".parquet", incidents), (".quarantine.parquet", quarantine)):
            tmp = self.data_dir / f".{sha}.{token}{suffix}"
            frame.to_parquet(tmp, index=False)
            staged.append((tmp, self.data_dir / f"{sha}{suffix}"))
        cur = con.execute(
            "INSERT INTO datasets (sha256, name, source, n_in, n_accepted, n_quarantined,"
            " by_reason, ingested_at, public) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sha,
                info["name"],
                info["source"],
                int(info["n_in"]),
                int(info["n_accepted"]),
                int(info["n_quarantined"]),
                json.dumps(info.get("by_reason", {})),
                _now(),
                int(dataset_public(info)),
            ),
        )
        return int(cur.lastrowid)

    def datasets(self) -> pd.DataFrame:
        """Catalogue of stored datasets, oldest first (``public`` as bool)."""
        with self._connect() as con:
            table = pd.read_sql_query("SELECT * FROM datasets ORDER BY id", con)
        return table.astype({"public": bool})

    def remove_dataset(self, dataset_id: int) -> dict:
        """Remove one dataset: its catalogue row in one transaction, then its files.

        A crash between the two leaves orphan files only, which the next start removes
        (:meth:`clean_leftovers`); the catalogue never names a missing file.

        Parameters
        ----------
        dataset_id : int

        Returns
        -------
        dict
            The removed catalogue row.

        Raises
        ------
        NotFound
            No dataset with this id.
        """
        _check_id(dataset_id, "dataset")
        with self._connect() as con:
            con.row_factory = sqlite3.Row
            row = con.execute("SELECT * FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
            if row is None:
                raise NotFound(f"no dataset {dataset_id}", param="dataset_id")
            if con.execute("DELETE FROM datasets WHERE id = ?", (dataset_id,)).rowcount == 0:
                raise NotFound(f"no dataset {dataset_id}", param="dataset_id")  # removed meanwhile
        info = dict(row)
        for suffix in (".parquet", ".quarantine.parquet"):
            (self.data_dir / f"{info['sha256']}{suffix}").unlink(missing_ok=True)
        self._cache = None
        return info

    def incidents(self) -> gpd.GeoDataFrame:
        """All stored geocoded incidents in ingest order (cached until the next write)."""
        shas = tuple(self.datasets()["sha256"])
        if self._cache is not None and self._cache[0] == shas:
            return self._cache[1].copy()
        frames = [gpd.read_parquet(self.data_dir / f"{sha}.parquet") for sha in shas]
        if frames:
            out = pd.concat(frames, ignore_index=True)
            out = gpd.GeoDataFrame(out, geometry="geometry", crs=CRS_BNG)
        else:
            out = gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=CRS_BNG)
        self._cache = (shas, out)
        return out.copy()

    def incident_files(self) -> list[Path]:
        """The GeoParquet file of each stored dataset, in ingest order (for the Dask engine)."""
        return [self.data_dir / f"{sha}.parquet" for sha in self.datasets()["sha256"]]

    def quarantine(self) -> pd.DataFrame:
        """All stored quarantined rows in ingest order."""
        shas = list(self.datasets()["sha256"])
        frames = [pd.read_parquet(self.data_dir / f"{sha}.quarantine.parquet") for sha in shas]
        if not frames:
            return pd.DataFrame(columns=QUARANTINE_COLUMNS)
        return pd.concat(frames, ignore_index=True)

    def log_run(self, command: str, params: dict, summary: dict) -> None:
        """Record a run's command, parameters and summary."""
        with self._connect() as con:
            con.execute(
                "INSERT INTO runs (command, params, summary, at) VALUES (?, ?, ?, ?)",
                (
                    command,
                    json.dumps(params, default=str),
                    json.dumps(summary, default=str),
                    _now(),
                ),
            )

    def runs(self) -> pd.DataFrame:
        """Run metadata, oldest first."""
        with self._connect() as con:
            return pd.read_sql_query("SELECT * FROM runs ORDER BY id", con)

    # focus areas --------------------------------------------------------------------------

    def save_focus_area(
        self,
        name: str,
        notes: str,
        geometry: BaseGeometry,
        lsoa_codes: list[str],
        params: dict | None = None,
    ) -> FocusArea:
        """Create a focus area in one transaction.

        Parameters
        ----------
        name : str
            Non-empty display name.
        notes : str
        geometry : shapely geometry
            Outline in EPSG:27700.
        lsoa_codes : list of str
        params : dict, optional

        Returns
        -------
        FocusArea
        """
        _check_focus(name, geometry)
        now = _now()
        with self._connect() as con:
            cur = con.execute(
                "INSERT INTO focus_areas (name, notes, geometry_wkt, lsoa_codes, params,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    name.strip(),
                    notes or "",
                    geometry.wkt,
                    json.dumps(list(lsoa_codes)),
                    json.dumps(params or {}, default=str),
                    now,
                    now,
                ),
            )
            focus_id = int(cur.lastrowid)
        return self.get_focus_area(focus_id)

    def update_focus_area(
        self, focus_id: int, if_match: str | None = None, **changes: Any
    ) -> FocusArea:
        """Change the given fields of a focus area in one transaction.

        Parameters
        ----------
        focus_id : int
        if_match : str, optional
            The :attr:`FocusArea.etag` the caller last read; refused if it changed since.
        **changes
            Any of ``name``, ``notes``, ``geometry``, ``lsoa_codes``, ``params``. Fields not
            given keep their stored value (two concurrent edits of different fields both
            land).

        Returns
        -------
        FocusArea

        Raises
        ------
        NotFound, BadInput, StaleWrite
        """
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            current = self._focus_row(con, focus_id)
            values = _focus_columns(merge_focus_changes(current, if_match, changes))
            values["updated_at"] = _now()
            sets = ", ".join(f"{col}=?" for col in values)
            con.execute(f"UPDATE focus_areas SET {sets} WHERE id=?", (*values.values(), focus_id))
            return self._focus_row(con, focus_id)

    def _focus_row(self, con: sqlite3.Connection, focus_id: int) -> FocusArea:
        _check_id(focus_id, "focus area")
        row = con.execute("SELECT * FROM focus_areas WHERE id = ?", (focus_id,)).fetchone()
        if row is None:
            raise NotFound(f"no focus area {focus_id}", param="focus_id")
        return _focus_from_row(row)

    def get_focus_area(self, focus_id: int) -> FocusArea:
        """One focus area by id; raises NotFound if there is none."""
        with self._connect() as con:
            return self._focus_row(con, focus_id)

    def list_focus_areas(self) -> list[FocusArea]:
        """All focus areas, oldest first."""
        with self._connect() as con:
            rows = con.execute("SELECT * FROM focus_areas ORDER BY id").fetchall()
        return [_focus_from_row(r) for r in rows]

    def delete_focus_area(self, focus_id: int) -> None:
        """Remove a focus area; raises NotFound if there is none."""
        _check_id(focus_id, "focus area")
        with self._connect() as con:
            cur = con.execute("DELETE FROM focus_areas WHERE id = ?", (focus_id,))
        if cur.rowcount == 0:
            raise NotFound(f"no focus area {focus_id}", param="focus_id")


def dataset_public(info: dict) -> bool:
    """Whether a dataset's records are public: police.uk data always, a local log if marked.

    Parameters
    ----------
    info : dict
        The dataset's ``source`` and, for local logs, the uploader's ``public`` choice.

    Returns
    -------
    bool
    """
    return info["source"] != "local" or bool(info.get("public", False))


def _add_public_column(con: sqlite3.Connection) -> None:
    """Give a catalogue made before datasets had ``public`` the column (police.uk: public)."""
    names = {row[1] for row in con.execute("PRAGMA table_info(datasets)")}
    if "public" not in names:
        con.execute("ALTER TABLE datasets ADD COLUMN public INTEGER NOT NULL DEFAULT 0")
        con.execute("UPDATE datasets SET public = 1 WHERE source != 'local'")


def _check_id(value: int, what: str) -> None:
    """NotFound for an id no row can have (outside the signed 64-bit range of both backends)."""
    if not 1 <= value <= MAX_ID:
        raise NotFound(f"no {what} {value}", param=f"{what.replace(' ', '_')}_id")


def check_not_empty(items: list[tuple[dict, gpd.GeoDataFrame, pd.DataFrame]]) -> None:
    """IngestError for a file with no rows (a header alone is not a dataset); every backend."""
    for info, _, _ in items:
        if int(info["n_in"]) == 0:
            raise IngestError(f"{info['name']}: the file has no rows (a header alone is not a "
                              "dataset)")


def already_stored() -> AlreadyStored:
    """The error every backend raises when a file's hash is already in its catalogue."""
    return AlreadyStored(
        "this file is already stored (another ingest stored it first); nothing changed"
    )


#: Fields of a focus area that :meth:`Store.update_focus_area` may change.
FOCUS_FIELDS = ("name", "notes", "geometry", "lsoa_codes", "params")


def check_focus_fields(changes: dict[str, Any]) -> None:
    """BadInput for a focus-area field that does not exist."""
    unknown = set(changes) - set(FOCUS_FIELDS)
    if unknown:
        raise BadInput(f"unknown focus-area field(s): {', '.join(sorted(unknown))}")


def merge_focus_changes(
    current: FocusArea, if_match: str | None, changes: dict[str, Any]
) -> dict[str, Any]:
    """The field-merge rule of a focus-area update, shared by every backend.

    Called inside the backend's transaction, with the stored row locked.

    Parameters
    ----------
    current : FocusArea
        The stored area, as read in the updating transaction.
    if_match : str, optional
        The :attr:`FocusArea.etag` the caller last read (quotes allowed).
    changes : dict
        The fields to change; the others keep their stored value.

    Returns
    -------
    dict
        Normalised new values of the given fields only (name stripped, notes never None,
        lsoa_codes a list).

    Raises
    ------
    StaleWrite
        ``if_match`` differs from the stored area's etag.
    BadInput
        An unknown field, or the merged area has no name or no valid outline.
    """
    check_focus_fields(changes)
    if if_match is not None and if_match.strip('"') != current.etag:
        raise StaleWrite(
            f"focus area {current.id} changed since it was read; reload and retry",
            param="If-Match",
        )
    _check_focus(changes.get("name", current.name), changes.get("geometry", current.geometry))
    out = dict(changes)
    if "name" in out:
        out["name"] = out["name"].strip()
    if "notes" in out:
        out["notes"] = out["notes"] or ""
    if "lsoa_codes" in out:
        out["lsoa_codes"] = list(out["lsoa_codes"])
    return out


def _focus_columns(fields: dict[str, Any]) -> dict[str, Any]:
    """SQLite column values of normalised focus-area fields (see :func:`merge_focus_changes`)."""
    encode = {
        "geometry": ("geometry_wkt", lambda g: g.wkt),
        "lsoa_codes": ("lsoa_codes", json.dumps),
        "params": ("params", lambda p: json.dumps(p, default=str)),
    }
    out: dict[str, Any] = {}
    for field, value in fields.items():
        column, to_sql = encode.get(field, (field, lambda v: v))
        out[column] = to_sql(value)
    return out


def _check_focus(name: str, geometry: BaseGeometry) -> None:
    if not isinstance(name, str) or not name.strip():
        raise BadInput("a focus area needs a name", param="name")
    if geometry is None or geometry.is_empty or not geometry.is_valid:
        raise BadInput("a focus area needs a valid, non-empty outline", param="selection")


def _focus_from_row(row: tuple) -> FocusArea:
    fid, name, notes, geom, codes, params, created, updated = row
    return FocusArea(
        id=int(fid),
        name=name,
        notes=notes,
        geometry=wkt.loads(geom),
        lsoa_codes=json.loads(codes),
        params=json.loads(params),
        created_at=created,
        updated_at=updated,
    )


def open_store(settings: Settings, pack_name: str) -> Store:
    """Open (creating if needed) the store of one area pack.

    Parameters
    ----------
    settings : Settings
        Gives the store folder, or a ``postgresql://`` URL for the PostGIS store
        (:mod:`geo_ssgp.store_postgis`).
    pack_name : str
        Area-pack name; each pack has its own store (folder, or PostgreSQL schema).

    Returns
    -------
    Store
        :class:`SQLiteStore`, or :class:`~geo_ssgp.store_postgis.PostGISStore` for a URL.
    """
    if isinstance(settings.store_dir, str) and settings.store_dir.startswith(POSTGRES_SCHEMES):
        from geo_ssgp.store_postgis import PostGISStore

        return PostGISStore(settings.store_dir, pack_name)
    return SQLiteStore(Path(settings.store_dir) / pack_name)
