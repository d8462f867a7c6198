"""Settings in one place: data folder, area pack, store location, tokens and defaults.

Every entry point (CLI, API, notebook, tests) builds a :class:`Settings` with
:func:`get_settings` and loads the area pack with :func:`load_pack`.
Environment variables override the defaults; explicit arguments override both.
"""

from __future__ import annotations

import glob
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Repository root (the folder holding ``pyproject.toml`` and ``boundaries/``).
REPO_ROOT = Path(__file__).resolve().parents[1]
#: The bundled sample data folder, beside the repository.
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "gloucester"
#: Folder of area-pack manifests.
PACKS_DIR = REPO_ROOT / "boundaries"

#: Metric work happens in British National Grid.
CRS_BNG = "EPSG:27700"
#: Input lon/lat, GeoJSON out and Leaflet use WGS84.
CRS_WGS84 = "EPSG:4326"

#: Attribution lines that maps and reports must show, keyed by data family.
ATTRIBUTION = {
    "ons": (
        "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
        "Contains OS data © Crown copyright and database right 2025."
    ),
    "police": (
        "Contains public sector information licensed under the Open Government Licence v3.0. "
        "(data.police.uk)"
    ),
    "lsoa11": (
        "LSOA 2011 boundaries via UK-GeoJSON by Martin Chorley "
        "(https://github.com/martinjc/UK-GeoJSON), licensed CC BY 4.0."
    ),
    "postcodes": "Contains Royal Mail data © Royal Mail copyright and database right 2025.",
    "imd": (
        "English Indices of Deprivation 2019 © Crown copyright, MHCLG, "
        "licensed under the Open Government Licence v3.0."
    ),
    "naptan": (
        "Contains Department for Transport NaPTAN/NPTG data © Crown copyright, "
        "licensed under the Open Government Licence v3.0."
    ),
}

DEFAULT_TOKENS = "dev-analyst:analyst,dev-pcso:pcso,dev-viewer:viewer"


class PackError(ValueError):
    """An area pack manifest is invalid or names a file that does not exist."""


@dataclass(frozen=True)
class Settings:
    """Runtime settings shared by the CLI, the API and the notebook.

    Attributes
    ----------
    data_dir : Path
        Folder holding the area pack's files (``GEO_SSGP_DATA``).
    pack : str
        Area-pack name or path to a manifest (``GEO_SSGP_PACK``).
    store_dir : Path
        Folder of the embedded store (``GEO_SSGP_STORE``).
    tokens : dict
        Bearer token -> role (``GEO_SSGP_TOKENS``, ``token:role,...``).
    suppress_below : int
        Aggregates below this count are suppressed for non-analyst roles.
    max_upload_bytes : int
        Largest accepted upload (``GEO_SSGP_MAX_UPLOAD``), larger gets HTTP 413.
    tiles : str or None
        Base-map tile layer name or URL template; ``None`` or ``"none"`` draws no tiles.
    """

    data_dir: Path = DEFAULT_DATA_DIR
    pack: str = "gloucester"
    store_dir: Path = field(default_factory=lambda: Path.cwd() / "var" / "store")
    tokens: dict[str, str] = field(default_factory=dict)
    suppress_below: int = 3
    max_upload_bytes: int = 20 * 1024 * 1024
    tiles: str | None = None


def parse_tokens(text: str) -> dict[str, str]:
    """Parse ``token:role,token:role`` into a mapping of token to role.

    Parameters
    ----------
    text : str
        Comma-separated ``token:role`` pairs.

    Returns
    -------
    dict
        Token to role.
    """
    pairs = [item.strip() for item in text.split(",") if item.strip()]
    out: dict[str, str] = {}
    for pair in pairs:
        token, _, role = pair.partition(":")
        if role not in {"analyst", "pcso", "viewer"}:
            raise ValueError(f"token {token!r}: role must be analyst, pcso or viewer, not {role!r}")
        out[token] = role
    return out


def get_settings(
    data_dir: str | Path | None = None,
    pack: str | None = None,
    store_dir: str | Path | None = None,
) -> Settings:
    """Build settings from arguments, then environment variables, then defaults.

    Parameters
    ----------
    data_dir : str or Path, optional
        Data folder; falls back to ``GEO_SSGP_DATA`` and then the bundled sample.
    pack : str, optional
        Area-pack name (a manifest in ``boundaries/``) or a manifest path.
    store_dir : str or Path, optional
        Store folder; falls back to ``GEO_SSGP_STORE`` and then ``./var/store``.

    Returns
    -------
    Settings
    """
    env = os.environ
    tiles = env.get("GEO_SSGP_TILES") or None
    return Settings(
        data_dir=Path(data_dir or env.get("GEO_SSGP_DATA") or DEFAULT_DATA_DIR).resolve(),
        pack=pack or env.get("GEO_SSGP_PACK") or "gloucester",
        store_dir=Path(store_dir or env.get("GEO_SSGP_STORE") or Path.cwd() / "var" / "store"),
        tokens=parse_tokens(env.get("GEO_SSGP_TOKENS", DEFAULT_TOKENS)),
        suppress_below=int(env.get("GEO_SSGP_SUPPRESS_BELOW", 3)),
        max_upload_bytes=int(env.get("GEO_SSGP_MAX_UPLOAD", 20 * 1024 * 1024)),
        tiles=None if tiles in (None, "none") else tiles,
    )


@dataclass(frozen=True, eq=False)
class AreaPack:
    """An area pack: the manifest plus the data folder its paths are relative to.

    Attributes
    ----------
    name, title : str
        Short name and display title.
    manifest : Path
        The TOML manifest this pack was read from.
    data_dir : Path
        Folder the manifest's file paths are relative to.
    district_codes : list of str
        Districts that make up the area; points elsewhere are ``outside_area``.
    county_name : str
        Name of the comparison area for district rates.
    county_district_codes : list of str
        Districts of the comparison area.
    layers : dict
        Polygon layers (``lsoa21``, ``lsoa11``, ``ward``, ``district``): file, code, name.
    lookups : dict
        Code lookups between geographies.
    tables : dict
        Statistics and gazetteer tables (population, IMD, postcodes, localities, stops).
    sample : dict
        Sample incident globs and their source format.
    """

    name: str
    title: str
    manifest: Path
    data_dir: Path
    district_codes: list[str]
    county_name: str
    county_district_codes: list[str]
    layers: dict[str, dict[str, Any]]
    lookups: dict[str, dict[str, Any]]
    tables: dict[str, dict[str, Any]]
    sample: dict[str, Any]

    def _key(self) -> tuple[Path, Path]:
        return (self.manifest, self.data_dir)

    def __hash__(self) -> int:
        return hash(self._key())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AreaPack) and self._key() == other._key()

    def path(self, section: str, key: str) -> Path:
        """Absolute path of the single file of ``section.key`` (e.g. ``layers``, ``lsoa21``)."""
        entry = getattr(self, section)[key]
        return self.data_dir / entry["file"]

    def paths(self, section: str, key: str) -> list[Path]:
        """Absolute paths of an entry that names one ``file`` or several ``files``."""
        entry = getattr(self, section)[key]
        names = entry.get("files") or [entry["file"]]
        return [self.data_dir / n for n in names]

    def has(self, section: str, key: str) -> bool:
        """Whether the manifest has ``section.key``."""
        return key in getattr(self, section)

    def sample_files(self) -> list[Path]:
        """Sample incident files, expanded from the manifest's globs, sorted."""
        out: list[Path] = []
        for pattern in self.sample.get("incidents", []):
            out.extend(Path(p) for p in sorted(glob.glob(str(self.data_dir / pattern))))
        return out

    @property
    def primary_lsoa(self) -> str:
        """The finest LSOA polygon layer: ``lsoa21`` where present, else ``lsoa11``."""
        return "lsoa21" if "lsoa21" in self.layers else "lsoa11"


def manifest_path(pack: str) -> Path:
    """Resolve a pack name (``boundaries/<name>.toml``) or a manifest path."""
    candidate = Path(pack)
    if candidate.suffix == ".toml":
        return candidate.resolve()
    return PACKS_DIR / f"{pack}.toml"


def load_pack(settings: Settings | None = None) -> AreaPack:
    """Read and check an area-pack manifest.

    Parameters
    ----------
    settings : Settings, optional
        Settings naming the pack and data folder; defaults to :func:`get_settings`.

    Returns
    -------
    AreaPack

    Raises
    ------
    PackError
        If the manifest is missing or malformed, or names a file that does not exist
        (the message names the file and the manifest).
    """
    settings = settings or get_settings()
    path = manifest_path(settings.pack)
    if not path.is_file():
        raise PackError(f"area pack manifest not found: {path}")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"area pack manifest {path} is not valid TOML: {exc}") from exc
    head = doc.get("pack", {})
    layers = doc.get("layers", {})
    if "lsoa21" not in layers and "lsoa11" not in layers:
        raise PackError(f"area pack manifest {path} needs [layers.lsoa21] or [layers.lsoa11]")
    if "district" not in layers:
        raise PackError(f"area pack manifest {path} needs [layers.district]")
    pack = AreaPack(
        name=head.get("name", path.stem),
        title=head.get("title", path.stem),
        manifest=path,
        data_dir=settings.data_dir,
        district_codes=list(head.get("district_codes", [])),
        county_name=head.get("county_name", ""),
        county_district_codes=list(head.get("county_district_codes", [])),
        layers=layers,
        lookups=doc.get("lookups", {}),
        tables=doc.get("tables", {}),
        sample=doc.get("sample", {}),
    )
    _check_files(pack)
    return pack


def _check_files(pack: AreaPack) -> None:
    """Raise :class:`PackError` for the first file the manifest names that is missing."""
    if not pack.data_dir.is_dir():
        raise PackError(f"data folder {pack.data_dir} (used by {pack.manifest}) does not exist")
    for section in ("layers", "lookups", "tables"):
        for key in getattr(pack, section):
            for file in pack.paths(section, key):
                if not file.is_file():
                    raise PackError(
                        f"{file} is missing: named by [{section}.{key}] in {pack.manifest}"
                    )
