"""Persistence: an embedded store with no server (SQLite catalogue plus GeoParquet files).

Layout of a store folder (one per area pack)::

    <store_dir>/<pack>/catalogue.sqlite    datasets, runs, focus areas
    <store_dir>/<pack>/datasets/<sha>.parquet             geocoded incidents (GeoParquet)
    <store_dir>/<pack>/datasets/<sha>.quarantine.parquet  quarantined rows

Every write is atomic: data files are written under temporary names and only renamed into
place inside the SQLite transaction that records them, so a failure leaves the store as it
was. Datasets are keyed by the SHA-256 of the source file, so re-ingesting a file is a no-op.
:class:`Store` is the small interface the rest of the code uses; another backend (for example
PostGIS) implements the same methods.
"""

from __future__ import annotations

import json
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
from geo_ssgp.errors import BadInput, NotFound
from geo_ssgp.schema import QUARANTINE_COLUMNS

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
    ingested_at TEXT NOT NULL
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
    def update_focus_area(self, focus_id: int, **changes: Any) -> FocusArea:
        """Change name, notes, geometry, lsoa_codes or params of a focus area."""

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
        self._cache: tuple[tuple[str, ...], gpd.GeoDataFrame] | None = None

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
            ``n_quarantined`` and ``by_reason``; ``incidents`` is the geocoded table of that
            file and ``quarantine`` its quarantined rows.

        Returns
        -------
        list of int
            Dataset ids, in the order given.
        """
        staged: list[tuple[Path, Path]] = []
        try:
            with self._connect() as con:
                ids = [self._insert(con, info, inc, qua, staged) for info, inc, qua in items]
                for tmp, final in staged:
                    tmp.replace(final)
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
            " by_reason, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sha,
                info["name"],
                info["source"],
                int(info["n_in"]),
                int(info["n_accepted"]),
                int(info["n_quarantined"]),
                json.dumps(info.get("by_reason", {})),
                _now(),
            ),
        )
        return int(cur.lastrowid)

    def datasets(self) -> pd.DataFrame:
        """Catalogue of stored datasets, oldest first."""
        with self._connect() as con:
            return pd.read_sql_query("SELECT * FROM datasets ORDER BY id", con)

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

    def update_focus_area(self, focus_id: int, **changes: Any) -> FocusArea:
        """Change fields of a focus area in one transaction (NotFound if absent)."""
        current = self.get_focus_area(focus_id)
        name = changes.get("name", current.name)
        geometry = changes.get("geometry", current.geometry)
        _check_focus(name, geometry)
        with self._connect() as con:
            con.execute(
                "UPDATE focus_areas SET name=?, notes=?, geometry_wkt=?, lsoa_codes=?, params=?,"
                " updated_at=? WHERE id=?",
                (
                    name.strip(),
                    changes.get("notes", current.notes) or "",
                    geometry.wkt,
                    json.dumps(list(changes.get("lsoa_codes", current.lsoa_codes))),
                    json.dumps(changes.get("params", current.params), default=str),
                    _now(),
                    focus_id,
                ),
            )
        return self.get_focus_area(focus_id)

    def get_focus_area(self, focus_id: int) -> FocusArea:
        """One focus area by id; raises NotFound if there is none."""
        with self._connect() as con:
            row = con.execute("SELECT * FROM focus_areas WHERE id = ?", (focus_id,)).fetchone()
        if row is None:
            raise NotFound(f"no focus area {focus_id}", param="focus_id")
        return _focus_from_row(row)

    def list_focus_areas(self) -> list[FocusArea]:
        """All focus areas, oldest first."""
        with self._connect() as con:
            rows = con.execute("SELECT * FROM focus_areas ORDER BY id").fetchall()
        return [_focus_from_row(r) for r in rows]

    def delete_focus_area(self, focus_id: int) -> None:
        """Remove a focus area; raises NotFound if there is none."""
        with self._connect() as con:
            cur = con.execute("DELETE FROM focus_areas WHERE id = ?", (focus_id,))
        if cur.rowcount == 0:
            raise NotFound(f"no focus area {focus_id}", param="focus_id")


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
