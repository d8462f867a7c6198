"""The meeting pack: tested change with significance, trends, emerging counts, and its PDF.

The PDF test prints the self-contained report with headless Chromium, renders every page to
an image with ``pdftoppm`` (Debian poppler-utils) and checks that the maps (many coloured
pixels of the choropleth) and the trend charts (the series' red line) are drawn.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from geo_ssgp import reports
from geo_ssgp.filters import Filters
from geo_ssgp.hotspots import METHODS
from geo_ssgp.maps.format import range_label


@pytest.fixture(scope="module")
def meeting(sample_geocoded, pack):
    inputs = reports.direct_inputs(sample_geocoded, pack)
    before, after = Filters.of("2025-01", "2025-06"), Filters.of("2025-07", "2025-09")
    context = reports.meeting_context(inputs, "grid-count", before, after)
    return inputs, before, after, context


def test_meeting_context_has_tested_change_trends_and_a_period_note(meeting):
    _, _, _, context = meeting
    change = context["change"]
    assert set(change["change_class"]) <= {
        "significant increase",
        "significant decrease",
        "no significant change",
    }
    first = change.iloc[0]
    assert first["before_per_month"] == pytest.approx(first["before"] / 6)
    assert first["after_per_month"] == pytest.approx(first["after"] / 3)
    assert context["period_note"] == (
        "periods differ (6 and 3 months): counts are compared per month"
    )
    labels = [t["label"] for t in context["trends"]]
    assert labels == ["District: all incidents", "District: knife-crime proxy"]
    assert len(context["trends"][0]["counts"]) == 9 and "knife" in context["knife_note"]
    assert context["emerging"]["steps"] == 9 and context["emerging"]["warnings"]


def test_meeting_maps_share_class_breaks_and_the_difference_map_is_tested(meeting, pack):
    inputs, before, after, context = meeting
    bins = context["bins"]
    counts = [inputs.area_stats(f)["count"] for f in (before, after)]
    assert bins == sorted(bins) and len(bins) == 5
    assert bins[-1] == max(int(c.max()) for c in counts)
    pages = [
        reports.meeting_map_html(inputs, pack, "grid-count", f, bins=bins) for f in (before, after)
    ]
    second = json.dumps(range_label(bins[0], bins[1], 0))[1:-1]  # as in the legend's JSON
    assert all("common classes (the same breaks on each map)" in p and second in p for p in pages)
    change = reports.meeting_difference(inputs, pack, before, after)
    assert len(change) == len(inputs.area_stats(after))  # one row per LSOA
    assert set(change["change_class"]) <= {
        "significant increase", "significant decrease", "no significant change"
    }
    assert (change["before"].sum(), change["after"].sum()) == (
        int(counts[0].sum()), int(counts[1].sum())
    )
    page = reports.difference_map_html(change, pack)
    assert "Exact test of the rate per month" in page


def test_line_chart_axes():
    chart = reports.line_chart(["2025-01", "2025-02", "2025-03"], [0, 40, 95])
    assert [label for _, label in chart["y_ticks"]] == ["0", "50", "100"]
    assert chart["points"].count(",") == 3 and chart["x_ticks"][0][1] == "2025-01"
    ys = [y for _, y, _, _ in chart["dots"]]
    assert ys[0] == chart["bottom"] and ys[2] < ys[1] < ys[0]


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="needs poppler-utils (make test)")
def test_meeting_pdf_pages_show_maps_and_charts(meeting, pack, settings, tmp_path):
    from PIL import Image

    inputs, before, after, context = meeting
    context = {**context, "change": context["change"].to_dict("records")}
    maps_html = reports.meeting_maps(inputs, pack, "grid-count", before, after, standalone=True)
    assert len(maps_html) == 3
    methods = {k: m.title for k, m in METHODS.items()}
    html = reports.meeting_report(context, maps_html, pack, settings, methods=methods)
    pdf = reports.render_pdf(html, tmp_path / "pack.pdf", settings)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 3
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Trends, every month with data" in text and "knife-crime proxy" in text
    assert "compared per month" in text
    colourful, red = [], []
    for page in pages:
        rgb = np.asarray(Image.open(page).convert("RGB")).astype(int)
        spread = rgb.max(axis=2) - rgb.min(axis=2)
        colourful.append(float((spread > 60).mean()))  # choropleth fills, hotspots
        r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
        red.append(int(((r > 150) & (g < 60) & (b < 70)).sum()))  # the series line #b2182b
    # measured: about 4 % of the two map pages' pixels are coloured, under 0.5 % elsewhere
    assert sum(c > 0.02 for c in colourful) >= 2, "both period maps are drawn"
    assert "Difference: tested change per LSOA" in text
    assert "Both period maps use the same classes" in text
    assert max(red) > 200, "no page has a drawn trend line"


def test_area_change_in_plain_words():
    import geopandas as gpd
    import pandas as pd
    import shapely

    months = [f"2025-{m:02d}" for m in range(1, 7)]
    per_month = [10, 10, 10, 30, 30, 30]  # 30 -> 90 over three months each: a real rise
    stamps = [f"{m}-01" for m, k in zip(months, per_month, strict=True) for _ in range(k)]
    inc = gpd.GeoDataFrame(
        {"month": pd.to_datetime(stamps)},
        geometry=gpd.points_from_xy([5.0] * len(stamps), [5.0] * len(stamps)),
        crs="EPSG:27700",
    )
    place = shapely.box(0, 0, 10, 10)
    out = reports.area_change(inc, place, months)
    assert (out["before"], out["after"]) == (30, 90)
    assert out["change_class"] == "significant increase"
    assert out["words"].startswith("up on the 3 months before: a real rise")
    first = inc[inc["month"] < "2025-04-01"]  # 10 a month in January to March only
    window = ["2024-11", "2024-12", "2025-01", "2025-02", "2025-03", "2025-04"]
    steady = reports.area_change(first, place, window)
    assert (steady["before"], steady["after"]) == (10, 20)
    assert steady["words"].startswith("up on the 3 months before: within normal variation")
    assert reports.area_change(inc, place, months[:4]) == {}  # fewer than 6 months


def test_day_hour_chart_counts_timed_records_and_marks_the_night_window():
    from geo_ssgp.reports import day_hour_chart

    # 2025-06-13 is a Friday; the last record has a date only
    log = pd.DataFrame(
        {
            "occurred_at": pd.to_datetime(
                ["2025-06-13 22:40", "2025-06-13 22:05", "2025-06-16 09:00", "2025-06-16 00:00"]
            ),
            "time_known": [True, True, True, False],
        }
    )
    chart = day_hour_chart(log)
    assert (chart["timed"], chart["without_time"], chart["in_window"]) == (3, 1, 2)
    assert chart["counts"][4][22] == 2 and chart["counts"][0][9] == 1
    cells = {(day, hour): (count, shade, night) for _, _, day, hour, count, shade, night in
             chart["cells"]}
    assert cells[("Fri", 22)] == (2, 5, True)
    assert cells[("Mon", 9)] == (1, 3, False)
    assert cells[("Sat", 3)][2] and not cells[("Sat", 4)][2]  # the night ends at 04:00
    assert len(chart["cells"]) == 7 * 24
    assert chart["note"].startswith("police.uk records carry the month only")


def test_selection_trend_finds_a_planted_rise_in_one_lsoa_only(pack):
    import geopandas as gpd
    import shapely

    from geo_ssgp.focus import Selection

    months = [f"2024-{m:02d}" for m in range(1, 13)]
    rows = [(m, "X") for i, m in enumerate(months) for _ in range(i + 1)]  # 1, 2, ..., 12
    rows += [(m, "Y") for m in months for _ in range(5)]  # steady 5 a month
    code = f"{pack.primary_lsoa}cd"
    inc = gpd.GeoDataFrame(
        {
            "month": pd.to_datetime([f"{m}-01" for m, _ in rows]),
            code: [c for _, c in rows],
            "crime_type": "Anti-social behaviour",
            "status": "ok",
        },
        geometry=gpd.points_from_xy([383000.0] * len(rows), [218000.0] * len(rows)),
        crs="EPSG:27700",
    )

    def lsoa(c: str) -> Selection:
        return Selection("lsoa", c, shapely.box(0, 0, 1, 1), [c], "codes")

    rise = reports.selection_trend(inc, pack, lsoa("X"), Filters.of())
    assert rise["counts"] == list(range(1, 13)) and rise["trend"] == "rising"
    assert rise["slope_per_month"] == pytest.approx(1.0) and rise["kind"] == "lsoa"
    steady = reports.selection_trend(inc, pack, lsoa("Y"), Filters.of())
    assert steady["counts"] == [5] * 12 and steady["trend"] == "no clear trend"
    district = reports.selection_trend(inc, pack, None, Filters.of("2024-07", "2024-12"))
    assert district["months"] == months[6:] and district["counts"][0] == 7 + 5
    assert district["knife_note"] is None and district["label"].endswith("all incidents")
    knife = reports.selection_trend(inc, pack, None, Filters.of(crime_types="violence"))
    assert sum(knife["counts"]) == 0 and "no knife-crime flag" in knife["knife_note"]
