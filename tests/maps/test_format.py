"""Text for the page: escaping of data, value text, labels, classes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from maps_testkit import (
    XSS,
    XSS_ESCAPED,
    data_of,
    decode,
    layer_control_names,
    small_areas,
    small_hotspots,
    small_incidents,
    small_wards,
)

from geo_ssgp import maps
from geo_ssgp.maps import format as fmt


def test_text_from_data_is_escaped(pack, vendor):
    fmap = maps.build_analyst_map(
        pack,
        small_areas(XSS),
        small_wards(),
        {XSS: small_hotspots()},
        XSS,
        incidents=small_incidents(),
    )
    page = maps.render(fmap)
    assert "<img" not in page
    assert "onerror=alert(1)" in page
    # Area and ward names, hotspot label, location text and layer name, all as text.
    assert page.count(XSS_ESCAPED) >= 5
    assert "Hotspots: " + XSS_ESCAPED in layer_control_names(page)
    standalone = maps.render_standalone(fmap)
    assert "<img src=x" not in standalone and XSS_ESCAPED in standalone


def test_template_syntax_in_data_is_not_evaluated(pack, vendor):
    areas = small_areas("{{ 7*7 }} {% if 1 %}yes{% endif %} {# c #}")
    fmap = maps.base_map(pack)
    maps.add_area_layer(fmap, areas)
    layer = maps.add_hotspot_layer(fmap, small_hotspots("{{ 6*7 }}"), name="{{ 5*5 }}")
    page = maps.render(fmap)
    assert "&#123;&#123; 7*7 &#125;&#125;" in page and "&#123;% if 1 %&#125;yes" in page
    assert "&#123;&#123; 6*7 &#125;&#125;" in page and "&#123;&#123; 5*5 &#125;&#125;" in page
    assert layer.layer_name == "&#123;&#123; 5*5 &#125;&#125;"
    assert "49 yes" not in page and "Hotspots: 25" not in page
    assert decode(data_of(layer))[0]["properties"]["label"] == "&#123;&#123; 6*7 &#125;&#125;"


def test_js_json_cannot_close_a_script_or_open_a_template():
    text = fmt.js_json({"a": "</script>{{ x }}{% y %}{# z #}"})
    assert "</script" not in text and "{{" not in text and "{%" not in text and "{#" not in text
    assert fmt.js_json(["&lt;"]) == '["&lt;"]'


def test_value_text_and_pretty_names():
    assert fmt.value_text(None) == "none" and fmt.value_text(math.nan) == "none"
    assert fmt.value_text(True) == "yes" and fmt.value_text(np.int64(12345)) == "12,345"
    assert fmt.value_text(0.00041) == "0.00041" and fmt.value_text(2500.4) == "2,500"
    assert fmt.value_text(math.inf) == "∞" and fmt.value_text([]) == "none"
    assert fmt.value_text({"a": [1, 2]}) == "a=1, 2"
    assert fmt.value_text(pd.Timestamp("2025-03-01")) == "2025-03"
    assert fmt.pretty("cell_size_m") == "Cell size (m)"
    assert fmt.pretty("density_per_km2") == "Density per km²"
    assert fmt.int_text(pd.Series([1234.6, None])).tolist() == ["1,235", "–"]
    assert fmt.num_text(pd.Series([], dtype=float)).dtype == object


def test_classify_uses_mapclassify_bins():
    cls, bounds = maps.classify([1, 2, 3, 4, 5, 6, np.nan], k=3, scheme="quantiles")
    assert cls.tolist() == [0, 0, 1, 1, 2, 2, -1]
    np.testing.assert_allclose(bounds, [(1, 8 / 3), (8 / 3, 13 / 3), (13 / 3, 6)])
    cls, bounds = maps.classify([1, 1, 1, 10, 10, 11], k=2, scheme="fisher_jenks")
    assert cls.tolist() == [0, 0, 0, 1, 1, 1]
    cls, bounds = maps.classify([5, 5, 5], k=5)
    assert cls.tolist() == [0, 0, 0] and bounds == [(5.0, 5.0)]
    with pytest.raises(ValueError, match="scheme must be one of"):
        maps.classify([1, 2], scheme="equal")


def test_classify_with_explicit_bins_keeps_every_class():
    cls, bounds = maps.classify([0, 1, 3, 7, 12, np.nan], bins=[1, 5, 12])
    assert cls.tolist() == [0, 0, 1, 2, 2, -1]
    assert bounds == [(0.0, 1.0), (1.0, 5.0), (5.0, 12.0)]
    # a period with only small counts still gets all three classes (same legend)
    cls, bounds = maps.classify([0, 1], bins=[1, 5, 12])
    assert cls.tolist() == [0, 0] and len(bounds) == 3
    # a value above the last bound joins the top class
    assert maps.classify([20], bins=[1, 5, 12])[0].tolist() == [2]


def test_ramp_keeps_the_darkest_colours():
    assert fmt.ramp("YlOrRd", 0) == []
    assert fmt.ramp("YlOrRd", 2) == fmt.ramp("YlOrRd", 3)[-2:]
