"""Request and response bodies of the HTTP API (pydantic models, shown in the OpenAPI schema)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: Bounded text of the request bodies (no field is unbounded).
Code = Annotated[str, Field(max_length=20)]
Short = Annotated[str, Field(max_length=100)]


class HotspotRef(BaseModel):
    """A hotspot of a layer: its method and rank (1 = strongest)."""

    method: str | None = Field(
        None, max_length=50, description="Hotspot method; the default when omitted."
    )
    rank: int = Field(..., ge=1)


class SelectionIn(BaseModel):
    """Exactly one way of selecting part of the district."""

    model_config = ConfigDict(extra="forbid")

    lsoa_codes: list[Code] | None = Field(
        None, max_length=2000, description="LSOA codes (primary level)."
    )
    polygon: dict[str, Any] | None = Field(
        None, description="Drawn outline: GeoJSON Polygon/MultiPolygon or Feature, WGS84."
    )
    hotspot: HotspotRef | None = None
    ward: str | None = Field(None, max_length=100, description="Ward name or code.")
    locality: str | None = Field(
        None, max_length=100, description="Locality name (a circle around it)."
    )


class FiltersIn(BaseModel):
    """Period, crime types, subcategories and sources, as in the query parameters."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str | None = Field(
        None, alias="from", max_length=20, description="First month, YYYY-MM."
    )
    to: str | None = Field(None, max_length=20, description="Last month, YYYY-MM.")
    crime_types: list[Short] = Field(default_factory=list, max_length=50)
    sources: list[Short] = Field(default_factory=list, max_length=10)
    night: bool = Field(False, description="Only the night-time economy window.")
    subcategories: list[Short] = Field(
        default_factory=list,
        max_length=50,
        description="A local log's own categories (Begging, ...); analysts only.",
    )


class NightScope(BaseModel):
    """What the night-time filter (``night=true``) kept and left out."""

    window: str = Field(..., description="The window, e.g. 'Fri/Sat nights 20:00-04:00'.")
    in_window: int = Field(..., description="Records in the window.")
    without_time: int = Field(
        ..., description="Records left out because they carry no clock time (police.uk)."
    )
    note: str


class DayHour(BaseModel):
    """Incidents by day of week and hour: local logs with a clock time only."""

    days: list[str] = Field(..., description="Row labels, Mon..Sun.")
    hours: list[int] = Field(..., description="Column labels, 0..23.")
    counts: list[list[int]] = Field(..., description="7 rows of 24 counts.")
    timed: int = Field(..., description="Records with a clock time (the chart's total).")
    without_time: int = Field(
        ..., description="Records left out: no clock time (every police.uk record)."
    )
    in_window: int = Field(..., description="Records in the night-time economy window.")
    window: str = Field(..., description="The window, e.g. 'Fri/Sat nights 20:00-04:00'.")
    note: str


class TrendOut(BaseModel):
    """Monthly counts of a place with the Mann-Kendall test and Sen's slope."""

    label: str = Field(..., description="Place and crime types.")
    kind: str = Field(..., description="district, ward, lsoa, hotspot, polygon, ...")
    crime_types: list[str]
    months: list[str]
    counts: list[int | None] = Field(
        ..., description="Incidents per month (None: suppressed small count)."
    )
    tau: float = Field(..., description="Mann-Kendall tau.")
    p_value: float = Field(..., description="Mann-Kendall two-sided p-value.")
    slope_per_month: float = Field(..., description="Sen's slope, incidents per month.")
    n_months: int
    trend: str = Field(..., description="rising, falling or no clear trend (5%).")
    words: str
    weak: bool = Field(..., description="Fewer than 10 months: the test has little power.")
    knife_note: str | None = Field(
        None, description="The knife-crime proxy statement when the types are the proxy."
    )


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
    duplicates: int = Field(
        0, description="Incidents another stored source already holds (counted once)."
    )
    by_reason: dict[str, int]
    rejected: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Quarantined rows: row (1 = first row under the header), reason, detail.",
    )
    rejected_csv: str | None = Field(None, description="Download of the rejected rows (CSV).")
    public: bool = Field(
        False, description="The log's records are public (pcso and viewer see them)."
    )
    message: str


class DatasetOut(BaseModel):
    """One stored dataset (an ingested file) from the store's catalogue."""

    id: int
    name: str
    source: str
    n_in: int
    n_accepted: int
    n_quarantined: int
    ingested_at: str
    public: bool = Field(
        ..., description="Records seen by every role (police.uk; local logs marked public)."
    )


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
    night: NightScope | None = Field(
        None, description="With night=true: the window and the records it left out."
    )


class HotspotLayerOut(FeatureCollection):
    """Ranked hotspots (``rank`` 1 = strongest) with the parameters that made the layer."""

    method: str
    parameters: dict[str, Any] = Field(
        ..., description="Method, cell size, bandwidth, neighbours, p adjustment, period, filters."
    )


class StreetLayer(FeatureCollection):
    """Street segments holding incidents, busiest first, with the concentration table.

    Properties: ``segment_id``, ``name``, ``road_class``, ``ward_nm``, ``length_m``,
    ``n_incidents``, ``per_km``.
    """

    concentration: list[dict[str, Any]] = Field(
        ...,
        description="District row: incidents, segments, street km, share of incidents on the "
        "busiest 1/5/10/20% of street length and of segments, share holding half.",
    )
    parameters: dict[str, Any] = Field(
        ..., description="Filters, snapping distance and rule, snapped/unsnapped counts, question."
    )
    attribution: str = Field(..., description="© OpenStreetMap contributors (ODbL).")


class EmergingLayerOut(FeatureCollection):
    """Places with a ``category``, ``trend_tau``, ``trend_p``, ``counts`` and ``z`` series."""

    steps: list[str] = Field(..., description="Time-step labels, oldest first.")
    category_counts: dict[str, int]
    parameters: dict[str, Any] = Field(
        ..., description="Cube, neighbours, p-values, adjustment, trend test, category rules."
    )
    warnings: list[str] = Field(..., description="E.g. fewer than 10 time steps.")


class ChangeLayerOut(FeatureCollection):
    """Places with ``before``, ``after``, ``p_value``, ``p_adjusted`` and ``change_class``."""

    class_counts: dict[str, int]
    parameters: dict[str, Any] = Field(
        ..., description="Unit, periods and their months, test, adjustment, hotspot selection."
    )


class IncidentLayer(FeatureCollection):
    """Incidents as police.uk snap points (not addresses)."""

    count: int
    restricted_included: bool


class Health(BaseModel):
    """Service health and data coverage."""

    status: Literal["ok"]
    pack: str
    datasets: int | None = Field(
        None, description="Stored datasets: analysts only (null for anyone else)."
    )
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
    subcategories: dict[str, int] = Field(
        default_factory=dict,
        description="A local log's own categories with record counts (analysts only; "
        "empty for other roles).",
    )


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
    night: NightScope | None = Field(
        None, description="With night=true: the window and the records it left out."
    )


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


class AccuracyAt(BaseModel):
    """Rolling-backtest figures of a layer at one coverage."""

    pai: float | None = Field(description="mean PAI over the folds")
    pai_sd: float | None = Field(description="standard deviation of PAI over the folds")
    pei: float | None = Field(description="mean PEI over the folds")
    baseline_pai: float | None = Field(
        description="mean PAI of counting the training months on the same cells"
    )


class LayerAccuracy(BaseModel):
    """How well the default layer predicted the last months, in figures and plain words."""

    method: str
    text: str = Field(description="one paragraph for the analyst")
    folds: list[dict[str, list[str]]] | None = None
    coverage: dict[str, AccuracyAt] | None = Field(
        None, description="by share of the area, e.g. '0.01'"
    )


class SearchMatch(BaseModel):
    """A street, postcode, place, locality or ward with the ward and LSOA it lies in."""

    kind: Literal["postcode", "ward", "street", "place", "locality"]
    name: str
    ward_cd: str = Field(..., description="Ward code; its PCSO page is /area/<ward_cd>.")
    ward_nm: str
    lsoa_cd: str | None = Field(None, description="LSOA at the point (None for a ward).")
    lsoa_nm: str | None = None
    lon: float = Field(..., description="WGS84 point: a street's middle in that ward.")
    lat: float
    ref: str = Field(
        ...,
        description="'<kind>:<id>': pass it as ?focus= to /api/search/focus or to the PCSO "
        "page /area/<ward_cd> to show it on the map.",
    )


class FocusProperties(BaseModel):
    """What a search result is and what its highlighted geometry shows (plain text)."""

    ref: str
    kind: Literal["postcode", "ward", "street", "place", "locality"]
    name: str
    label: str = Field(..., description="Text of its map label.")
    shows: str = Field(
        ..., description="What the geometry is, e.g. 'the postcode's centre point ... not a "
        "boundary'."
    )
    ward_cd: str
    ward_nm: str
    lsoa_cd: str | None = None
    lsoa_nm: str | None = None


class SearchFocus(Feature):
    """A search result to show on a map (GeoJSON Feature, WGS84).

    A street's OpenStreetMap lines in its ward, a postcode's or place's point, or a ward's
    boundary.
    """

    properties: FocusProperties


class SearchResults(BaseModel):
    """Place search matches, best first (a street once per ward it runs through)."""

    query: str
    matches: list[SearchMatch]
