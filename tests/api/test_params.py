"""The API's query dependencies: filters read from a query and written back to one."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from geo_ssgp.api.params import analyst_layer_url, filter_query, query_filters
from geo_ssgp.filters import Filters


def _read_back(query: str) -> Filters:
    """The filters :func:`query_filters` builds from a query string."""
    q = parse_qs(query)
    return query_filters(
        from_=q.get("from", [None])[0],
        to=q.get("to", [None])[0],
        crime_type=q.get("crime_type"),
        source=q.get("source"),
        night=q.get("night", ["false"])[0] == "true",
        subcategory=q.get("subcategory"),
    )


@pytest.mark.parametrize(
    "filters",
    [
        Filters.of(),
        Filters.of("2025-07", "2025-09"),
        Filters.of(crime_types="violence"),
        Filters.of("2025-01", None, ["asb"], ["police-uk", "local"], night=True),
        Filters.of(subcategories=["Street drinking", "Begging"]),
    ],
)
def test_filter_query_reads_back_as_the_same_filters(filters):
    assert _read_back(filter_query(filters)) == filters


def test_restricted_is_never_written_into_a_query():
    assert filter_query(Filters.of(restricted=False)) == ""
    assert filter_query(Filters.of("2025-07", restricted=True)) == "from=2025-07"


def test_analyst_layer_url_names_the_layer_and_the_filters():
    url = analyst_layer_url("hotspots:kde", Filters.of("2025-07", "2025-09", ["asb"]))
    parts = urlsplit(url)
    assert parts.path == "/map/analyst/layer/hotspots:kde"
    assert parse_qs(parts.query) == {
        "from": ["2025-07"], "to": ["2025-09"], "crime_type": ["Anti-social behaviour"]
    }
    assert analyst_layer_url("surface", Filters.of()) == "/map/analyst/layer/surface"
