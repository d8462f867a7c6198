"""Place search routes: a name -> where it is; a chosen result -> what a map highlights.

``/api/search``: a street, postcode or place name -> the ward and LSOA it lies in;
``/api/search/focus``: a chosen result -> the geometry a map zooms to and highlights.

Answered from the area pack alone (:mod:`geo_ssgp.gazetteer`), so it works offline and
discloses no incident: any role may search.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from geo_ssgp.api.auth import CurrentUser
from geo_ssgp.api.errors import error_responses
from geo_ssgp.api.routes.data import Svc
from geo_ssgp.api.schemas import SearchFocus, SearchResults
from geo_ssgp.gazetteer import MIN_QUERY

router = APIRouter(prefix="/api", tags=["data"], responses=error_responses(401, 403, 429))

#: The query parameter of the search route and of the ward list's search box.
SearchQuery = Annotated[
    str,
    Query(
        min_length=MIN_QUERY,
        max_length=100,
        description="A street ('Widden Street'), postcode ('GL1 1AD') or place ('Kingsholm'); "
        "any case, part of a name is enough.",
    ),
]

#: A search result's ``ref`` (``<kind>:<id>``), as the focus of a map: API and PCSO page.
FocusRef = Annotated[
    str,
    Query(
        description="A search result's ref (at most 200 characters): "
        "'street:E05010953:Widden Street', 'postcode:GL11AD', 'place:Gloucester Park', "
        "'locality:Kingsholm', 'ward:E05010953'. Checked by the gazetteer (422 when it is "
        "not <kind>:<id>, 404 when nothing has that ref), so a page answers with its HTML "
        "error page.",
    ),
]


@router.get(
    "/search",
    summary="Find the ward and LSOA of a street, postcode or place (offline)",
    response_model=SearchResults,
)
def search(svc: Svc, user: CurrentUser, q: SearchQuery) -> dict:
    """Matches best first: exact, prefix, word prefix, then part of a name."""
    return {"query": q, "matches": svc.search(q)}


@router.get(
    "/search/focus",
    summary="The geometry of a search result, to zoom a map to and highlight (offline)",
    response_model=SearchFocus,
    responses=error_responses(404),
)
def search_focus(svc: Svc, user: CurrentUser, focus: FocusRef) -> dict:
    """The result's geometry: street lines, a point, or a ward boundary.

    A street's OpenStreetMap lines in its ward, a postcode's centre point (not a boundary),
    a place's or locality's point, or a ward's boundary; 404 for an unknown ref, 422 for one
    that is not ``<kind>:<id>``.
    """
    return svc.search_focus(focus)
