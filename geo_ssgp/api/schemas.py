"""Request and response bodies of the HTTP API (pydantic models, shown in the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

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
    by_reason: dict[str, int]
    message: str
