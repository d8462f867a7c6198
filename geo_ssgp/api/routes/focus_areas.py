"""Focus-area routes: list, create, read, update, delete, summary, compare and export.

Reads need any role; writes need ``analyst``. The store writes each change in one
transaction, so a failure leaves no half-written record.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response, status

from geo_ssgp import focus
from geo_ssgp.api.auth import Analyst, CurrentUser
from geo_ssgp.api.errors import error_responses
from geo_ssgp.api.routes.data import Svc, filters_from_body
from geo_ssgp.api.schemas import (
    Comparison,
    FeatureCollection,
    FocusAreaIn,
    FocusAreaOut,
    FocusAreaUpdate,
    FocusSummary,
)
from geo_ssgp.api.service import Service
from geo_ssgp.config import CRS_BNG, CRS_WGS84
from geo_ssgp.errors import BadInput
from geo_ssgp.filters import Filters
from geo_ssgp.hotspots.layer import json_safe
from geo_ssgp.store import FocusArea

router = APIRouter(
    prefix="/api/focus-areas", tags=["focus areas"], responses=error_responses(401, 403, 404, 429)
)


def _feature_collection_schema() -> dict:
    """JSON schema of a GeoJSON FeatureCollection, its Feature a shared component."""
    schema = FeatureCollection.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


EXPORT_TYPES = {
    "geojson": ("application/geo+json", "geojson"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "gpkg": ("application/geopackage+sqlite3", "gpkg"),
}


def _out(area: FocusArea) -> dict:
    import geopandas as gpd
    from shapely.geometry import mapping

    geom = gpd.GeoSeries([area.geometry], crs=CRS_BNG).to_crs(CRS_WGS84).iloc[0]
    meta = area.params.get("selection", {})
    return {
        "id": area.id,
        "name": area.name,
        "notes": area.notes,
        "kind": meta.get("kind", ""),
        "label": meta.get("label", ""),
        "lsoa_codes": area.lsoa_codes,
        "filters": area.params.get("filters", {}),
        "geometry": mapping(geom),
        "created_at": area.created_at,
        "updated_at": area.updated_at,
    }


def _get(svc: Service, focus_id: int) -> FocusArea:
    return svc.store.get_focus_area(focus_id)


def _params(sel: focus.Selection, filters: Filters) -> dict:
    return {
        "selection": {"kind": sel.kind, "label": sel.label, "match": sel.match},
        "filters": filters.as_dict(),
    }


@router.get("", summary="Saved focus areas", response_model=list[FocusAreaOut])
def list_areas(svc: Svc, user: CurrentUser) -> list[dict]:
    """All saved focus areas, oldest first."""
    return [_out(a) for a in svc.store.list_focus_areas()]


@router.post(
    "",
    summary="Save a focus area",
    status_code=status.HTTP_201_CREATED,
    response_model=FocusAreaOut,
)
def create_area(svc: Svc, user: Analyst, body: FocusAreaIn) -> dict:
    """Save a selection with a name and notes (analyst)."""
    filters = filters_from_body(body.filters)
    sel = svc.selection(body.selection.model_dump(exclude_none=True), filters, user)
    area = svc.store.save_focus_area(
        body.name, body.notes, sel.geometry, sel.lsoa_codes, _params(sel, filters)
    )
    return _out(area)


@router.get("/compare", summary="Compare saved focus areas side by side", response_model=Comparison)
def compare_areas(
    svc: Svc,
    user: CurrentUser,
    ids: Annotated[list[int], Query(description="Two or more focus-area ids.")],
) -> dict:
    """One column per focus area (its own saved period and types), then the district."""
    if len(ids) < 2:
        raise BadInput("give at least two focus-area ids", param="ids")
    summaries = {}
    for focus_id in ids:
        area = _get(svc, focus_id)
        summaries[f"{area.name} (#{area.id})"] = svc.summary(
            svc.focus_selection(area), svc.focus_filters(area), user
        )
    table = focus.compare(summaries)
    return {
        "columns": list(table.columns),
        "rows": [
            {"measure": measure, "values": json_safe(list(row.to_numpy()))}
            for measure, row in table.iterrows()
        ],
    }


@router.get("/{focus_id}", summary="One focus area", response_model=FocusAreaOut)
def get_area(svc: Svc, user: CurrentUser, focus_id: int, response: Response) -> dict:
    """A saved focus area (404 if there is none); its ``ETag`` guards a later ``PUT``."""
    area = _get(svc, focus_id)
    response.headers["ETag"] = f'"{area.etag}"'
    return _out(area)


@router.put(
    "/{focus_id}",
    summary="Change a focus area",
    response_model=FocusAreaOut,
    responses=error_responses(412),
)
def update_area(
    svc: Svc,
    user: Analyst,
    focus_id: int,
    body: FocusAreaUpdate,
    response: Response,
    if_match: Annotated[
        str | None,
        Header(
            max_length=100,
            description="The ETag last read; the update is refused (412) if it changed since.",
        ),
    ] = None,
) -> dict:
    """Change the name, notes, selection or filters of a focus area (analyst).

    Only the fields given change, in one transaction, so concurrent edits of different fields
    both land. With ``If-Match`` a write based on a stale read is refused with 412.
    """
    current = _get(svc, focus_id)
    changes: dict = {}
    if body.name is not None:
        changes["name"] = body.name
    if body.notes is not None:
        changes["notes"] = body.notes
    filters = filters_from_body(body.filters) if body.filters else svc.focus_filters(current)
    if body.selection is not None:
        sel = svc.selection(body.selection.model_dump(exclude_none=True), filters, user)
        changes.update(geometry=sel.geometry, lsoa_codes=sel.lsoa_codes)
        changes["params"] = _params(sel, filters)
    elif body.filters is not None:
        changes["params"] = {**current.params, "filters": filters.as_dict()}
    area = svc.store.update_focus_area(focus_id, if_match=if_match, **changes)
    response.headers["ETag"] = f'"{area.etag}"'
    return _out(area)


@router.delete("/{focus_id}", summary="Delete a focus area", status_code=status.HTTP_204_NO_CONTENT)
def delete_area(svc: Svc, user: Analyst, focus_id: int) -> Response:
    """Remove a focus area (analyst; 404 if there is none)."""
    svc.store.delete_focus_area(focus_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{focus_id}/summary",
    summary="Summary of a focus area against the district",
    response_model=FocusSummary,
)
def area_summary(svc: Svc, user: CurrentUser, focus_id: int) -> dict:
    """Incidents, rate, mix, trend, IMD, streets and shares for the saved period and types."""
    area = _get(svc, focus_id)
    summary = svc.summary(svc.focus_selection(area), svc.focus_filters(area), user)
    return {**summary, "focus_area": {"id": area.id, "name": area.name, "notes": area.notes}}


def _filename(name: str, ext: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:60] or "focus-area"
    return f"{slug}.{ext}"


@router.get(
    "/{focus_id}/export",
    summary="Export a focus area",
    response_class=Response,
    responses={
        200: {
            "description": "The focus area as a file (Content-Disposition: attachment).",
            "content": {
                "application/geo+json": {"schema": _feature_collection_schema()},
                "text/csv": {"schema": {"type": "string", "description": "LSOA rows"}},
                "application/geopackage+sqlite3": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        }
    },
)
def export_area(
    svc: Svc,
    user: CurrentUser,
    focus_id: int,
    format: Annotated[Literal["geojson", "csv", "gpkg"], Query()] = "geojson",
) -> Response:
    """GeoJSON (outline + LSOAs), CSV (LSOA list with statistics) or GeoPackage."""
    area = _get(svc, focus_id)
    summary = svc.summary(svc.focus_selection(area), svc.focus_filters(area), user)
    if format == "geojson":
        doc = focus.export_geojson(area.name, area.notes, area.geometry, summary, svc.pack)
        body: bytes | str = json.dumps(doc)
    elif format == "csv":
        body = focus.export_csv(summary)
    else:
        body = focus.export_gpkg(area.name, area.notes, area.geometry, summary, svc.pack)
    media, ext = EXPORT_TYPES[format]
    headers = {"Content-Disposition": f'attachment; filename="{_filename(area.name, ext)}"'}
    return Response(content=body, media_type=media, headers=headers)
