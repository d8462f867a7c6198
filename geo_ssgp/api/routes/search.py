"""Place search route: a street, postcode or place name -> the ward and LSOA it lies in.

Answered from the area pack alone (:mod:`geo_ssgp.gazetteer`), so it works offline and
discloses no incident: any role may search.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from geo_ssgp.api.auth import CurrentUser
from geo_ssgp.api.errors import error_responses
from geo_ssgp.api.routes.data import Svc
from geo_ssgp.api.schemas import SearchResults
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


@router.get(
    "/search",
    summary="Find the ward and LSOA of a street, postcode or place (offline)",
    response_model=SearchResults,
)
def search(svc: Svc, user: CurrentUser, q: SearchQuery) -> dict:
    """Matches best first: exact, prefix, word prefix, then part of a name."""
    return {"query": q, "matches": svc.search(q)}
