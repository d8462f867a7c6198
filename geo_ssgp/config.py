"""Settings in one place: data folder, area pack, store, tokens, app defaults, asset folders.

One :class:`Settings` (pydantic-settings) is read from arguments, then ``GEO_SSGP_*``
environment variables, then the defaults documented on each field. Every entry point
(CLI, API, notebook, tests) builds it with :func:`get_settings`; the area pack it names is
loaded by :func:`geo_ssgp.pack.load_pack`. Project-wide constants (CRS, attribution) live
here too, so no stage needs to import another for them.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from geo_ssgp.errors import BadInput
from geo_ssgp.schema import EDGE_TOLERANCE_M

_SOURCE_ROOT = Path(__file__).resolve().parents[1]
#: The bundled sample data folder, beside the project folder.
DEFAULT_DATA_DIR = _SOURCE_ROOT.parent / "shared" / "data" / "gloucester"

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
    "osm": "© OpenStreetMap contributors (ODbL 1.0, https://www.openstreetmap.org/copyright)",
    "naptan": (
        "Contains Department for Transport NaPTAN/NPTG data © Crown copyright, "
        "licensed under the Open Government Licence v3.0."
    ),
}

#: URL schemes that select the PostGIS store instead of the embedded one.
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
DEFAULT_TOKENS = "dev-analyst:analyst,dev-pcso:pcso,dev-viewer:viewer"
ROLES = ("analyst", "pcso", "viewer")


def _shared_dir(name: str) -> Path:
    """A top-level project folder (``web``, ``boundaries``).

    The source checkout's folder where there is one, else the copy a wheel installs under
    ``<prefix>/share/geo_ssgp/``.
    """
    checkout = _SOURCE_ROOT / name
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "geo_ssgp" / name


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

    Raises
    ------
    BadInput
        For a role other than analyst, pcso or viewer.
    """
    pairs = [item.strip() for item in text.split(",") if item.strip()]
    out: dict[str, str] = {}
    for pair in pairs:
        token, _, role = pair.partition(":")
        if role not in ROLES:
            raise BadInput(
                f"token {token!r}: role must be analyst, pcso or viewer, not {role!r}",
                param="GEO_SSGP_TOKENS",
            )
        out[token] = role
    return out


class Settings(BaseSettings):
    """Runtime settings shared by the CLI, the API and the notebook.

    Each field is read from the environment variable named in its description.
    """

    model_config = SettingsConfigDict(
        env_prefix="GEO_SSGP_", frozen=True, populate_by_name=True, extra="ignore"
    )

    data_dir: Path = Field(
        DEFAULT_DATA_DIR,
        validation_alias="GEO_SSGP_DATA",
        description="Folder holding the area pack's files (GEO_SSGP_DATA).",
    )
    pack: str = Field(
        "gloucester",
        validation_alias="GEO_SSGP_PACK",
        description="Area-pack name (boundaries/<name>.toml) or manifest path (GEO_SSGP_PACK).",
    )
    store_dir: Path | str = Field(
        default_factory=lambda: Path.cwd() / "var" / "store",
        validation_alias="GEO_SSGP_STORE",
        description=(
            "Folder of the embedded store, or a postgresql:// URL of a PostGIS store"
            " (GEO_SSGP_STORE); default ./var/store."
        ),
    )
    dev: bool = Field(
        False,
        validation_alias="GEO_SSGP_DEV",
        description="Development mode (GEO_SSGP_DEV=1, `serve --dev`): without GEO_SSGP_TOKENS "
        "the public dev-analyst/dev-pcso/dev-viewer tokens work and the login page lists them.",
    )
    tokens: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        validation_alias="GEO_SSGP_TOKENS",
        description="Bearer token -> role, written token:role,... (GEO_SSGP_TOKENS). None by "
        "default: `serve` refuses to start without tokens unless in development mode.",
    )
    auth_failures_per_minute: int = Field(
        20, ge=1, description="Failed authentications per client and minute before HTTP 429."
    )
    max_body_bytes: int = Field(
        1024 * 1024, ge=1024, description="Largest non-upload request body in bytes; larger is 413."
    )
    earliest_month: str = Field(
        "2010-01",
        pattern=r"^\d{4}-\d{2}$",
        description="Earliest plausible incident month, YYYY-MM (GEO_SSGP_EARLIEST_MONTH); "
        "earlier months and months after next month are quarantined as implausible_month.",
    )
    max_field_chars: int = Field(
        1000,
        ge=1,
        description="Longest text accepted in one field of an uploaded row "
        "(GEO_SSGP_MAX_FIELD_CHARS); a row with a longer value is quarantined as field_too_long.",
    )
    suppress_below: int = Field(
        3, ge=1, description="Counts from 1 to this minus 1 are hidden from pcso/viewer."
    )
    edge_tolerance_m: float = Field(
        EDGE_TOLERANCE_M,
        gt=0,
        description="Points closer than this (m) to an LSOA boundary are 'ambiguous' "
        "(GEO_SSGP_EDGE_TOLERANCE_M); default: the measured boundary error, 15 m.",
    )
    max_upload_bytes: int = Field(
        20 * 1024 * 1024,
        validation_alias="GEO_SSGP_MAX_UPLOAD",
        description="Largest accepted upload in bytes (GEO_SSGP_MAX_UPLOAD); larger is 413.",
    )
    tiles: str | None = Field(
        None,
        description="Base-map tile layer name or URL template (GEO_SSGP_TILES); none = no tiles.",
    )
    web_dir: Path = Field(
        default_factory=lambda: _shared_dir("web"),
        description="Folder with templates/ and static/ (GEO_SSGP_WEB_DIR).",
    )
    packs_dir: Path = Field(
        default_factory=lambda: _shared_dir("boundaries"),
        description="Folder of area-pack manifests (GEO_SSGP_PACKS_DIR).",
    )
    map_methods: tuple[str, ...] = Field(
        ("grid-count", "kde", "gistar", "lisa", "dbscan"),
        description="Hotspot methods drawn on the analyst map (GEO_SSGP_MAP_METHODS, a JSON "
        "list). Each default layer works on weighted police.uk map points, so its cost follows "
        "the map points, not the incidents; hdbscan (every incident, no weights, predicts "
        "poorly) is available on request.",
    )
    recent_months: int = Field(
        3, ge=1, description="Months on the PCSO view and in each default meeting period."
    )
    meeting_top: int = Field(10, ge=1, description="Hotspots listed in the meeting table.")
    map_workers: int = Field(
        1,
        ge=0,
        description="Worker processes that build maps and heavy layers on a cache miss "
        "(GEO_SSGP_MAP_WORKERS), so the server's own interpreter never waits for a build; 0 "
        "builds them in `layer_workers` threads of the server process (tests, debugging).",
    )
    layer_workers: int = Field(
        1,
        ge=1,
        description="Threads that build maps on a cache miss with GEO_SSGP_MAP_WORKERS=0.",
    )
    layer_timeout_s: float = Field(
        10.0,
        gt=0,
        description="Seconds a request waits for a map being built before it answers 503 "
        "'still computing' (the build goes on and fills the cache).",
    )
    night_days: tuple[str, ...] = Field(
        ("Fri", "Sat"),
        description="Night-time economy: nights starting on these days (Mon..Sun).",
    )
    night_start: int = Field(20, ge=0, le=23, description="Night-time economy: first hour.")
    night_end: int = Field(4, ge=0, le=23, description="Night-time economy: hour it ends.")
    chromium: Path = Field(
        Path("/usr/bin/chromium"),
        description="Headless Chromium that prints the meeting pack to PDF (GEO_SSGP_CHROMIUM).",
    )
    version_ttl_s: float = Field(
        2.0, ge=0, description="Seconds the store version is trusted before it is re-read."
    )

    @field_validator("tokens", mode="before")
    @classmethod
    def _tokens(cls, value: object) -> object:
        return parse_tokens(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _dev_tokens(self) -> Settings:
        if self.dev and not self.tokens:
            object.__setattr__(self, "tokens", parse_tokens(DEFAULT_TOKENS))
        return self

    @field_validator("tiles", mode="before")
    @classmethod
    def _tiles(cls, value: object) -> object:
        return None if value in ("", "none") else value

    @field_validator("store_dir", mode="after")
    @classmethod
    def _store(cls, value: Path | str) -> Path | str:
        is_url = isinstance(value, str) and value.startswith(POSTGRES_SCHEMES)
        return value if is_url else Path(value)

    @field_validator("data_dir", mode="after")
    @classmethod
    def _resolve(cls, value: Path) -> Path:
        return value.resolve()

    @property
    def templates_dir(self) -> Path:
        """Jinja2 templates of the web app."""
        return self.web_dir / "templates"

    @property
    def static_dir(self) -> Path:
        """Static files served under ``/static`` (app scripts, styles, vendored libraries)."""
        return self.web_dir / "static"

    @property
    def vendor_dir(self) -> Path:
        """Pinned front-end libraries (Leaflet and plugins) copied by ``make web-assets``."""
        return self.static_dir / "vendor"


def get_settings(
    data_dir: str | Path | None = None,
    pack: str | None = None,
    store_dir: str | Path | None = None,
    **overrides: object,
) -> Settings:
    """Build settings from arguments, then ``GEO_SSGP_*`` environment variables, then defaults.

    Parameters
    ----------
    data_dir : str or Path, optional
        Data folder; falls back to ``GEO_SSGP_DATA`` and then the bundled sample.
    pack : str, optional
        Area-pack name (a manifest in ``boundaries/``) or a manifest path.
    store_dir : str or Path, optional
        Store folder; falls back to ``GEO_SSGP_STORE`` and then ``./var/store``.
    **overrides
        Any other :class:`Settings` field.

    Returns
    -------
    Settings

    Raises
    ------
    BadInput
        For a setting that does not validate (e.g. a token with an unknown role).
    """
    given = {"data_dir": data_dir, "pack": pack, "store_dir": store_dir, **overrides}
    try:
        return Settings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, BadInput):
            raise cause from None
        name = ".".join(str(p) for p in first["loc"])
        raise BadInput(f"setting {name}: {first['msg']}", param=name) from None


@lru_cache(maxsize=1)
def default_settings() -> Settings:
    """Settings from the environment alone, read once (for module-level defaults)."""
    return Settings()


def packs_dir() -> Path:
    """Folder of area-pack manifests (``GEO_SSGP_PACKS_DIR`` or ``boundaries/``)."""
    return Settings().packs_dir
