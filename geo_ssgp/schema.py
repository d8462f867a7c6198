"""The canonical incident and quarantine schemas shared by every pipeline stage.

An *incidents table* is a GeoDataFrame in EPSG:27700 with :data:`INCIDENT_COLUMNS`
(geocoding adds :data:`GEOCODE_COLUMNS`). A *quarantine table* is a DataFrame with
:data:`QUARANTINE_COLUMNS`: one row per input row that could not be used.
"""

from __future__ import annotations

#: Columns of every ingested incident, whatever the source.
INCIDENT_COLUMNS = [
    "incident_id",  # source's record ID, or a generated ``<source>:<file-hash>:<row>`` key
    "source",  # police-uk | police-uk-api | police-uk-geojson | local
    "source_file",  # file name the row came from
    "source_row",  # 0-based row index within that file (input order)
    "month",  # pandas Timestamp, first day of the month
    "occurred_at",  # local logs: date and time to the minute; NaT when only the month is known
    "time_known",  # bool: occurred_at carries a clock time (False: a date only, or NaT)
    "crime_type",  # police.uk category name (API slugs mapped)
    "subcategory",  # a local log's own category as given (e.g. "Begging"), "" for police.uk
    "location_text",  # e.g. "On or near Widden Street"
    "outcome",  # last outcome as text, "" when none
    "restricted",  # bool: local, non-public record
    "source_lsoa",  # LSOA code the source supplied, "" when none
    "source_lsoa_name",  # LSOA name the source supplied, "" when none
    "snap_point",  # bool: police.uk anonymised snap point
    "geometry",  # Point, EPSG:27700
]

#: Columns added by :func:`geo_ssgp.geocode.geocode`.
GEOCODE_COLUMNS = [
    "lsoa21cd",
    "lsoa21nm",
    "lsoa11cd",
    "lsoa11nm",
    "ward_cd",
    "ward_nm",
    "lad_cd",
    "edge_distance_m",
    "ambiguous",  # within EDGE_TOLERANCE_M of an LSOA boundary
    "lsoa_rule",  # polygon | map_point (police.uk's code for the map point) | "" outside
    "status",  # ok | outside_area
]

#: Columns of the quarantine table.
QUARANTINE_COLUMNS = [
    "source",
    "source_file",
    "source_row",
    "reason",  # one of QUARANTINE_REASONS
    "detail",  # human-readable explanation
    "original",  # the original row as JSON text
]

#: Machine-readable quarantine reason codes.
QUARANTINE_REASONS = {
    "field_too_long": "a text field is longer than the max_field_chars setting",
    "no_location": "row has no coordinates, grid reference or postcode",
    "bad_coordinates": "coordinates do not parse as numbers",
    "impossible_coordinates": "coordinates outside the valid range of their CRS",
    "swapped_lat_lon": "latitude and longitude appear swapped",
    "wrong_crs": "coordinates look like another CRS than the one declared",
    "unknown_postcode": "postcode not found in the area pack's postcode file",
    "bad_postcode": "text is not a UK postcode",
    "bad_date": "date or month does not parse",
    "implausible_month": "month outside the plausible window (earliest_month to next month)",
    "unknown_crime_type": "crime type is not a known police.uk category",
    "duplicate_id": "record ID repeats an earlier record of the same source",
    "duplicate_incident": "another file or source already holds this incident (counted once)",
}

#: The 14 police.uk crime categories (bulk CSV names).
CRIME_TYPES = [
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
]

#: police.uk API category slugs -> bulk CSV names.
API_SLUGS = {
    "anti-social-behaviour": "Anti-social behaviour",
    "bicycle-theft": "Bicycle theft",
    "burglary": "Burglary",
    "criminal-damage-arson": "Criminal damage and arson",
    "drugs": "Drugs",
    "other-crime": "Other crime",
    "other-theft": "Other theft",
    "possession-of-weapons": "Possession of weapons",
    "public-order": "Public order",
    "robbery": "Robbery",
    "shoplifting": "Shoplifting",
    "theft-from-the-person": "Theft from the person",
    "vehicle-crime": "Vehicle crime",
    "violent-crime": "Violence and sexual offences",
    "violence-and-sexual-offences": "Violence and sexual offences",
}

#: Named crime-type groups offered as one-click filters.
CRIME_GROUPS = {
    "asb": ["Anti-social behaviour"],
    "violence": ["Violence and sexual offences", "Possession of weapons", "Robbery"],
    "crime": [t for t in CRIME_TYPES if t != "Anti-social behaviour"],
}

#: Incident sources: police.uk street CSV, police.uk API JSON, police.uk GeoJSON, local logs.
SOURCES = ("police-uk", "police-uk-api", "police-uk-geojson", "local")

#: Hotspot method names (the registry in :mod:`geo_ssgp.hotspots` implements each one).
HOTSPOT_METHODS = (
    "grid-count",
    "kde",
    "gistar",
    "lsoa-gistar",
    "lisa",
    "dbscan",
    "hdbscan",
    "street-segments",
)
#: The method ``"default"`` resolves to (chosen on backtest evidence; see ``hotspots``).
DEFAULT_METHOD = "grid-count"

#: Default band (m) either side of an LSOA boundary inside which a point is ``ambiguous``:
#: the measured boundary error. The ONS BGC polygons are generalised to 20 m, and on
#: 2025-01..09 every LSOA 2021 disagreement with police.uk lies within 17 m of a boundary
#: (median 2.5 m). A setting: ``Settings.edge_tolerance_m`` / ``GEO_SSGP_EDGE_TOLERANCE_M``.
EDGE_TOLERANCE_M = 15.0
