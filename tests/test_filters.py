"""The one Filters type and its resolvers: every bad value is BadInput naming its parameter."""

import pandas as pd
import pytest

from geo_ssgp.errors import BadInput
from geo_ssgp.filters import (
    Filters,
    month_start,
    night_scope,
    night_window,
    parse_month,
    resolve_crime_types,
    resolve_method,
    resolve_sources,
)
from geo_ssgp.schema import CRIME_GROUPS, CRIME_TYPES, HOTSPOT_METHODS

ASB = "Anti-social behaviour"
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
        "night": False,
        "subcategories": [],
    }
    assert Filters.of() == Filters()
    assert Filters.of().key() == (None, None, (), (), None, False, ())
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


def _night_log() -> pd.DataFrame:
    """Five local records and one police.uk record; 2025-08-01 is a Friday."""
    stamps = [
        "2025-08-01 22:30",  # Fri 22:30: in (Friday night)
        "2025-08-02 01:30",  # Sat 01:30: in (still Friday night)
        "2025-08-02 23:10",  # Sat 23:10: in (Saturday night)
        "2025-08-04 14:00",  # Mon afternoon: out
        "2025-08-01 00:00",  # date only: out
        None,  # police.uk: month only, out
    ]
    return pd.DataFrame(
        {
            "month": pd.to_datetime(["2025-08-01"] * 6),
            "crime_type": [ASB, ASB, "Burglary", ASB, ASB, ASB],
            "source": ["local"] * 5 + ["police-uk"],
            "restricted": [True] * 5 + [False],
            "occurred_at": pd.to_datetime(stamps, format="ISO8601"),
            "time_known": [True] * 4 + [False, False],
        },
        index=[1, 2, 3, 4, 5, 6],
    )


def test_night_filter_keeps_the_fri_sat_window_and_drops_records_without_time():
    log = _night_log()
    night = Filters.of(night=True)
    assert night.apply(log).index.tolist() == [1, 2, 3]
    assert night.replace(crime_types="asb").apply(log).index.tolist() == [1, 2]
    assert Filters.of(night=True, restricted=False).apply(log).empty  # police.uk: month only
    assert night.key() != Filters.of().key() and night.as_dict()["night"] is True
    assert Filters.of().apply(log).index.tolist() == [1, 2, 3, 4, 5, 6]


def test_night_filter_follows_the_settings_window(monkeypatch):
    monkeypatch.setenv("GEO_SSGP_NIGHT_DAYS", '["Mon"]')
    monkeypatch.setenv("GEO_SSGP_NIGHT_START", "12")
    monkeypatch.setenv("GEO_SSGP_NIGHT_END", "18")
    assert night_window() == (("Mon",), 12, 18)
    assert Filters.of(night=True).apply(_night_log()).index.tolist() == [4]


def test_night_scope_says_what_was_left_out():
    scope = night_scope(_night_log())
    assert scope["window"] == "Fri/Sat nights 20:00-04:00"
    assert (scope["in_window"], scope["without_time"]) == (3, 2)
    assert scope["note"].startswith("police.uk records carry the month only")
    assert "2 records without a time are left out" in scope["note"]


# subcategories: a local log's own categories ---------------------------------------------

#: A Street Aware style local log after ingest: its own categories beside police.uk's.
LOCAL_LOG = pd.DataFrame(
    {
        "month": pd.to_datetime(["2025-06-01"] * 4 + ["2025-07-01"] * 4),
        "crime_type": ["Anti-social behaviour"] * 7 + ["Public order"],
        "subcategory": [
            "Begging",
            "Street drinking",
            "begging ",
            "Begging",
            "Street  drinking",
            "",
            "Begging",
            "Street drinking",
        ],
        "source": ["local"] * 5 + ["police-uk"] + ["local"] * 2,
        "restricted": [True] * 5 + [False] + [True] * 2,
    },
    index=range(100, 108),
)


def test_resolve_subcategories_keeps_the_first_spelling_once():
    from geo_ssgp.filters import resolve_subcategories

    assert resolve_subcategories("Begging, begging ,Street  drinking") == [
        "Begging",
        "Street drinking",
    ]
    assert resolve_subcategories(None) == [] and resolve_subcategories(["", " "]) == []


def test_subcategory_counts_list_what_the_data_holds():
    from geo_ssgp.filters import subcategory_counts

    # merged as the filter matches them (any case, spaces normalised), most common spelling
    assert subcategory_counts(LOCAL_LOG) == {"Begging": 4, "Street drinking": 3}
    assert subcategory_counts(LOCAL_LOG.drop(columns="subcategory")) == {}


def test_subcategory_filter_counts_in_any_case():
    def picked(**kwargs) -> list[int]:
        return Filters.of(**kwargs).apply(LOCAL_LOG).index.tolist()

    assert picked(subcategories="begging") == [100, 102, 103, 106]
    assert picked(subcategories="STREET DRINKING") == [101, 104, 107]
    assert len(picked(subcategories=["Begging", "street drinking"])) == 7
    # combined with the other conditions by AND
    assert picked(subcategories="street drinking", crime_types="asb") == [101, 104]
    assert picked(subcategories="begging", end="2025-06") == [100, 102, 103]
    # a police.uk record has no subcategory; an unknown one selects nothing
    assert picked(subcategories="Loitering") == []
    assert Filters.of(subcategories="Begging").key() == Filters.of(subcategories="BEGGING").key()
    assert Filters.of(subcategories="Begging").as_dict()["subcategories"] == ["Begging"]
