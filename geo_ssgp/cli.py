"""Command-line interface (Typer): ``geo-ssgp ingest | geocode | agreement | areas | ...``.

Commands are thin: they parse options into the pipeline's own types (``Filters`` and the
resolvers of :mod:`geo_ssgp.filters`, the same the API uses), call the pipeline functions and
print results. Every user error becomes one line on standard error naming the problem and the
fix, with exit code 2 (1 for a file that cannot be ingested: nothing is stored): a
:class:`~geo_ssgp.errors.GeoSsgpError`, a file that cannot be read or written, and Click's
usage errors (a missing option, a value of the wrong type). ``geo-ssgp --debug ...`` shows the
traceback instead. Tables have headers with readable names and fit the terminal: columns that
do not fit are left out and named, never cut to "33.9…".
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from geo_ssgp import tables
from geo_ssgp.config import get_settings
from geo_ssgp.errors import BadInput, GeoSsgpError, IngestError, NotEnoughData
from geo_ssgp.filters import Filters, night_scope, parse_month, parse_period, resolve_method
from geo_ssgp.pack import AreaPack, load_pack
from geo_ssgp.store import Store, open_store

#: Errors: one line on standard error, never wrapped.
err_console = Console(stderr=True, soft_wrap=True)
_DEBUG = {"on": False}


def _error(message: str) -> None:
    err_console.print(f"[red]error:[/red] {escape(message)}")


class OneLineErrors(typer.core.TyperGroup):
    """The command group: Click's usage errors print one line (exit 2), not a panel."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **kw):
        """Run the command line; a usage error prints ``error: ...`` and exits with 2."""
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **kw)
        except typer.TyperException as exc:  # Click's usage errors (vendored by Typer)
            if not standalone_mode or _DEBUG["on"]:
                raise
            if type(exc).__name__ == "NoArgsIsHelpError":
                exc.show()  # the help text
            else:
                ctx = getattr(exc, "ctx", None)
                where = f"{ctx.command_path} --help" if ctx else "geo-ssgp --help"
                _error(f"{exc.format_message()} (see {where})")
            sys.exit(2)
        except typer.Abort:
            err_console.print("aborted")
            sys.exit(1)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(
    cls=OneLineErrors,
    help="Geospatial hotspot mapping for community safety partnerships.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()


def _package_version() -> str:
    try:
        return version("geo_ssgp")
    except PackageNotFoundError:  # a checkout that is not installed
        return "0.1.0"


def _show_version(value: bool) -> None:
    if value:
        console.print(f"geo-ssgp {_package_version()}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an error (for bug reports).")
    ] = False,
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Geospatial hotspot mapping for community safety partnerships.

    Data: the Gloucester sample in ../shared/data/gloucester (relative to the checkout) unless
    --data or GEO_SSGP_DATA says otherwise, so the examples run from any folder.
    """
    _DEBUG["on"] = debug


DataOpt = Annotated[
    Path | None,
    typer.Option("--data", help="Data folder (default: GEO_SSGP_DATA or the Gloucester sample)."),
]
PackOpt = Annotated[
    str | None,
    typer.Option("--pack", help="Area pack name in boundaries/ or a manifest path."),
]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Store folder or postgresql:// URL (default: GEO_SSGP_STORE or var/store).",
    ),
]
ColumnsOpt = Annotated[
    str | None,
    typer.Option("--columns", help="Column mapping for local logs: lon=X,lat=Y,date=D,type=T,..."),
]
SourceOpt = Annotated[
    str | None,
    typer.Option(
        "--source", help="Source format: police-uk, police-uk-api, police-uk-geojson or local."
    ),
]
FromOpt = Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM.")]
CrimeTypeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--crime-type",
        help="police.uk crime type, API slug or group asb|violence|crime (any case); repeatable.",
    ),
]
SubcategoryOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--subcategory",
        help="A local log's own category, e.g. Begging or 'Street drinking' (any case); "
        "repeatable. Only local records carry one.",
    ),
]
NightOpt = Annotated[
    bool,
    typer.Option(
        "--night",
        "--night-time",
        help="Only the night-time economy window (settings night_days/night_start/night_end); "
        "records without a clock time (all police.uk records) are left out.",
    ),
]
MethodOpt = Annotated[str, typer.Option(help="Hotspot method (any case), or 'default'.")]
EngineOpt = Annotated[
    str,
    typer.Option(
        help="in-process (default) or dask: partitions of the files (or of the store's "
        "datasets, embedded or PostGIS) in parallel on a Dask cluster."
    ),
]
HaloEngineOpt = Annotated[
    str,
    typer.Option(
        "--engine",
        help="in-process (default) or dask: the layer computed district by district, each "
        "with the halo of neighbouring cells or areas it needs, in parallel (same result).",
    ),
]
WorkersOpt = Annotated[
    int | None, typer.Option(help="Dask engine: local worker processes (default 2).", min=1)
]
SchedulerOpt = Annotated[
    str | None, typer.Option(help="Dask engine: address of a running scheduler (tcp://...).")
]


AllowEmptyOpt = Annotated[
    bool,
    typer.Option("--allow-empty", help="Write the result even when no incident matches."),
]


def command(name: str | None = None, group: typer.Typer | None = None) -> Callable:
    """Register a command (on ``group``, default the top level) whose user errors print one line.

    A :class:`~geo_ssgp.errors.GeoSsgpError` (bad option value, pack error, not enough data)
    or an ``OSError`` (a file that cannot be read or written) exits with 2; an
    :class:`~geo_ssgp.errors.IngestError` with 1 after saying that nothing was stored. With
    ``--debug`` the error propagates with its traceback. Anything else is a bug and keeps its
    traceback. ``group`` registers the command under a sub-command group
    (``geo-ssgp datasets list``) instead of the top level.
    """

    def register(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except (GeoSsgpError, OSError) as exc:
                if _DEBUG["on"]:
                    raise
                if isinstance(exc, IngestError):
                    _error(f"{exc}. Nothing was stored.")
                    raise typer.Exit(1) from exc
                _error(_file_error(exc) if isinstance(exc, OSError) else str(exc))
                raise typer.Exit(2) from exc

        return (group or app).command(name)(run)

    return register


def _file_error(exc: OSError) -> str:
    """One line for a file system error: the path, the reason and what to do."""
    name = exc.filename or ""
    reason = exc.strerror or str(exc)
    return f"cannot use {name}: {reason}; check the path and its permissions".replace(
        "cannot use : ", "file error: "
    )


def _out_path(path: Path, option: str = "--out") -> Path:
    """An output path whose folder exists (a missing folder is a one-line error)."""
    folder = path.expanduser().resolve().parent
    if not folder.is_dir():
        raise BadInput(
            f"{option} {path}: the folder {folder} does not exist; create it "
            f"(mkdir -p {folder}) or write somewhere else"
        )
    return path


#: The levels of ``areas --level``.
LEVELS = ("lsoa21", "lsoa11", "ward")


def _level(text: str) -> str:
    """``lsoa21``, ``lsoa11`` or ``ward`` in any case; anything else is a one-line error."""
    level = text.strip().lower()
    if level not in LEVELS:
        raise BadInput(f"--level {text!r}: use one of {', '.join(LEVELS)} (e.g. --level lsoa21)")
    return level


def _check_not_empty(table: pd.DataFrame, filters: Filters, allow_empty: bool) -> None:
    """Refuse an analysis of no incidents (warning and exit 2) unless ``--allow-empty``."""
    n = len(filters.apply(table))
    if n or allow_empty:
        return
    months = pd.to_datetime(table["month"]) if len(table) else pd.Series(dtype="datetime64[ns]")
    held = (
        f" (the data holds {months.min():%Y-%m} to {months.max():%Y-%m})"
        if len(months)
        else " (the store is empty)"
    )
    _refuse_empty(n, filters, allow_empty, held)


def _refuse_empty(n: int, filters: Filters, allow_empty: bool, held: str = "") -> None:
    """NotEnoughData when ``n`` incidents were selected and that is 0 (unless allowed)."""
    if n or allow_empty:
        return
    raise NotEnoughData(
        f"no incidents {_described(filters)}{held}; choose another period or crime "
        "type, or pass --allow-empty to write an empty result"
    )


def _described(filters: Filters) -> str:
    """E.g. ``from 2030-01 to 2030-02 of type Anti-social behaviour``."""
    text = f"from {filters.start or 'the first month'} to {filters.end or 'the last month'}"
    if filters.crime_types:
        text += " of type " + ", ".join(filters.crime_types)
    if filters.subcategories:
        text += " with subcategory " + ", ".join(filters.subcategories)
    return text


def _context(data: Path | None, pack: str | None, store: str | None):
    settings = get_settings(data_dir=data, pack=pack, store_dir=store)
    return settings, load_pack(settings)


def _columns(text: str | None) -> dict[str, str] | None:
    from geo_ssgp.incidents import parse_columns

    return parse_columns(text) if text else None


@contextmanager
def _engine(engine: str, workers: int | None, scheduler: str | None):
    """Yield a Dask client for ``--engine dask``, else ``None`` (the in-process path)."""
    if engine not in ("in-process", "dask"):
        raise BadInput(f"--engine {engine!r}: expected in-process or dask", "engine")
    if engine == "in-process":
        if workers or scheduler:
            raise BadInput("--workers and --scheduler need --engine dask", "engine")
        yield None
        return
    from geo_ssgp.dask_engine import dask_client

    with dask_client(workers, scheduler) as client:
        yield client


@contextmanager
def _progress(description: str, total: int):
    """A rich progress bar; yields a callable advancing it."""
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


def print_balance(summary: dict, out: Console | None = None) -> None:
    """Print the in = accepted + quarantined + duplicates balance per file and per reason.

    Files already stored are named as such; when nothing new was read the balance line says so
    instead of "in 0 = accepted 0 + quarantined 0". ``out`` defaults to standard output.
    """
    out = out or console
    table = Table(title="Ingest balance")
    numbers = ("in", "accepted", "quarantined", "duplicates")
    for col in ("file", "source", *numbers):
        table.add_column(col, justify="right" if col in numbers else "left")
    notes = []
    for f in summary["files"]:
        counts = (f["n_in"], f["n_accepted"], f["n_quarantined"], f.get("n_duplicates", 0))
        table.add_row(escape(f["name"]), f["source"], *(str(n) for n in counts))
        if f.get("skipped"):
            notes.append(f"{escape(f['name'])}: already stored (skipped)")
        elif f["source"] == "local":
            notes.append(f"{escape(f['name'])}: " + (
                "public (every role sees it)" if f.get("public")
                else "restricted to analysts (--public shares it)"
            ))
        for name, n in f.get("duplicate_of", {}).items():
            notes.append(f"{escape(f['name'])}: {n:,} incidents also in {escape(name)}")
    out.print(table)
    skipped = [f["name"] for f in summary["files"] if f.get("skipped")]
    if skipped and len(skipped) == len(summary["files"]):
        out.print(
            f"nothing new: {len(skipped)} file(s) already stored, skipped "
            "(the store keeps one copy of each file)"
        )
        return
    out.print(
        f"in {summary['in']:,} = accepted {summary['accepted']:,} + "
        f"quarantined {summary['quarantined']:,} + duplicates {summary.get('duplicates', 0):,}"
    )
    if summary.get("outside"):
        out.print(
            f"  accepted but outside the area: {summary['outside']:,} "
            "(stored, left out of area statistics and hotspots)"
        )
    for reason, n in sorted(summary["by_reason"].items()):
        if reason != "duplicate_incident":
            out.print(f"  quarantined {reason}: {n:,}")
    for line in notes:
        out.print(f"  {line}", soft_wrap=True)


@command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Incident files to ingest.", exists=True)],
    source: SourceOpt = None,
    columns: ColumnsOpt = None,
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
    engine: EngineOpt = "in-process",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    public: Annotated[
        bool,
        typer.Option(
            "--public",
            help="Local logs: their records are public (seen by pcso and viewer too). "
            "By default local logs are restricted to analysts; police.uk data is always public.",
        ),
    ] = False,
) -> None:
    """Validate, geocode and store incident files; print the in/accepted/quarantined balance."""
    from geo_ssgp.pipeline import ingest_files

    settings, area = _context(data, pack, store)
    target = open_store(settings, area.name)
    mapping = _columns(columns)
    with _engine(engine, workers, scheduler) as client, _progress("Ingesting", len(files)) as adv:
        summary = ingest_files(
            target, area, files, source, mapping, progress=adv, client=client, public=public
        )
    params = {"files": [str(f) for f in files], "source": source, "public": public}
    target.log_run("ingest", params, summary)
    print_balance(summary)


@command("geocode")
def geocode_cmd(
    files: Annotated[list[Path], typer.Argument(help="Incident files to geocode.", exists=True)],
    out: Annotated[Path, typer.Option("--out", help="Output CSV.")],
    source: SourceOpt = None,
    columns: ColumnsOpt = None,
    parquet: Annotated[
        Path | None,
        typer.Option(help="Dask engine: also write Hilbert-ordered GeoParquet to this folder."),
    ] = None,
    data: DataOpt = None,
    pack: PackOpt = None,
    engine: EngineOpt = "in-process",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
) -> None:
    """Write every input row, in input order, with its LSOA, ward, district and status."""
    from geo_ssgp.incidents import read_raw
    from geo_ssgp.pipeline import geocode_rows, read_and_geocode

    out = _out_path(out)
    _, area = _context(data, pack, None)
    mapping = _columns(columns)
    if parquet and engine != "dask":
        raise BadInput("--parquet needs --engine dask", "parquet")
    with _engine(engine, workers, scheduler) as client:
        if client is None:
            with _progress("Geocoding", len(files)) as advance:
                result, geocoded = read_and_geocode(files, area, source, mapping, progress=advance)
        else:
            from geo_ssgp.dask_engine import geocode_to_parquet, read_and_geocode_dask

            result, geocoded = read_and_geocode_dask(files, area, client, source, mapping)
            if parquet:
                geocode_to_parquet(files, area, client, parquet, source, mapping)
                console.print(f"wrote Hilbert-ordered GeoParquet to {parquet}")
    raw = read_raw(files, source=source, columns=mapping)
    table = geocode_rows(raw, result, geocoded)
    tables.to_csv(table.drop(columns=["source_file", "source_row"]), out)
    counts = table["status"].value_counts()
    console.print(f"wrote {len(table):,} rows to {out}")
    for status, n in counts.items():
        console.print(f"  {status}: {n:,}")


@command()
def agreement(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="police.uk files (default: the pack's sample incidents)."),
    ] = None,
    level: Annotated[str, typer.Option(help="lsoa21 or lsoa11.")] = "lsoa21",
    data: DataOpt = None,
    pack: PackOpt = None,
) -> None:
    """Measure agreement between police.uk's LSOA and our assignment, per district.

    The first line is point in polygon; the second adds the map-point memory the store's
    ingest uses (each month learns only from earlier months of the files, so it is scored
    on months it did not learn from).
    """
    from geo_ssgp.geocode import lsoa_agreement, map_point_memory, recall_map_points
    from geo_ssgp.pipeline import read_and_geocode

    _, area = _context(data, pack, None)
    paths = files or area.sample_files()
    with _progress("Geocoding", len(paths)) as advance:
        _, geocoded = read_and_geocode(paths, area, progress=advance)
    recalled = recall_map_points(geocoded, map_point_memory(geocoded), area)
    rows = []
    for label, table in (("polygons", geocoded), ("with map points", recalled)):
        report = lsoa_agreement(table, level=level, pack=area)
        console.print(
            f"{level} agreement ({label}): {report.n_agree:,} of {report.n_compared:,}"
            f" = {report.share:.2%}"
        )
        rows.append(report.by_district["share"].rename(label))
    if len(rows[0]) > 1:
        table = pd.concat(rows, axis=1)
        cells = [[str(d), *(f"{v:.2%}" for v in shares)] for d, shares in table.iterrows()]
        print_table(cells, ["District", "Polygons", "With map points"], right={1, 2})


def _store_incidents(area: AreaPack, target: Store):
    """Analysed incidents of the store, loading the pack's sample first if it is empty."""
    from geo_ssgp.pipeline import analysed_incidents

    _ensure_data(area, target)
    return analysed_incidents(target)


def _ensure_data(area: AreaPack, target: Store) -> None:
    """Load the pack's sample incidents into an empty store."""
    from geo_ssgp.pipeline import ensure_sample

    if not len(target.datasets()):  # a side note on stderr: stdout stays the result (--json)
        err_console.print("The store is empty: loading the pack's sample incidents.")
        with _progress("Ingesting sample", len(area.sample_files())) as advance:
            summary = ensure_sample(target, area, progress=advance)
        if summary:
            print_balance(summary, err_console)


#: Readable names of the fields printed in tables (others: underscores become spaces).
FIELD_NAMES = {
    "lad_codes": "District codes",
    "population": "Residents (Census 2021)",
    "crime_count": "Crimes",
    "crime_per_1000": "Crimes per 1,000 residents",
    "asb_count": "ASB incidents",
    "asb_per_1000": "ASB per 1,000 residents",
    "all_count": "All incidents",
    "all_per_1000": "All incidents per 1,000 residents",
    "lsoa11_count": "LSOAs (2011)",
    "lsoa11_imd_decile1": "LSOAs in the most deprived 10% (IMD)",
    "n_incidents": "incidents",
    "pai": "PAI",
    "pei": "PEI",
    "rri": "RRI",
}


def field_name(key: str) -> str:
    """The readable name of a field (:data:`FIELD_NAMES`, else underscores as spaces)."""
    return FIELD_NAMES.get(key, key.replace("_", " "))


def _fmt(value) -> str:
    """Table text: thousands separators, three significant digits for measures."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:#.3g}"
    return str(value)


def _min_width(text: str, wrap: bool = False) -> int:
    """Narrowest a cell may get: numbers whole, words may wrap onto lines of their own."""
    if not wrap and not any(c.isalpha() for c in text):
        return len(text)
    return max(map(len, text.split()), default=0)


def print_table(
    rows: list[list[str]], headers: list[str], title: str = "", right: set[int] = frozenset()
) -> None:
    """Print a table that fits the terminal: whole cells, headers wrapped at spaces.

    Columns that would not fit are left out from the right and named below the table
    (``--json`` where a command has it gives every column); a cell is never cut short.

    Parameters
    ----------
    rows : list of list of str
    headers : list of str
    title : str
    right : set of int
        Indexes of right-aligned (number) columns.
    """
    widths = [
        max([_min_width(r[i]) for r in rows] + [_min_width(h, wrap=True)])
        for i, h in enumerate(headers)
    ]
    keep = len(headers)
    while keep > 1 and sum(widths[:keep]) + 3 * keep + 1 > console.width:
        keep -= 1
    table = Table(title=title or None, title_justify="left")
    for i in range(keep):
        table.add_column(
            headers[i],
            justify="right" if i in right else "left",
            min_width=widths[i],
            overflow="fold",
        )
    for r in rows:
        table.add_row(*r[:keep])
    console.print(table)
    if keep < len(headers):
        console.print(f"(not shown at this width: {', '.join(headers[keep:])})")


def print_district_summary(summary: dict) -> None:
    """Print district and county totals and rates per 1,000 (one column per area)."""
    rows = summary["rows"]
    keys = [k for k in rows[0] if k != "area"]
    body = [[field_name(k), *[_fmt(row[k]).replace(",E", ", E") for row in rows]] for k in keys]
    headers = ["Measure", *[str(row.get("area", "")) for row in rows]]
    title = f"District summary {summary.get('period', '')}".strip()
    print_table(body, headers, title, right=set(range(1, len(headers))))
    for line in summary.get("notes", []):
        console.print(line)


def _subcategory_only(filters: Filters, table):
    """The records of ``table`` carrying one of the filters' subcategories (all when none)."""
    return Filters(subcategories=filters.subcategories).apply(table)


def _say_night_scope(filters: Filters, table) -> None:
    """With ``filters.night``, print what the night-time window keeps of ``table``.

    The selection itself is made by the stage each command calls (``Filters.apply``).
    """
    if filters.night:
        scope = night_scope(filters.replace(night=False).apply(table))
        console.print(f"{scope['window']}: {scope['in_window']:,} records; {scope['note']}")


@command()
def areas(
    out: Annotated[Path, typer.Option("--out", help="Output CSV of per-area statistics.")],
    start: FromOpt = None,
    end: ToOpt = None,
    crime_type: CrimeTypeOpt = None,
    subcategory: SubcategoryOpt = None,
    level: Annotated[str, typer.Option(help="lsoa21, lsoa11 or ward.")] = "lsoa21",
    allow_empty: AllowEmptyOpt = False,
    night: NightOpt = False,
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
    engine: EngineOpt = "in-process",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
) -> None:
    """Write per-area counts, rates per 1,000, IMD and shares; print the district summary.

    With ``--engine dask`` the counts are made per partition of the store (embedded or
    PostGIS) on a Dask cluster (same rules, same table); the district summary is then left
    out.
    """
    from geo_ssgp.areas import area_count_part, area_stats_from_parts
    from geo_ssgp.reports import district_county_summary

    filters = Filters.of(start, end, crime_type, night=night, subcategories=subcategory)
    level, out = _level(level), _out_path(out)
    settings, area = _context(data, pack, store)
    target = open_store(settings, area.name)
    run = _EngineRun(engine, workers, scheduler, area, target, filters, allow_empty)
    parts = run.parts(lambda ps: sum(int(c.sum()) for c, _, _ in ps), area_count_part, level)
    stats = area_stats_from_parts(parts, area, filters, level)
    tables.to_csv(stats.drop(columns="geometry"), out)
    console.print(f"wrote {len(stats):,} {level} areas to {out}")
    if engine == "dask":
        console.print("district summary: run areas without --engine dask")
        return
    everything = target.incidents()
    print_district_summary(
        district_county_summary(everything, area, start=filters.start, end=filters.end)
    )


@dataclass
class _EngineRun:
    """A per-part analysis of the store's incidents on the engine the options chose."""

    engine: str
    workers: int | None
    scheduler: str | None
    area: AreaPack
    target: Store
    filters: Filters
    allow_empty: bool

    def parts(self, n_selected: Callable[[list], int], func: Callable, *args) -> list:
        """The results of ``func(incidents, filters, *args)`` on the store's incidents.

        In-process the whole store is one part; with ``--engine dask`` each partition of its
        datasets is one (read by the workers: GeoParquet files of the embedded store, or
        queries of the PostGIS store). An empty selection (``n_selected(parts)`` incidents)
        is refused unless ``--allow-empty``.
        """
        with _engine(self.engine, self.workers, self.scheduler) as client:
            if client is None:
                incidents = _store_incidents(self.area, self.target)
                _check_not_empty(incidents, self.filters, self.allow_empty)
                _say_night_scope(self.filters, incidents)
                return [func(incidents, self.filters, *args)]
            from geo_ssgp.dask_engine import map_stored

            _ensure_data(self.area, self.target)
            parts = map_stored(client, self.target, func, self.filters, *args)
        _refuse_empty(n_selected(parts), self.filters, self.allow_empty)
        return parts


@command("grid-counts")
def grid_counts(
    out: Annotated[Path, typer.Option("--out", help="Output CSV of occupied cells.")],
    start: FromOpt = None,
    end: ToOpt = None,
    crime_type: CrimeTypeOpt = None,
    cell_size: Annotated[
        float, typer.Option(help="Square cell size, metres (the grid-count method's grid).")
    ] = 50.0,
    allow_empty: AllowEmptyOpt = False,
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
    engine: EngineOpt = "in-process",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
) -> None:
    """Write incidents per grid cell over the study region (occupied cells, with centres)."""
    import numpy as np

    from geo_ssgp.hotspots.count import cell_count_part, cell_count_table
    from geo_ssgp.hotspots.grid import make_grid, study_region

    filters = Filters.of(start, end, crime_type)
    out = _out_path(out)
    settings, area = _context(data, pack, store)
    target = open_store(settings, area.name)
    grid = make_grid(study_region(area), cell_size=cell_size)
    run = _EngineRun(engine, workers, scheduler, area, target, filters, allow_empty)
    counts = np.sum(run.parts(lambda ps: int(np.sum(ps)), cell_count_part, grid), axis=0)
    cells = cell_count_table(grid, counts)
    tables.to_csv(cells.drop(columns="geometry"), out)
    console.print(
        f"wrote {len(cells):,} occupied {cell_size:g} m cells of {len(grid):,} "
        f"({int(counts.sum()):,} incidents) to {out}"
    )


IncidentsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--incidents",
        help="Read these incident files or globs directly instead of the store; repeatable.",
    ),
]


def _expand_globs(patterns: list[str]) -> list[Path]:
    """Files matching each pattern (a plain path matches itself), in order."""
    import glob

    out: list[Path] = []
    for pattern in patterns:
        found = sorted(glob.glob(pattern)) or ([pattern] if Path(pattern).exists() else [])
        if not found:
            raise typer.BadParameter(f"no file matches {pattern!r}", param_hint="--incidents")
        out.extend(Path(f) for f in found)
    return out


def _analysis_incidents(settings, area: AreaPack, files: list[str] | None):
    """Incidents for hotspots/evaluate: from --incidents files, else from the store."""
    from geo_ssgp.pipeline import read_and_geocode

    if files:
        paths = _expand_globs(files)
        with _progress("Reading incidents", len(paths)) as advance:
            _, geocoded = read_and_geocode(paths, area, progress=advance)
        return geocoded
    return _store_incidents(area, open_store(settings, area.name))


@command("hotspots")
def hotspots_cmd(
    out: Annotated[Path, typer.Option("--out", help="Output GeoJSON (WGS84).")],
    method: MethodOpt = "default",
    start: FromOpt = None,
    end: ToOpt = None,
    crime_type: CrimeTypeOpt = None,
    subcategory: SubcategoryOpt = None,
    incidents: IncidentsOpt = None,
    cell_size: Annotated[float | None, typer.Option(help="Grid cell size, metres.")] = None,
    bandwidth: Annotated[float | None, typer.Option(help="KDE bandwidth, metres.")] = None,
    coverage: Annotated[
        float | None, typer.Option(help="Share of the area selected as hotspots (0-1).")
    ] = None,
    publish: Annotated[
        str | None,
        typer.Option(help="Also publish the layer as table layer_<NAME> in the PostGIS store."),
    ] = None,
    night: NightOpt = False,
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
    engine: HaloEngineOpt = "in-process",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
) -> None:
    """Compute a hotspot layer and write it as GeoJSON with its parameters.

    With ``--engine dask`` the kde and gistar layers are computed per district of the pack,
    each with its halo, in parallel on a Dask cluster; the GeoJSON is the in-process one.
    """
    from geo_ssgp.hotspots import check_per_district
    from geo_ssgp.reports import hotspot_layer

    name = resolve_method(method) if engine != "dask" else check_per_district(method)
    filters = Filters.of(start, end, crime_type, night=night, subcategories=subcategory)
    out = _out_path(out)
    settings, area = _context(data, pack, store)
    table = _analysis_incidents(settings, area, incidents)
    _check_not_empty(table, filters, allow_empty=False)  # no layer can be drawn from nothing
    _say_night_scope(filters, table)
    given = {"cell_size": cell_size, "bandwidth": bandwidth, "coverage": coverage}
    params = {k: v for k, v in given.items() if v is not None}
    with _engine(engine, workers, scheduler) as client:
        layer = hotspot_layer(name, table, area, filters, client=client, **params)
    out.write_text(json.dumps(layer.to_geojson()), encoding="utf-8")
    console.print(f"wrote {len(layer.hotspots):,} {layer.method} hotspots to {out}")
    if publish:
        console.print(f"published as {_publish(settings, area, publish, layer)} (open it in QGIS)")
    top = layer.hotspots.sort_values("rank").head(10)
    rows = [[_fmt(int(r.rank)), _fmt(int(r.n_incidents)), str(r.label)] for r in top.itertuples()]
    print_table(rows, ["Rank", "Incidents", "Where"], "Top hotspots", right={0, 1})


def _publish(settings, area: AreaPack, name: str, layer) -> str:
    """Write a layer into the PostGIS store as a QGIS-readable table; its qualified name."""
    from geo_ssgp.store_postgis import PostGISStore

    target = open_store(settings, area.name)
    if not isinstance(target, PostGISStore):
        raise BadInput("--publish needs the PostGIS store (--store postgresql://...)", "publish")
    return target.publish_layer(name, layer)


@command("streets")
def streets_cmd(
    start: FromOpt = None,
    end: ToOpt = None,
    crime_type: CrimeTypeOpt = None,
    subcategory: SubcategoryOpt = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Also one row per 'ward' or 'crime-type'.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write segments with incidents as GeoJSON.")
    ] = None,
    top: Annotated[int, typer.Option(help="Print the busiest N segments.")] = 10,
    incidents: IncidentsOpt = None,
    night: NightOpt = False,
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
) -> None:
    """Incidents per street segment and their concentration (Weisburd's law)."""
    from geo_ssgp.hotspots.layer import frame_to_geojson, json_safe
    from geo_ssgp.streets import street_report

    if by not in (None, "ward", "crime-type"):
        raise BadInput(f"--by {by!r}: give 'ward' or 'crime-type'")
    filters = Filters.of(start, end, crime_type, night=night, subcategories=subcategory)
    settings, area = _context(data, pack, store)
    table = _analysis_incidents(settings, area, incidents)
    _say_night_scope(filters, table)
    report = street_report(table, area, filters, by.replace("-", "_") if by else None)
    print_concentration(report.concentration, report.parameters)
    busiest = report.segments[report.segments["n_incidents"] > 0]
    for row in busiest.head(top).itertuples():
        name = row.name if isinstance(row.name, str) else "(unnamed)"
        console.print(
            f"  {row.segment_id}  {row.n_incidents:>5,}  {row.length_m:>6.0f} m  "
            f"{escape(name)} ({escape(row.ward_nm)})"
        )
    if out is not None:
        body = frame_to_geojson(busiest)
        body["parameters"] = json_safe(report.parameters)
        out.write_text(json.dumps(body), encoding="utf-8")
        console.print(f"wrote {len(busiest):,} segments with incidents to {out}")


def print_concentration(table, parameters: dict) -> None:
    """Print the concentration table (share of incidents on the busiest street)."""
    cols = ["n_incidents", "n_segments", "street_km", "top_1%_length", "top_5%_length"]
    cols += ["top_5%_segments", "segments_for_half"]
    out = Table(title="Incidents on street segments (share on the busiest street)")
    out.add_column("group")
    for col in cols:
        out.add_column(col, justify="right")
    for row in table.to_dict("records"):
        cells = [f"{row[c]:.1%}" if c.startswith(("top", "seg")) else _fmt(row[c]) for c in cols]
        out.add_row(escape(str(row["group"])), *cells)
    console.print(out)
    console.print(
        f"{parameters['n_snapped']:,} incidents snapped within "
        f"{parameters['max_distance_m']:.0f} m ({parameters['n_name_match']:,} on a segment "
        "of the street police.uk names), "
        f"{parameters['n_unsnapped']:,} further away left out. {parameters['question']}"
    )
    console.print(parameters["attribution"])


@command()
def evaluate(
    train_from: Annotated[str, typer.Option("--train-from", help="First training month.")],
    train_to: Annotated[str, typer.Option("--train-to", help="Last training month.")],
    test_from: Annotated[str, typer.Option("--test-from", help="First test month.")],
    test_to: Annotated[str, typer.Option("--test-to", help="Last test month.")],
    methods: Annotated[
        str | None, typer.Option(help="Comma-separated methods (default: all).")
    ] = None,
    coverage: Annotated[
        str, typer.Option(help="Comma-separated area coverages.")
    ] = "0.01,0.03,0.05",
    cell_size: Annotated[
        float, typer.Option("--cell-size", help="Common evaluation cell, metres (>= 50).")
    ] = 50.0,
    folds: Annotated[
        int, typer.Option("--folds", help="Rolling origins: the split, then slid a month on.")
    ] = 1,
    unit: Annotated[
        str,
        typer.Option(
            "--unit",
            help="grid: 50 m cells, coverage = share of area; street: street segments, "
            "coverage = share of street length.",
        ),
    ] = "grid",
    crime_type: CrimeTypeOpt = None,
    subcategory: SubcategoryOpt = None,
    incidents: IncidentsOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Write JSON to stdout.")] = False,
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
) -> None:
    """Rolling backtest: each method tuned on training months, PAI/PEI/RRI on later months."""
    from geo_ssgp.hotspots.evaluate import backtest_table, rolling_backtest, rolling_folds

    train_f = Filters.of(train_from, train_to, crime_type, subcategories=subcategory)
    test_f = Filters.of(test_from, test_to, crime_type, subcategories=subcategory)
    names = [m.strip() for m in methods.split(",")] if methods else None
    for name in names or []:
        resolve_method(name)
    covs = _coverages(coverage)
    windows = rolling_folds((train_f.start, train_f.end), (test_f.start, test_f.end), folds)
    settings, area = _context(data, pack, store)
    types_only = train_f.replace(start=None, end=None)
    table = types_only.apply(_analysis_incidents(settings, area, incidents))
    result = rolling_backtest(table, windows, area, names, covs, cell_size=cell_size, unit=unit)
    if as_json:
        _json_out(result)
        return
    frame = backtest_table(result)
    last = windows[-1]
    where = "street segments by length" if unit == "street" else f"{cell_size:g} m cells"
    title = (
        f"Backtest, {len(windows)} fold(s) from {train_from}..{train_to} -> "
        f"{test_from}..{test_to} to {last.train[0]}..{last.train[1]} -> "
        f"{last.test[0]}..{last.test[1]}, {where} (mean, sd over folds)"
    )
    columns = ["method", "coverage", "pai", "pai_sd", "pei", "hit_rate"]  # all in --json
    shown = frame[columns]
    rows = [[_fmt(v) for v in row] for row in shown.astype(object).itertuples(index=False)]
    numbers = {i for i, c in enumerate(columns) if pd.api.types.is_numeric_dtype(shown[c])}
    print_table(rows, [field_name(c) for c in columns], title, right=numbers)


@command()
def meeting(
    out: Annotated[Path, typer.Option("--out", help="Output report: .html or .pdf.")],
    a_from: Annotated[
        str | None, typer.Option("--a-from", help="Earlier period, first month.")
    ] = None,
    a_to: Annotated[str | None, typer.Option("--a-to", help="Earlier period, last month.")] = None,
    b_from: Annotated[
        str | None, typer.Option("--b-from", help="Later period, first month.")
    ] = None,
    b_to: Annotated[str | None, typer.Option("--b-to", help="Later period, last month.")] = None,
    method: MethodOpt = "default",
    crime_type: CrimeTypeOpt = None,
    subcategory: SubcategoryOpt = None,
    incidents: IncidentsOpt = None,
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
) -> None:
    """Write the meeting pack: two periods, top hotspots with tested change, district rates."""
    periods = {"a_from": a_from, "a_to": a_to, "b_from": b_from, "b_to": b_to}
    checked = {k: parse_month(v, k) for k, v in periods.items()}
    types = Filters.of(crime_types=crime_type, subcategories=subcategory)
    _write_meeting(out, checked, method, types, incidents, _context(data, pack, store))


@command()
def timeofday(
    incidents: IncidentsOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the day x hour table (CSV).")
    ] = None,
    night_time: NightOpt = False,
    start: FromOpt = None,
    end: ToOpt = None,
    crime_type: CrimeTypeOpt = None,
    subcategory: SubcategoryOpt = None,
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
) -> None:
    """Incidents by day of week and hour (local logs with times; police.uk has months only)."""
    from geo_ssgp.hotspots.trends import MONTH_ONLY_NOTE, day_hour_table

    settings, area = _context(data, pack, store)
    filters = Filters.of(start, end, crime_type, night=night_time, subcategories=subcategory)
    table_all = filters.replace(night=False).apply(_analysis_incidents(settings, area, incidents))
    scope = night_scope(table_all)
    grid = day_hour_table(filters.apply(table_all))
    if out is not None:
        grid.to_csv(out)
    console.print(f"{MONTH_ONLY_NOTE}; {scope['without_time']:,} incidents have no time.")
    timed = len(table_all) - scope["without_time"]
    console.print(f"night-time economy ({scope['window']}): {scope['in_window']:,} of {timed:,}")
    out_table = Table(title="Incidents by day and hour")
    out_table.add_column("day")
    for hour in grid.columns:
        out_table.add_column(f"{hour:02d}", justify="right")
    for day, row in grid.iterrows():
        out_table.add_row(day, *[str(v) if v else "." for v in row])
    console.print(out_table)


@command()
def trend(
    ward: Annotated[str | None, typer.Option(help="Ward name or code.")] = None,
    lsoa: Annotated[str | None, typer.Option(help="LSOA code.")] = None,
    hotspot_rank: Annotated[
        int | None, typer.Option("--hotspot-rank", help="Hotspot of --method's layer (1 = top).")
    ] = None,
    method: MethodOpt = "default",
    start: FromOpt = None,
    end: ToOpt = None,
    crime_type: CrimeTypeOpt = None,
    subcategory: SubcategoryOpt = None,
    incidents: IncidentsOpt = None,
    night: NightOpt = False,
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
) -> None:
    """Monthly counts of the district, a ward, an LSOA or a hotspot, with the trend test."""
    from geo_ssgp import focus
    from geo_ssgp.reports import hotspot_layer, selection_trend

    filters = Filters.of(start, end, crime_type, night=night, subcategories=subcategory)
    places = {"ward": ward, "lsoa": lsoa, "hotspot_rank": hotspot_rank}
    if sum(v is not None for v in places.values()) > 1:
        raise BadInput("give at most one of --ward, --lsoa, --hotspot-rank", param="ward")
    settings, area = _context(data, pack, store)
    table = _analysis_incidents(settings, area, incidents)
    selection = None
    if ward or lsoa:
        selection = focus.selection_from(area, ward=ward, lsoa_codes=[lsoa] if lsoa else None)
    elif hotspot_rank is not None:
        layer = hotspot_layer(resolve_method(method), table, area, filters)
        hit = layer.hotspots[layer.hotspots["rank"] == hotspot_rank]
        if hit.empty:
            raise BadInput(f"the layer has no hotspot of rank {hotspot_rank}", "hotspot-rank")
        selection = focus.selection_from(area, hotspot=hit.iloc[0])
    result = selection_trend(table, area, selection, filters)
    console.print(f"{escape(result['label'])}: {result['words']}")
    if result["knife_note"]:
        console.print(f"note: {result['knife_note']}")
    for month, count in zip(result["months"], result["counts"], strict=True):
        console.print(f"  {month}  {count:>6,}")


report_app = typer.Typer(help="Reports to circulate.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@command("meeting", group=report_app)
def report_meeting(
    out: Annotated[Path, typer.Option("--out", help="Output report: pack.pdf or pack.html.")],
    before: Annotated[
        str | None, typer.Option("--before", help="Earlier period, YYYY-MM:YYYY-MM.")
    ] = None,
    after: Annotated[
        str | None, typer.Option("--after", help="Later period, YYYY-MM:YYYY-MM.")
    ] = None,
    method: MethodOpt = "default",
    crime_type: CrimeTypeOpt = None,
    subcategory: SubcategoryOpt = None,
    incidents: IncidentsOpt = None,
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
) -> None:
    """The meeting pack as self-contained HTML or PDF (last quarter against the one before)."""
    a = parse_period(before, "before") if before else (None, None)
    b = parse_period(after, "after") if after else (None, None)
    periods = {"a_from": a[0], "a_to": a[1], "b_from": b[0], "b_to": b[1]}
    types = Filters.of(crime_types=crime_type, subcategories=subcategory)
    _write_meeting(out, periods, method, types, incidents, _context(data, pack, store))


def _write_meeting(out: Path, periods: dict, method, kinds: Filters, incidents, context) -> None:
    """Build the meeting pack and write it as HTML, or as PDF for a ``.pdf`` name.

    ``kinds`` holds the crime types and subcategories (no period) the pack is about.
    """
    from geo_ssgp import reports
    from geo_ssgp.hotspots import METHODS

    if out.suffix.lower() not in {".html", ".pdf"}:
        raise BadInput(f"--out {out.name!r}: use a .html or .pdf file name", param="out")
    name = resolve_method(method)
    types = kinds.crime_types
    out = _out_path(out)
    settings, area = context
    table = _subcategory_only(kinds, _analysis_incidents(settings, area, incidents))
    inputs = reports.direct_inputs(table, area)
    (a0, a1), (b0, b1) = reports.meeting_periods(inputs.months, **periods, n=settings.recent_months)
    before, after = Filters.of(a0, a1, types), Filters.of(b0, b1, types)
    page_context = reports.meeting_context(inputs, name, before, after, top=settings.meeting_top)
    change = page_context["change"]
    page_context["change"] = change.to_dict("records")
    maps_html = reports.meeting_maps(inputs, area, name, before, after, standalone=True)
    methods = {k: m.title for k, m in METHODS.items()}
    page = reports.meeting_report(page_context, maps_html, area, settings, methods=methods)
    if out.suffix.lower() == ".pdf":
        reports.render_pdf(page, out, settings)
    else:
        out.write_text(page, encoding="utf-8")
    console.print(
        f"wrote the meeting pack {before.start}..{before.end} -> {after.start}..{after.end} "
        f"({name}) to {out}"
    )
    if page_context["period_note"]:
        console.print(f"note: {page_context['period_note']}")
    for row in change.head(10).itertuples():
        flag = " new" if row.new else ""
        console.print(
            f"  {row.rank:>3}  {row.before:>5,} -> {row.after:>5,}{flag}  {row.change_class}"
            f"  {row.label}"
        )


UnitOpt = Annotated[str, typer.Option(help="Places: grid (square cells) or lsoa.")]
CellSizeOpt = Annotated[
    float | None, typer.Option("--cell-size", help="Grid cell side, metres (default 100).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Write JSON to stdout.")]
MapOpt = Annotated[
    Path | None, typer.Option("--map", help="Also write a self-contained HTML map.")
]


def _write_map(path: Path, area: AreaPack, add_layer: Callable) -> None:
    """A standalone map of the pack with one layer (added by ``add_layer``) and the wards."""
    from geo_ssgp import maps
    from geo_ssgp.pack import load_layer

    fmap = maps.base_map(area, tiles=None)
    add_layer(fmap)
    maps.add_ward_layer(fmap, load_layer(area, "ward"), show=True)
    path.write_text(maps.render_standalone(fmap), encoding="utf-8")


@command()
def emerging(
    out: Annotated[Path, typer.Option("--out", help="Output GeoJSON (WGS84), one per place.")],
    start: FromOpt = None,
    end: ToOpt = None,
    unit: UnitOpt = "grid",
    cell_size: CellSizeOpt = None,
    step: Annotated[str, typer.Option(help="Time step: month, or week/day for dated logs.")] = (
        "month"
    ),
    scheme: Annotated[str, typer.Option(help="Categories: arcgis or chainey.")] = "arcgis",
    crime_type: CrimeTypeOpt = None,
    subcategory: SubcategoryOpt = None,
    incidents: IncidentsOpt = None,
    cube_out: Annotated[
        Path | None, typer.Option("--cube", help="Also export the cube (.parquet or .csv).")
    ] = None,
    map_out: MapOpt = None,
    as_json: JsonOpt = False,
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
    engine: HaloEngineOpt = "in-process",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
) -> None:
    """Emerging hot/cold spots: space-time Gi*, Mann-Kendall trend, ArcGIS or Chainey categories.

    With ``--engine dask`` the space-time Gi* runs per district of the pack, each with its
    halo of neighbouring places, in parallel on a Dask cluster (the same places and
    categories).
    """
    from geo_ssgp.hotspots.cube import pack_cube
    from geo_ssgp.hotspots.emerging import pack_emerging

    filters = Filters.of(start, end, crime_type, subcategories=subcategory)
    settings, area = _context(data, pack, store)
    table = _analysis_incidents(settings, area, incidents)
    options = {"unit": unit, "cell_size": cell_size, "step": step}
    with _engine(engine, workers, scheduler) as client:
        result = pack_emerging(table, area, filters, scheme=scheme, client=client, **options)
    doc = result.to_geojson()
    out.write_text(json.dumps(doc), encoding="utf-8")
    if cube_out is not None:
        pack_cube(table, area, filters, **options).export(cube_out)
    if map_out is not None:
        from geo_ssgp.maps import add_emerging_layer

        def draw(fmap) -> None:
            add_emerging_layer(fmap, result.locations, result.parameters, warnings=result.warnings)

        _write_map(map_out, area, draw)
    if as_json:
        _json_out({k: doc[k] for k in ("steps", "category_counts", "parameters", "warnings")})
        return
    for note in result.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {escape(note)}")
    console.print(f"wrote {len(result.locations):,} places ({len(result.steps)} steps) to {out}")
    for name, n in result.category_counts().items():
        console.print(f"  {n:>6,}  {name}")


@command()
def change(
    before: Annotated[str, typer.Option("--before", help="Earlier period, YYYY-MM:YYYY-MM.")],
    after: Annotated[str, typer.Option("--after", help="Later period, YYYY-MM:YYYY-MM.")],
    out: Annotated[Path, typer.Option("--out", help="Output GeoJSON (WGS84), one per place.")],
    unit: Annotated[str, typer.Option(help="Places: grid, lsoa or hotspot.")] = "grid",
    cell_size: CellSizeOpt = None,
    method: MethodOpt = "default",
    select: Annotated[
        str, typer.Option(help="Hotspots chosen on 'both' periods pooled or the 'earlier'.")
    ] = "both",
    crime_type: CrimeTypeOpt = None,
    subcategory: SubcategoryOpt = None,
    incidents: IncidentsOpt = None,
    map_out: MapOpt = None,
    as_json: JsonOpt = False,
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
) -> None:
    """Tested change per place between two periods (exact two-Poisson test per month, BH)."""
    from geo_ssgp.hotspots.change import change_geojson, pack_change

    first = Filters.of(*parse_period(before, "before"), crime_type, subcategories=subcategory)
    second = Filters.of(*parse_period(after, "after"), crime_type, subcategories=subcategory)
    settings, area = _context(data, pack, store)
    table = _analysis_incidents(settings, area, incidents)
    result = pack_change(
        table,
        area,
        first,
        second,
        unit=unit,
        cell_size=cell_size,
        method=resolve_method(method),
        selection=select,
    )
    doc = change_geojson(result)
    out.write_text(json.dumps(doc), encoding="utf-8")
    if map_out is not None:
        from geo_ssgp.maps import add_change_layer

        _write_map(map_out, area, lambda fmap: add_change_layer(fmap, result))
    if as_json:
        _json_out({k: doc[k] for k in ("class_counts", "parameters")})
        return
    console.print(f"wrote {len(result):,} places to {out}; {doc['parameters']['note']}")
    for name, n in doc["class_counts"].items():
        console.print(f"  {n:>6,}  {name}")
    top = result[result["change_class"] != "no significant change"].nsmallest(10, "p_adjusted")
    for row in top.itertuples():
        name = getattr(row, "label", None) or row.code
        console.print(f"  {row.before:>5,} -> {row.after:>5,}  p_adj {row.p_adjusted:.2g}  {name}")


@command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
    dev: Annotated[
        bool,
        typer.Option(
            "--dev", help="Development mode: the public dev-* tokens work (never expose it)."
        ),
    ] = False,
) -> None:
    """Run the web app; on first start with an empty store, load the pack's sample.

    Refuses to start without configured tokens (GEO_SSGP_TOKENS) unless ``--dev`` is given.
    """
    import uvicorn

    from geo_ssgp.api.app import create_app, log_config

    settings, area = _context(data, pack, store)
    if dev:
        settings = get_settings(data, pack, store, dev=True)
    if not settings.tokens:
        raise BadInput(
            "no access tokens configured: set GEO_SSGP_TOKENS=token:role,... "
            "(roles analyst, pcso, viewer), or run `geo-ssgp serve --dev` for development"
        )
    if settings.dev:
        err_console.print(
            "[bold red]DEVELOPMENT MODE[/bold red]: the public tokens dev-analyst, dev-pcso and "
            "dev-viewer are accepted and listed on the login page. Never expose this server."
        )
    _store_incidents(area, open_store(settings, area.name))
    console.print(
        f"Serving {area.title} on http://{host}:{port}/ (the first analyst page is prepared "
        "in the background; 'geo-ssgp ready' follows)"
    )
    app = create_app(settings, warm=True)
    uvicorn.run(app, host=host, port=port, log_level="info", log_config=log_config())


datasets_app = typer.Typer(help="List or remove stored datasets.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")


@command("list", group=datasets_app)
def datasets_list(data: DataOpt = None, pack: PackOpt = None, store: StoreOpt = None) -> None:
    """Print the stored datasets: id, name, source, public or restricted, and row balance."""
    settings, area = _context(data, pack, store)
    table = open_store(settings, area.name).datasets()
    for row in table.itertuples():
        access = "public" if row.public else "restricted"
        console.print(
            f"{row.id:>5}  {escape(row.name)}  {row.source} ({access})  in {row.n_in:,}, "
            f"accepted {row.n_accepted:,}, quarantined {row.n_quarantined:,}  ({row.ingested_at})"
        )
    console.print(f"{len(table):,} dataset(s)")


@command("remove", group=datasets_app)
def datasets_remove(
    dataset_id: Annotated[int, typer.Argument(help="Dataset id (from `datasets list`).")],
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
) -> None:
    """Remove one dataset and its files atomically."""
    settings, area = _context(data, pack, store)
    removed = open_store(settings, area.name).remove_dataset(dataset_id)
    console.print(
        f"removed dataset {removed['id']} ({escape(removed['name'])}, "
        f"{removed['n_accepted']:,} incidents)"
    )


def _coverages(text: str) -> tuple[float, ...]:
    """Comma-separated area shares in (0, 1]."""
    try:
        values = tuple(float(c) for c in text.split(","))
    except ValueError:
        values = ()
    if not values or not all(0 < v <= 1 for v in values):
        raise BadInput(f"--coverage {text!r}: give shares between 0 and 1, e.g. 0.01,0.05")
    return values


def _json_out(payload: dict) -> None:
    typer.echo(json.dumps(payload, indent=2, default=str))


if __name__ == "__main__":  # pragma: no cover
    app()
