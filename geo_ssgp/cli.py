"""Command-line interface (Typer): ``geo-ssgp ingest | geocode | agreement | areas | ...``.

Commands are thin: they parse options into the pipeline's own types (``Filters`` and the
resolvers of :mod:`geo_ssgp.filters`, the same the API uses), call the pipeline functions and
print results. Every :class:`~geo_ssgp.errors.GeoSsgpError` becomes one line on the console
and exit code 2 (1 for a file that cannot be ingested: nothing is stored); never a traceback.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from geo_ssgp.config import get_settings
from geo_ssgp.errors import BadInput, GeoSsgpError, IngestError
from geo_ssgp.filters import Filters, parse_month, resolve_method
from geo_ssgp.pack import AreaPack, load_pack
from geo_ssgp.store import SQLiteStore, open_store

app = typer.Typer(
    help="Geospatial hotspot mapping for community safety partnerships.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
#: Errors: one line on standard error, never wrapped.
err_console = Console(stderr=True, soft_wrap=True)

DataOpt = Annotated[
    Path | None,
    typer.Option("--data", help="Data folder (default: GEO_SSGP_DATA or the Gloucester sample)."),
]
PackOpt = Annotated[
    str | None,
    typer.Option("--pack", help="Area pack name in boundaries/ or a manifest path."),
]
StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="Store folder (default: GEO_SSGP_STORE or var/store)."),
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
MethodOpt = Annotated[str, typer.Option(help="Hotspot method (any case), or 'default'.")]


def command(name: str | None = None) -> Callable:
    """Register a command whose project errors print one line and exit non-zero.

    A :class:`~geo_ssgp.errors.GeoSsgpError` (bad option value, pack error, not enough data)
    exits with 2; an :class:`~geo_ssgp.errors.IngestError` with 1 after saying that nothing
    was stored. Anything else is a bug and keeps its traceback.
    """

    def register(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except IngestError as exc:
                err_console.print(f"[red]error:[/red] {escape(str(exc))}. Nothing was stored.")
                raise typer.Exit(1) from exc
            except GeoSsgpError as exc:
                err_console.print(f"[red]error:[/red] {escape(str(exc))}")
                raise typer.Exit(2) from exc

        return app.command(name)(run)

    return register


def _context(data: Path | None, pack: str | None, store: Path | None):
    settings = get_settings(data_dir=data, pack=pack, store_dir=store)
    return settings, load_pack(settings)


def _columns(text: str | None) -> dict[str, str] | None:
    from geo_ssgp.incidents import parse_columns

    return parse_columns(text) if text else None


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


def print_balance(summary: dict) -> None:
    """Print the in = accepted + quarantined balance per file and per reason."""
    table = Table(title="Ingest balance")
    for col in ("file", "source", "in", "accepted", "quarantined", "note"):
        table.add_column(
            col, justify="right" if col in {"in", "accepted", "quarantined"} else "left"
        )
    for f in summary["files"]:
        note = "already stored (skipped)" if f.get("skipped") else ""
        table.add_row(
            f["name"],
            f["source"],
            str(f["n_in"]),
            str(f["n_accepted"]),
            str(f["n_quarantined"]),
            note,
        )
    console.print(table)
    console.print(
        f"in {summary['in']:,} = accepted {summary['accepted']:,} + "
        f"quarantined {summary['quarantined']:,}"
    )
    for reason, n in sorted(summary["by_reason"].items()):
        console.print(f"  quarantined {reason}: {n:,}")


@command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Incident files to ingest.", exists=True)],
    source: SourceOpt = None,
    columns: ColumnsOpt = None,
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
) -> None:
    """Validate, geocode and store incident files; print the in/accepted/quarantined balance."""
    from geo_ssgp.pipeline import ingest_files

    settings, area = _context(data, pack, store)
    target = open_store(settings, area.name)
    mapping = _columns(columns)
    with _progress("Ingesting", len(files)) as advance:
        summary = ingest_files(target, area, files, source, mapping, progress=advance)
    target.log_run("ingest", {"files": [str(f) for f in files], "source": source}, summary)
    print_balance(summary)


@command("geocode")
def geocode_cmd(
    files: Annotated[list[Path], typer.Argument(help="Incident files to geocode.", exists=True)],
    out: Annotated[Path, typer.Option("--out", help="Output CSV.")],
    source: SourceOpt = None,
    columns: ColumnsOpt = None,
    data: DataOpt = None,
    pack: PackOpt = None,
) -> None:
    """Write every input row, in input order, with its LSOA, ward, district and status."""
    from geo_ssgp.incidents import read_raw
    from geo_ssgp.pipeline import geocode_rows, read_and_geocode

    _, area = _context(data, pack, None)
    mapping = _columns(columns)
    with _progress("Geocoding", len(files)) as advance:
        result, geocoded = read_and_geocode(files, area, source, mapping, progress=advance)
    raw = read_raw(files, source=source)
    table = geocode_rows(raw, result, geocoded)
    table.drop(columns=["source_file", "source_row"]).to_csv(out, index=False)
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
    """Measure agreement between police.uk's LSOA and our point-in-polygon assignment."""
    from geo_ssgp.geocode import lsoa_agreement
    from geo_ssgp.pipeline import read_and_geocode

    _, area = _context(data, pack, None)
    paths = files or area.sample_files()
    with _progress("Geocoding", len(paths)) as advance:
        _, geocoded = read_and_geocode(paths, area, progress=advance)
    report = lsoa_agreement(geocoded, level=level)
    console.print(
        f"{level} agreement: {report.n_agree:,} of {report.n_compared:,} = {report.share:.2%}"
    )


def _store_incidents(area: AreaPack, target: SQLiteStore):
    """Analysed incidents of the store, loading the pack's sample first if it is empty."""
    from geo_ssgp.pipeline import analysed_incidents, ensure_sample

    if not len(target.datasets()):
        console.print("The store is empty: loading the pack's sample incidents.")
        with _progress("Ingesting sample", len(area.sample_files())) as advance:
            summary = ensure_sample(target, area, progress=advance)
        if summary:
            print_balance(summary)
    return analysed_incidents(target)


def print_district_summary(summary: dict) -> None:
    """Print district and county totals and rates per 1,000 (one column per area)."""
    table = Table(title=f"District summary {summary.get('period', '')}".strip())
    rows = summary["rows"]
    table.add_column("measure")
    for row in rows:
        table.add_column(str(row.get("area", "")), justify="right")
    for key in rows[0]:
        if key != "area":
            table.add_row(key, *[_fmt(row[key]) for row in rows])
    console.print(table)
    for line in summary.get("notes", []):
        console.print(line)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@command()
def areas(
    out: Annotated[Path, typer.Option("--out", help="Output CSV of per-area statistics.")],
    start: FromOpt = None,
    end: ToOpt = None,
    crime_type: CrimeTypeOpt = None,
    level: Annotated[str, typer.Option(help="lsoa21, lsoa11 or ward.")] = "lsoa21",
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
) -> None:
    """Write per-area counts, rates per 1,000, IMD and shares; print the district summary."""
    from geo_ssgp.areas import area_stats, district_summary

    filters = Filters.of(start, end, crime_type)
    settings, area = _context(data, pack, store)
    target = open_store(settings, area.name)
    incidents = _store_incidents(area, target)
    types = list(filters.crime_types) or None
    stats = area_stats(
        incidents, area, level=level, start=filters.start, end=filters.end, crime_types=types
    )
    stats.drop(columns="geometry").to_csv(out, index=False)
    console.print(f"wrote {len(stats):,} {level} areas to {out}")
    everything = target.incidents()
    print_district_summary(district_summary(everything, area, start=filters.start, end=filters.end))


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
    incidents: IncidentsOpt = None,
    cell_size: Annotated[float | None, typer.Option(help="Grid cell size, metres.")] = None,
    bandwidth: Annotated[float | None, typer.Option(help="KDE bandwidth, metres.")] = None,
    coverage: Annotated[
        float | None, typer.Option(help="Share of the area selected as hotspots (0-1).")
    ] = None,
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
) -> None:
    """Compute a hotspot layer and write it as GeoJSON with its parameters."""
    from geo_ssgp.hotspots import run_method

    name, filters = resolve_method(method), Filters.of(start, end, crime_type)
    settings, area = _context(data, pack, store)
    table = _analysis_incidents(settings, area, incidents)
    given = {"cell_size": cell_size, "bandwidth": bandwidth, "coverage": coverage}
    params = {k: v for k, v in given.items() if v is not None}
    layer = run_method(
        name,
        table,
        area,
        start=filters.start,
        end=filters.end,
        crime_types=list(filters.crime_types) or None,
        **params,
    )
    out.write_text(json.dumps(layer.to_geojson()), encoding="utf-8")
    console.print(f"wrote {len(layer.hotspots):,} {layer.method} hotspots to {out}")
    for row in layer.hotspots.sort_values("rank").head(10).itertuples():
        console.print(f"  {row.rank:>3}  {row.n_incidents:>6,}  {row.label}")


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
    crime_type: CrimeTypeOpt = None,
    incidents: IncidentsOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Write JSON to stdout.")] = False,
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
) -> None:
    """Rolling backtest: each method tuned on training months, PAI/PEI/RRI on later months."""
    from geo_ssgp.hotspots.evaluate import backtest_table, rolling_backtest, rolling_folds

    train_f = Filters.of(train_from, train_to, crime_type)
    test_f = Filters.of(test_from, test_to, crime_type)
    names = [m.strip() for m in methods.split(",")] if methods else None
    for name in names or []:
        resolve_method(name)
    covs = _coverages(coverage)
    windows = rolling_folds((train_f.start, train_f.end), (test_f.start, test_f.end), folds)
    settings, area = _context(data, pack, store)
    types_only = train_f.replace(start=None, end=None)
    table = types_only.apply(_analysis_incidents(settings, area, incidents))
    result = rolling_backtest(table, windows, area, names, covs, cell_size=cell_size)
    if as_json:
        _json_out(result)
        return
    frame = backtest_table(result)
    last = windows[-1]
    table_out = Table(
        title=f"Backtest, {len(windows)} fold(s) from {train_from}..{train_to} -> "
        f"{test_from}..{test_to} to {last.train[0]}..{last.train[1]} -> "
        f"{last.test[0]}..{last.test[1]}, {cell_size:g} m cells (mean, sd over folds)"
    )
    columns = ["method", "coverage", "pai", "pai_sd", "pei", "pei_sd", "rri", "hit_rate"]
    for col in columns:
        table_out.add_column(col)
    for row in frame[columns].itertuples(index=False):
        table_out.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row])
    console.print(table_out)


@command()
def meeting(
    out: Annotated[Path, typer.Option("--out", help="Output HTML report (self-contained).")],
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
    incidents: IncidentsOpt = None,
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
) -> None:
    """Write the meeting pack: two periods, top hotspots with tested change, district rates."""
    from geo_ssgp import reports
    from geo_ssgp.hotspots import METHODS

    name = resolve_method(method)
    types = Filters.of(crime_types=crime_type).crime_types
    periods = {"a_from": a_from, "a_to": a_to, "b_from": b_from, "b_to": b_to}
    checked = {k: parse_month(v, k) for k, v in periods.items()}
    settings, area = _context(data, pack, store)
    table = _analysis_incidents(settings, area, incidents)
    inputs = reports.direct_inputs(table, area)
    (a0, a1), (b0, b1) = reports.meeting_periods(inputs.months, **checked, n=settings.recent_months)
    before, after = Filters.of(a0, a1, types), Filters.of(b0, b1, types)
    context = reports.meeting_context(inputs, name, before, after, top=settings.meeting_top)
    change = context["change"]
    context["change"] = change.to_dict("records")
    with _progress("Drawing maps", 2) as advance:
        maps_html = []
        for period in (before, after):
            maps_html.append(reports.meeting_map_html(inputs, area, name, period, standalone=True))
            advance()
    methods = {k: m.title for k, m in METHODS.items()}
    page = reports.meeting_report(context, maps_html, area, settings, methods=methods)
    out.write_text(page, encoding="utf-8")
    console.print(
        f"wrote the meeting pack {before.start}..{before.end} -> {after.start}..{after.end} "
        f"({name}) to {out}"
    )
    for row in change.head(10).itertuples():
        flag = " new" if row.new else ""
        console.print(f"  {row.rank:>3}  {row.before:>5,} -> {row.after:>5,}{flag}  {row.label}")


@command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    data: DataOpt = None,
    pack: PackOpt = None,
    store: StoreOpt = None,
) -> None:
    """Run the web app; on first start with an empty store, load the pack's sample."""
    import uvicorn

    from geo_ssgp.api import create_app

    settings, area = _context(data, pack, store)
    _store_incidents(area, open_store(settings, area.name))
    console.print(f"Serving {area.title} on http://{host}:{port}/")
    uvicorn.run(create_app(settings, warm=True), host=host, port=port, log_level="info")


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
