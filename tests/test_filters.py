"""The one Filters type and its resolvers: every bad value is BadInput naming its parameter."""

import pandas as pd
import pytest

from geo_ssgp.errors import BadInput
from geo_ssgp.filters import (
    Filters,
    month_start,
    parse_month,
    resolve_crime_types,
    resolve_method,
    resolve_sources,
)
from geo_ssgp.schema import CRIME_GROUPS, CRIME_TYPES, HOTSPOT_METHODS

VIOLENCE = ["Possession of weapons", "Robbery", "Violence and sexual offences"]


def _bad(func, *args, **kwargs) -> BadInput:
    """The BadInput ``func`` raises (fails the test if it raises nothing or anything else)."""
    with pytest.raises(BadInput) as err:
        func(*args, **kwargs)
    return err.value


@pytest.mark.parametrize("group", ["ASB", "asb", " Asb "])
def test_asb_group_in_any_case(group):
    assert resolve_crime_types(group) == ["Anti-social behaviour"]


@pytest.mark.parametrize("group", ["Violence", "violence", "VIOLENCE"])
def test_violence_group_in_any_case(group):
    assert resolve_crime_types(group) == VIOLENCE


def test_crime_group_is_every_type_but_asb():
    assert resolve_crime_types("Crime") == CRIME_GROUPS["crime"] == CRIME_TYPES[1:]


def test_names_slugs_and_groups_mix_in_category_order_without_repeats():
    assert resolve_crime_types(["burglary", "Violent-Crime"]) == [
        "Burglary",
        "Violence and sexual offences",
    ]
    assert resolve_crime_types("violent-crime,robbery, violence") == VIOLENCE
    assert resolve_crime_types("criminal-damage-arson") == ["Criminal damage and arson"]
    assert resolve_crime_types("anti-social-behaviour") == ["Anti-social behaviour"]
    assert resolve_crime_types([]) == []


def test_unknown_crime_type_names_the_item_and_the_parameter():
    err = _bad(resolve_crime_types, "burglary,muggings")
    assert err.param == "crime_type"
    assert "'muggings'" in err.message and "asb, violence, crime" in err.message
    assert _bad(resolve_crime_types, "nope", param="crime_types").param == "crime_types"


def test_parse_month_accepts_months_and_no_bound():
    assert parse_month("2025-06") == "2025-06"
    assert parse_month(" 2025-12 ") == "2025-12"
    assert parse_month(None) is None and parse_month("") is None


@pytest.mark.parametrize("text", ["2025-13", "2025-00", "June", "2025-6", "2025/06", "25-06"])
def test_parse_month_rejects_what_is_not_yyyy_mm(text):
    err = _bad(parse_month, text, "to")
    assert err.param == "to"
    assert f"{text!r} is not a month; use YYYY-MM" in err.message


def test_month_start_reduces_dates_to_their_month():
    assert month_start("2025-06-17") == pd.Timestamp("2025-06-01")
    assert month_start(pd.Timestamp("2025-02-28 13:00")) == pd.Timestamp("2025-02-01")
    assert _bad(month_start, "June").param == "month"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("default", "grid-count"),
        (None, "grid-count"),
        ("KDE", "kde"),
        ("Grid-Count", "grid-count"),
        (" LSOA-gistar ", "lsoa-gistar"),
    ],
)
def test_resolve_method_any_case_and_default(name, expected):
    assert resolve_method(name) == expected


def test_unknown_method_lists_the_methods():
    err = _bad(resolve_method, "magic")
    assert err.param == "method"
    assert err.message.startswith("unknown hotspot method 'magic'; use one of: default, ")
    assert all(m in err.message for m in HOTSPOT_METHODS)


def test_unknown_source_is_bad_input():
    assert resolve_sources("police-uk,local,police-uk") == ["local", "police-uk"]
    err = _bad(resolve_sources, "twitter")
    assert err.param == "source" and "'twitter'" in err.message


def test_filters_of_resolves_every_value():
    f = Filters.of("2025-01", "2025-03", "asb,Burglary", "police-uk")
    assert f == Filters(
        start="2025-01",
        end="2025-03",
        crime_types=("Anti-social behaviour", "Burglary"),
        sources=("police-uk",),
    )
    assert f.as_dict() == {
        "from": "2025-01",
        "to": "2025-03",
        "crime_types": ["Anti-social behaviour", "Burglary"],
        "sources": ["police-uk"],
    }
    assert Filters.of() == Filters() and Filters.of().key() == (None, None, (), (), None)
    assert f.replace(end=None).end is None and f.replace(end=None).start == "2025-01"


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"start": "2025-09", "end": "2025-01"}, "from"),
        ({"start": "2025-13"}, "from"),
        ({"end": "June"}, "to"),
        ({"crime_types": "muggings"}, "crime_type"),
        ({"sources": "twitter"}, "source"),
    ],
)
def test_filters_of_rejects_bad_values_naming_the_parameter(kwargs, param):
    assert _bad(Filters.of, **kwargs).param == param


def test_from_after_to_message():
    err = _bad(Filters.of, "2025-09", "2025-01")
    assert err.message == "'from' (2025-09) is after 'to' (2025-01)"
    assert _bad(Filters.of("2025-01", "2025-03").replace, start="2025-06").param == "from"


def test_filters_apply_selects_months_types_and_sources():
    incidents = pd.DataFrame(
        {
            "month": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01"]),
            "crime_type": ["Burglary", "Anti-social behaviour", "Robbery", "Burglary"],
            "source": ["police-uk", "police-uk", "local", "police-uk"],
            "restricted": [False, False, True, False],
        },
        index=[10, 11, 12, 13],
    )
    assert Filters.of("2025-02", "2025-03").apply(incidents).index.tolist() == [11, 12]
    assert Filters.of(crime_types="violence").apply(incidents).index.tolist() == [12]
    assert Filters.of(sources="police-uk").apply(incidents).index.tolist() == [10, 11, 13]
    assert Filters(restricted=False).apply(incidents).index.tolist() == [10, 11, 13]
    assert Filters.of().apply(incidents).equals(incidents)


def test_parse_period():
    from geo_ssgp.filters import parse_period

    assert parse_period("2025-01:2025-06") == ("2025-01", "2025-06")
    assert parse_period("2025-03") == ("2025-03", "2025-03")
    with pytest.raises(BadInput, match="first month is after the last"):
        parse_period("2025-06:2025-01", "before")
    with pytest.raises(BadInput, match="not a period"):
        parse_period("2025-01:2025-02:2025-03")
