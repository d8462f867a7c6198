"""Request and response bodies of the HTTP API (pydantic models, shown in the OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class HotspotRef(BaseModel):
    """A hotspot of a layer: its method and rank (1 = strongest)."""

    method: str | None = Field(None, description="Hotspot method; the default when omitted.")
    rank: int = Field(..., ge=1)


class SelectionIn(BaseModel):
    """Exactly one way of selecting part of the district."""

    model_config = ConfigDict(extra="forbid")

    lsoa_codes: list[str] | None = Field(None, description="LSOA codes (primary level).")
    polygon: dict[str, Any] | None = Field(
        None, description="Drawn outline: GeoJSON Polygon/MultiPolygon or Feature, WGS84."
    )
    hotspot: HotspotRef | None = None
    ward: str | None = Field(None, description="Ward name or code.")
    locality: str | None = Field(None, description="Locality name (a circle around it).")


class FiltersIn(BaseModel):
    """Period, crime types and sources, as in the query parameters."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str | None = Field(None, alias="from", description="First month, YYYY-MM.")
    to: str | None = Field(None, description="Last month, YYYY-MM.")
    crime_types: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class SummaryRequest(BaseModel):
    """A selection to summarise under some filters (not saved)."""

    selection: SelectionIn
    filters: FiltersIn = Field(default_factory=FiltersIn)


class FocusAreaIn(BaseModel):
    """A new focus area."""

    name: str = Field(..., min_length=1, max_length=200)
    notes: str = Field("", max_length=10_000)
    selection: SelectionIn
    filters: FiltersIn = Field(default_factory=FiltersIn)


class FocusAreaUpdate(BaseModel):
    """Changes to a focus area; omitted fields stay as they are."""

    name: str | None = Field(None, min_length=1, max_length=200)
    notes: str | None = Field(None, max_length=10_000)
    selection: SelectionIn | None = None
    filters: FiltersIn | None = None


class FocusAreaOut(BaseModel):
    """A saved focus area; ``geometry`` is GeoJSON in WGS84."""

    id: int
    name: str
    notes: str
    kind: str
    label: str
    lsoa_codes: list[str]
    filters: dict[str, Any]
    geometry: dict[str, Any]
    created_at: str
    updated_at: str


class UploadResult(BaseModel):
    """Outcome of an upload: rows in, accepted and quarantined by reason."""

    file: str
    skipped: bool
    in_: int = Field(..., alias="in")
    accepted: int
    quarantined: int
    outside: int = Field(0, description="Accepted rows outside the area (stored, not analysed).")
    by_reason: dict[str, int]
    rejected: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Quarantined rows: row (1 = first row under the header), reason, detail.",
    )
    rejected_csv: str | None = Field(None, description="Download of the rejected rows (CSV).")
    message: str


# responses of the data routes ----------------------------------------------------------------


class Feature(BaseModel):
    """A GeoJSON Feature (RFC 7946, WGS84)."""

    model_config = ConfigDict(extra="allow")
    type: Literal["Feature"]
    geometry: dict[str, Any] | None = Field(..., description="GeoJSON geometry, WGS84.")
    properties: dict[str, Any]


class FeatureCollection(BaseModel):
    """A GeoJSON FeatureCollection (RFC 7946, WGS84)."""

    model_config = ConfigDict(extra="allow")
    type: Literal["FeatureCollection"]
    features: list[Feature]


class AreaLayer(FeatureCollection):
    """Areas with ``code``, ``name``, ``count``, ``rate_per_1000``, IMD and ``suppressed``."""

    parameters: dict[str, Any] = Field(..., description="Level, period, types, denominators.")
    suppress_below: int | None = Field(
        ..., description="Counts from 1 to this minus 1 are null for this caller (None: none)."
    )


class HotspotLayerOut(FeatureCollection):
    """Ranked hotspots (``rank`` 1 = strongest) with the parameters that made the layer."""

    method: str
    parameters: dict[str, Any] = Field(
        ..., description="Method, cell size, bandwidth, neighbours, p adjustment, period, filters."
    )


class IncidentLayer(FeatureCollection):
    """Incidents as police.uk snap points (not addresses)."""

    count: int
    restricted_included: bool


class Health(BaseModel):
    """Service health and data coverage."""

    status: Literal["ok"]
    pack: str
    datasets: int
    incidents: int
    months: dict[str, str | None]


class Meta(BaseModel):
    """Choices for the page controls."""

    role: str
    months: list[str]
    crime_types: list[str]
    crime_groups: dict[str, list[str]]
    wards: list[dict[str, str]]
    localities: list[str]
    methods: dict[str, str]
    default_method: str
    weights: dict[str, float]
    components: dict[str, str]
    suppress_below: int


class Summary(BaseModel):
    """A selection against the district: counts, rate, mix, trend, IMD, streets, LSOAs."""

    model_config = ConfigDict(extra="allow")
    selection: dict[str, Any]
    period: dict[str, Any]
    incidents: int | None
    rate_per_1000: float | None
    district: dict[str, Any]
    crime_types: list[dict[str, Any]]
    monthly: list[dict[str, Any]]
    top_streets: list[dict[str, Any]]
    lsoas: list[dict[str, Any]]
    filters: dict[str, Any]


class SelectionSummary(Summary):
    """A summary with the selection's outline (GeoJSON Feature, WGS84)."""

    outline: dict[str, Any]


class FocusSummary(Summary):
    """A saved focus area's summary."""

    focus_area: dict[str, Any]


class Candidates(BaseModel):
    """Ranked pilot candidates with each component and its weight."""

    unit: Literal["lsoa", "hotspot"]
    method: str | None
    weights: dict[str, float]
    components: dict[str, Any]
    filters: dict[str, Any]
    rows: list[dict[str, Any]]


class ComparisonRow(BaseModel):
    """One measure across the compared focus areas."""

    measure: str
    values: list[Any]


class Comparison(BaseModel):
    """Focus areas side by side (one column each, then the district)."""

    columns: list[str]
    rows: list[ComparisonRow]
