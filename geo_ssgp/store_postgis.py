"""Persistence on a server: the :class:`~geo_ssgp.store.Store` interface on PostgreSQL + PostGIS.

Selected by :func:`geo_ssgp.store.open_store` when ``GEO_SSGP_STORE`` (or ``--store``) is a
``postgresql://`` URL. Each area pack gets its own PostgreSQL schema (``gloucester``,
``gloucestershire``, ...) holding:

``datasets``     one row per stored file, keyed by the file's SHA-256 (re-ingest is a no-op)
``incidents``    geocoded incidents, ``geom geometry(Point, 27700)`` with a GiST index
``quarantine``   quarantined rows with their reason
``runs``         run metadata
``focus_areas``  saved focus areas, ``geom geometry(Geometry, 27700)`` with a GiST index
``hotspot_layers`` + ``layer_<name>``  published hotspot layers (see :meth:`publish_layer`)

Every table has a primary key and a declared SRID, so QGIS opens each one directly. The
schema is created and migrated by the numbered SQL files in ``geo_ssgp/migrations/postgis``
(applied once each, recorded in ``schema_migrations``, under an advisory lock so concurrent
openers do not race). Every ingest and every focus-area write is one transaction; connections
are opened per operation, so one store object is safe to share between threads.

The rules of the interface are those of the embedded store and live in
:mod:`geo_ssgp.store` (header-only files refused, :class:`~geo_ssgp.errors.AlreadyStored` for a
repeated hash, focus-area field merge and ``If-Match``/:class:`~geo_ssgp.errors.StaleWrite`,
64-bit ids). Nothing here needs crash-leftover cleanup: incidents live in the same
transaction as their catalogue row, so a killed ingest leaves nothing behind.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

import geopandas as gpd
import pandas as pd
import psycopg
import shapely
from psycopg import sql
from shapely.geometry.base import BaseGeometry

from geo_ssgp.config import CRS_BNG
from geo_ssgp.errors import BadInput, NotFound
from geo_ssgp.schema import QUARANTINE_COLUMNS
from geo_ssgp.store import (
    FocusArea,
    Store,
    _check_focus,
    _check_id,
    already_stored,
    check_not_empty,
    dataset_public,
    merge_focus_changes,
)

SRID = 27700

#: Incident columns with their own typed column in the ``incidents`` table (others go to
#: the ``extra`` JSON column).
TYPED_COLUMNS = {
    "incident_id": "text",
    "source": "text",
    "source_file": "text",
    "source_row": "integer",
    "month": "date",
    "crime_type": "text",
    "location_text": "text",
    "outcome": "text",
    "restricted": "boolean",
    "source_lsoa": "text",
    "source_lsoa_name": "text",
    "snap_point": "boolean",
    "lsoa21cd": "text",
    "lsoa21nm": "text",
    "lsoa11cd": "text",
    "lsoa11nm": "text",
    "ward_cd": "text",
    "ward_nm": "text",
    "lad_cd": "text",
    "edge_distance_m": "double precision",
    "ambiguous": "boolean",
    "lsoa_rule": "text",
    "status": "text",
}

_FOCUS_SELECT = (
    "SELECT id, name, notes, ST_AsBinary(geom), lsoa_codes, params, created_at, updated_at"
    " FROM focus_areas"
)


_DATASET_COLUMNS = ["id", "sha256", "name", "source", "n_in", "n_accepted", "n_quarantined",
                    "by_reason", "ingested_at", "public"]
_DATASET_SELECT = (
    "SELECT id, sha256, name, source, n_in, n_accepted, n_quarantined, by_reason::text,"
    " to_char(ingested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS+00:00'), public"
    " FROM datasets"
)


def migrations() -> list[tuple[int, str, str]]:
    """The numbered SQL migrations, oldest first.

    Returns
    -------
    list of (version, file name, SQL text)
    """
    folder = resources.files("geo_ssgp") / "migrations" / "postgis"
    found = []
    for item in folder.iterdir():
        match = re.fullmatch(r"(\d+)_\w+\.sql", item.name)
        if match:
            found.append((int(match.group(1)), item.name, item.read_text(encoding="utf-8")))
    return sorted(found)


def schema_name(pack_name: str) -> str:
    """The PostgreSQL schema of an area pack: its name, lower case, ``[a-z0-9_]`` only."""
    name = re.sub(r"[^a-z0-9_]", "_", pack_name.lower()).strip("_")
    if not name or name[0].isdigit():
        name = f"pack_{name}"
    return name


class PostGISStore(Store):
    """The server store: one PostgreSQL schema per area pack, geometry in EPSG:27700.

    Parameters
    ----------
    url : str
        ``postgresql://user[:password]@host[:port]/database`` (libpq conninfo also works).
    pack_name : str
        Area pack; its tables live in the schema :func:`schema_name` gives.

    Raises
    ------
    BadInput
        When the database cannot be reached (the message names host and database, never the
        password).
    """

    def __init__(self, url: str, pack_name: str) -> None:
        self.url = url
        self.schema = schema_name(pack_name)
        self.migrate()

    @contextmanager
    def _connect(self) -> Iterator[psycopg.Connection]:
        """A connection in one transaction (commit on success, rollback on error)."""
        try:
            con = psycopg.connect(self.url, autocommit=False)
        except psycopg.OperationalError as exc:
            info = psycopg.conninfo.conninfo_to_dict(self.url)
            where = f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname')}"
            raise BadInput(f"cannot connect to the PostGIS store at {where}", "store") from exc
        try:
            with con:  # commits on success, rolls back on error, then closes
                con.execute(
                    sql.SQL("SET LOCAL search_path TO {}, public").format(
                        sql.Identifier(self.schema)
                    )
                )
                yield con
        finally:
            con.close()

    def migrate(self) -> list[int]:
        """Create the schema and apply the migrations it has not had yet, in one transaction.

        Returns
        -------
        list of int
            Versions applied by this call (empty when up to date).
        """
        with self._connect() as con:
            con.execute("SELECT pg_advisory_xact_lock(hashtext('geo_ssgp:migrate'))")
            con.execute("CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public")
            schema = sql.Identifier(self.schema)
            con.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
                " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r[0] for r in con.execute("SELECT version FROM schema_migrations")}
            applied = []
            for version, name, text in migrations():
                if version in done:
                    continue
                con.execute(text)
                con.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name)
                )
                applied.append(version)
        return applied

    def schema_version(self) -> int:
        """Highest migration applied to this pack's schema."""
        with self._connect() as con:
            return con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]

    # datasets -----------------------------------------------------------------------------

    def has_dataset(self, sha256: str) -> bool:
        """Whether a file with this content hash is already stored."""
        with self._connect() as con:
            row = con.execute("SELECT 1 FROM datasets WHERE sha256 = %s", (sha256,)).fetchone()
        return row is not None

    def add_datasets(self, items: list[tuple[dict, gpd.GeoDataFrame, pd.DataFrame]]) -> list[int]:
        """Store datasets in one transaction; nothing is kept if any step fails.

        Parameters
        ----------
        items : list of (info, incidents, quarantine)
            As :meth:`geo_ssgp.store.SQLiteStore.add_datasets`.

        Returns
        -------
        list of int
            Dataset ids, in the order given.

        Raises
        ------
        IngestError
            A file has no rows.
        AlreadyStored
            A file hash is already stored (for example by a concurrent ingest of the same
            file: its INSERT waits on the unique index until the first commits); nothing of
            this call is kept.
        """
        check_not_empty(items)
        try:
            with self._connect() as con:
                return [self._insert(con, info, inc, qua) for info, inc, qua in items]
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name != "datasets_sha256_key":
                raise
            raise already_stored() from None

    def _insert(
        self, con: psycopg.Connection, info: dict, incidents: gpd.GeoDataFrame, qua: pd.DataFrame
    ) -> int:
        columns = [[str(c), str(incidents[c].dtype)] for c in incidents.columns]
        dataset_id = con.execute(
            "INSERT INTO datasets (sha256, name, source, n_in, n_accepted, n_quarantined,"
            " by_reason, columns, public) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " RETURNING id",
            (
                info["sha256"],
                info["name"],
                info["source"],
                int(info["n_in"]),
                int(info["n_accepted"]),
                int(info["n_quarantined"]),
                json.dumps(info.get("by_reason", {})),
                json.dumps(columns),
                dataset_public(info),
            ),
        ).fetchone()[0]
        _copy_in(con, "incidents", _incident_rows(incidents, dataset_id))
        quarantine = qua.reindex(columns=QUARANTINE_COLUMNS)
        _copy_in(con, "quarantine", _with_keys(quarantine, dataset_id))
        return int(dataset_id)

    def datasets(self) -> pd.DataFrame:
        """Catalogue of stored datasets, oldest first (same columns as the embedded store)."""
        with self._connect() as con:
            rows = con.execute(f"{_DATASET_SELECT} ORDER BY id").fetchall()
        return pd.DataFrame(rows, columns=_DATASET_COLUMNS).astype(
            {"id": "int64", "n_in": "int64", "n_accepted": "int64", "n_quarantined": "int64",
             "public": bool}
        )

    def remove_dataset(self, dataset_id: int) -> dict:
        """Remove one dataset with its incidents and quarantine, in one transaction.

        Parameters
        ----------
        dataset_id : int

        Returns
        -------
        dict
            The removed catalogue row (the columns of :meth:`datasets`).

        Raises
        ------
        NotFound
            No dataset with this id.
        """
        _check_id(dataset_id, "dataset")
        with self._connect() as con:
            row = con.execute(
                f"{_DATASET_SELECT} WHERE id = %s FOR UPDATE", (dataset_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"no dataset {dataset_id}", param="dataset_id")
            con.execute("DELETE FROM datasets WHERE id = %s", (dataset_id,))  # cascades
        return dict(zip(_DATASET_COLUMNS, row, strict=True))

    def incidents(self) -> gpd.GeoDataFrame:
        """All stored geocoded incidents in ingest order, with the columns and dtypes given."""
        return self.dataset_incidents()

    def dataset_incidents(self, ids: list[int] | None = None) -> gpd.GeoDataFrame:
        """The stored incidents of some datasets (all when ``ids`` is None), in ingest order.

        The Dask engine's workers call this on a copy of the store, one group of datasets
        each (:func:`geo_ssgp.dask_engine.map_stored`), so every worker reads its partition
        straight from the database.

        Parameters
        ----------
        ids : list of int, optional
            Dataset ids (:meth:`datasets`).

        Returns
        -------
        geopandas.GeoDataFrame
            The columns and dtypes of these datasets as written (the union of their
            columns, in order), EPSG:27700.
        """
        where = sql.SQL("") if ids is None else sql.SQL(" WHERE {} = ANY(%(ids)s)")
        params = {} if ids is None else {"ids": [int(i) for i in ids]}
        with self._connect() as con:
            layout = [json.loads(r[0]) for r in con.execute(
                sql.SQL("SELECT columns::text FROM datasets{} ORDER BY id").format(
                    where.format(sql.Identifier("id"))
                ),
                params,
            )]
            typed = sql.SQL(", ").join(map(sql.Identifier, TYPED_COLUMNS))
            rows = con.execute(
                sql.SQL(
                    "SELECT {}, extra, ST_AsBinary(geom) FROM incidents{}"
                    " ORDER BY dataset_id, row_no"
                ).format(typed, where.format(sql.Identifier("dataset_id"))),
                params,
            ).fetchall()
        frame = pd.DataFrame(rows, columns=[*TYPED_COLUMNS, "extra", "geometry"])
        return _restore(frame, layout)

    def quarantine(self) -> pd.DataFrame:
        """All stored quarantined rows in ingest order."""
        with self._connect() as con:
            rows = con.execute(
                f"SELECT {', '.join(QUARANTINE_COLUMNS)} FROM quarantine"
                " ORDER BY dataset_id, row_no"
            ).fetchall()
        out = pd.DataFrame(rows, columns=QUARANTINE_COLUMNS)
        return out.astype({"source_row": "int64"}) if len(out) else out

    def log_run(self, command: str, params: dict, summary: dict) -> None:
        """Record a run's command, parameters and summary."""
        with self._connect() as con:
            con.execute(
                "INSERT INTO runs (command, params, summary) VALUES (%s, %s, %s)",
                (command, json.dumps(params, default=str), json.dumps(summary, default=str)),
            )

    def runs(self) -> pd.DataFrame:
        """Run metadata, oldest first."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT id, command, params::text, summary::text, at FROM runs ORDER BY id"
            ).fetchall()
        return pd.DataFrame(rows, columns=["id", "command", "params", "summary", "at"])

    # focus areas --------------------------------------------------------------------------

    def save_focus_area(
        self,
        name: str,
        notes: str,
        geometry: BaseGeometry,
        lsoa_codes: list[str],
        params: dict | None = None,
    ) -> FocusArea:
        """Create a focus area in one transaction (validated as in the embedded store)."""
        _check_focus(name, geometry)
        with self._connect() as con:
            row = con.execute(
                "INSERT INTO focus_areas (name, notes, lsoa_codes, params, created_at,"
                " updated_at, geom) VALUES (%s, %s, %s, %s, now(), now(),"
                f" ST_GeomFromWKB(%s, {SRID})) RETURNING id",
                (
                    name.strip(),
                    notes or "",
                    json.dumps(list(lsoa_codes)),
                    json.dumps(params or {}, default=str),
                    shapely.to_wkb(geometry),
                ),
            ).fetchone()
            return _focus(con, row[0])

    def update_focus_area(
        self, focus_id: int, if_match: str | None = None, **changes: Any
    ) -> FocusArea:
        """Change the given fields of a focus area in one transaction, the row locked.

        Same parameters, rules and errors as the embedded store
        (:meth:`geo_ssgp.store.SQLiteStore.update_focus_area`), from the one implementation
        :func:`geo_ssgp.store.merge_focus_changes`.
        """
        with self._connect() as con:
            current = _focus(con, focus_id, lock=True)
            fields = merge_focus_changes(current, if_match, changes)
            sets = [sql.SQL("updated_at = clock_timestamp()")]
            values: list[Any] = []
            for field, value in fields.items():
                column, placeholder, encoded = _focus_column(field, value)
                sets.append(sql.SQL("{} = " + placeholder).format(sql.Identifier(column)))
                values.append(encoded)
            con.execute(
                sql.SQL("UPDATE focus_areas SET {} WHERE id = %s").format(
                    sql.SQL(", ").join(sets)
                ),
                (*values, focus_id),
            )
            return _focus(con, focus_id)

    def get_focus_area(self, focus_id: int) -> FocusArea:
        """One focus area by id; raises NotFound if there is none."""
        with self._connect() as con:
            return _focus(con, focus_id)

    def list_focus_areas(self) -> list[FocusArea]:
        """All focus areas, oldest first."""
        with self._connect() as con:
            rows = con.execute(f"{_FOCUS_SELECT} ORDER BY id").fetchall()
        return [_focus_from_row(r) for r in rows]

    def delete_focus_area(self, focus_id: int) -> None:
        """Remove a focus area; raises NotFound if there is none."""
        _check_id(focus_id, "focus area")
        with self._connect() as con:
            cur = con.execute("DELETE FROM focus_areas WHERE id = %s", (focus_id,))
        if cur.rowcount == 0:
            raise NotFound(f"no focus area {focus_id}", param="focus_id")

    # published layers (for QGIS) ----------------------------------------------------------

    def publish_layer(self, name: str, layer) -> str:
        """Write a hotspot layer as its own table ``layer_<name>`` that QGIS opens directly.

        The table has a ``fid`` primary key, the layer's attribute columns (rank,
        n_incidents, label, score, ...) and ``geom geometry(<type>, 27700)`` with a GiST
        index; its parameters go into the ``hotspot_layers`` catalogue and the table comment.
        Publishing under an existing name replaces that layer, in one transaction.

        Parameters
        ----------
        name : str
            Layer name (letters, digits, ``_``, ``-``), e.g. ``gistar_2025q3``.
        layer : geo_ssgp.hotspots.layer.HotspotLayer

        Returns
        -------
        str
            Schema-qualified table name.
        """
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", name or ""):
            raise BadInput("a layer name is 1-40 letters, digits, '_' or '-'", param="name")
        table = f"layer_{name.lower().replace('-', '_')}"
        frame = layer.hotspots.to_crs(CRS_BNG)
        params = json.dumps(layer.parameters, default=str)  # JSON-safe by contract
        with self._connect() as con:
            con.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
            con.execute(_layer_ddl(table, frame))
            _copy_in(con, table, _layer_rows(frame))
            con.execute(
                sql.SQL("COMMENT ON TABLE {} IS {}").format(
                    sql.Identifier(table), sql.Literal(f"{layer.method} hotspots: {params}")
                )
            )
            con.execute(
                "INSERT INTO hotspot_layers (name, table_name, method, parameters, n_features)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET"
                " table_name=EXCLUDED.table_name, method=EXCLUDED.method,"
                " parameters=EXCLUDED.parameters, n_features=EXCLUDED.n_features,"
                " published_at=now()",
                (name, table, layer.method, params, len(frame)),
            )
        return f"{self.schema}.{table}"


# helpers -----------------------------------------------------------------------------------


def _focus(con: psycopg.Connection, focus_id: int, lock: bool = False) -> FocusArea:
    _check_id(focus_id, "focus area")
    suffix = " FOR UPDATE" if lock else ""
    row = con.execute(f"{_FOCUS_SELECT} WHERE id = %s{suffix}", (int(focus_id),)).fetchone()
    if row is None:
        raise NotFound(f"no focus area {focus_id}", param="focus_id")
    return _focus_from_row(row)


def _focus_column(field: str, value: Any) -> tuple[str, str, Any]:
    """Column, SQL placeholder and encoded value of one normalised focus-area field."""
    if field == "geometry":
        return "geom", f"ST_GeomFromWKB(%s, {SRID})", shapely.to_wkb(value)
    if field == "lsoa_codes":
        return field, "%s", json.dumps(value)
    if field == "params":
        return field, "%s", json.dumps(value, default=str)
    return field, "%s", value


def _focus_from_row(row: tuple) -> FocusArea:
    fid, name, notes, geom, codes, params, created, updated = row
    return FocusArea(
        id=int(fid),
        name=name,
        notes=notes,
        geometry=shapely.from_wkb(bytes(geom)),
        lsoa_codes=list(codes),
        params=dict(params),
        created_at=created.isoformat(timespec="seconds"),
        updated_at=updated.isoformat(timespec="seconds"),
    )


def _ewkb_hex(geometries) -> list[str]:
    """Hex EWKB with SRID 27700, the text form PostGIS accepts in COPY."""
    with_srid = shapely.set_srid(geometries, SRID)
    return list(shapely.to_wkb(with_srid, hex=True, include_srid=True))


def _with_keys(frame: pd.DataFrame, dataset_id: int) -> pd.DataFrame:
    out = frame.reset_index(drop=True)
    out.insert(0, "row_no", range(len(out)))
    out.insert(0, "dataset_id", dataset_id)
    return out


def _incident_rows(incidents: gpd.GeoDataFrame, dataset_id: int) -> pd.DataFrame:
    frame = pd.DataFrame(incidents.drop(columns="geometry"))
    typed = [c for c in TYPED_COLUMNS if c in frame]
    extras = [c for c in frame if c not in TYPED_COLUMNS]
    out = frame[typed].copy()
    if "month" in out:
        out["month"] = pd.to_datetime(out["month"]).dt.strftime("%Y-%m-%d")
    if extras:
        out["extra"] = [json.dumps(r, default=str) for r in frame[extras].to_dict("records")]
    out["geom"] = _ewkb_hex(incidents.to_crs(CRS_BNG).geometry.values)
    return _with_keys(out, dataset_id)


def _copy_in(con: psycopg.Connection, table: str, frame: pd.DataFrame) -> None:
    """Bulk-load a frame with COPY (CSV; a NULL is written as backslash-N, not as "")."""
    if frame.empty:
        return
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="\\N")
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, NULL '\\N')").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, frame.columns))
    )
    with con.cursor().copy(statement) as copy:
        copy.write(buffer.getvalue())


def _restore(frame: pd.DataFrame, layout: list[list[list[str]]]) -> gpd.GeoDataFrame:
    """The stored rows with each dataset's columns (in order) and their original dtypes."""
    dtypes: dict[str, str] = {}
    for columns in layout:
        for name, dtype in columns:
            dtypes.setdefault(name, dtype)
    extras = [c for c in dtypes if c not in TYPED_COLUMNS and c != "geometry"]
    if extras:
        # jsonb arrives decoded (dict) from psycopg, text as str
        unpacked = pd.DataFrame(
            [e if isinstance(e, dict) else json.loads(e) if e else {} for e in frame["extra"]]
        )
        frame = frame.assign(**{c: unpacked.get(c) for c in extras})
    geometry = gpd.GeoSeries(shapely.from_wkb([bytes(g) for g in frame["geometry"]]), crs=CRS_BNG)
    dtypes.setdefault("geometry", "geometry")
    out = frame.assign(geometry=geometry).reindex(columns=list(dtypes))
    for name, dtype in dtypes.items():
        if name != "geometry":
            out[name] = _as_dtype(out[name], dtype)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=CRS_BNG)


def _as_dtype(series: pd.Series, dtype: str) -> pd.Series:
    """Cast back to the dtype written; columns with gaps keep a dtype that can hold them."""
    if dtype.startswith("datetime64"):
        return pd.to_datetime(series).astype(dtype)
    if series.isna().any() and (dtype.startswith(("int", "bool"))):
        return series
    try:
        return series.astype(dtype)
    except (TypeError, ValueError):
        return series


_PG_TYPES = {"i": "bigint", "u": "bigint", "f": "double precision", "b": "boolean"}


def _layer_ddl(table: str, frame: gpd.GeoDataFrame) -> sql.Composed:
    kinds = set(frame.geom_type.dropna())
    geom_type = kinds.pop().upper() if len(kinds) == 1 else "GEOMETRY"
    cols = [
        sql.SQL("{} {}").format(
            sql.Identifier(c), sql.SQL(_PG_TYPES.get(frame[c].dtype.kind, "text"))
        )
        for c in frame.columns
        if c != frame.geometry.name
    ]
    return sql.SQL(
        "CREATE TABLE {t} (fid bigserial PRIMARY KEY, {cols}, geom geometry({g}, {srid}));"
        " CREATE INDEX {ix} ON {t} USING gist (geom)"
    ).format(
        t=sql.Identifier(table),
        cols=sql.SQL(", ").join(cols),
        g=sql.SQL(geom_type),
        srid=sql.Literal(SRID),
        ix=sql.Identifier(f"{table}_geom_gix"),
    )


def _text(value: Any) -> str | None:
    """A layer attribute as text: lists and dicts as JSON, missing values as NULL."""
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return None if value is None or value != value else str(value)


def _layer_rows(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    out = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    for c in out:
        if out[c].dtype.kind not in _PG_TYPES:
            out[c] = out[c].map(_text)
    out["geom"] = _ewkb_hex(frame.geometry.values)
    return out
