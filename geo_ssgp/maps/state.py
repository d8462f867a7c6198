"""Per-map bookkeeping kept on the ``folium.Map`` object itself.

A map built by this package carries one dict (attribute ``_geo_ssgp``) that the other
modules read and extend: the URL prefix of the vendor folder (``asset_base``), the data
attribution lines shown so far, how many hotspot layers were added (to pick the next
colour), compact data shared by several layers, and the page-setup elements once added.
Nothing here renders anything.
"""

from __future__ import annotations

from typing import Any

import folium

_STATE = "_geo_ssgp"


def map_state(fmap: folium.Map) -> dict[str, Any]:
    """The bookkeeping dict of a map, created on first use.

    Parameters
    ----------
    fmap : folium.Map

    Returns
    -------
    dict
        ``attribution`` (list of escaped lines), ``hotspot_layers`` (int), ``shared``
        (data key -> mask of rows kept); ``asset_base``, ``setup`` and
        ``attribution_element`` once set by the other modules.
    """
    state = getattr(fmap, _STATE, None)
    if state is None:
        state = {"attribution": [], "hotspot_layers": 0, "shared": {}}
        setattr(fmap, _STATE, state)
    return state
