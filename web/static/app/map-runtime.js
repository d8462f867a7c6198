/*
 * geo_ssgp map runtime: the page side of every map built by geo_ssgp.maps.
 *
 * Loaded once per page (linked as /static/app/map-runtime.js when the app serves the map,
 * inlined by geo_ssgp.maps.render_standalone). The map's own script only calls these
 * functions with data: geoSsgp.init(map, scale) first, then decode / vector / register /
 * addLegend / addAttribution / snapPoints / hookDraw / lazyVector per layer (the street base
 * layer, geoSsgp.streets, is in streets.js). Nothing here touches Leaflet until it is called,
 * so the file may load before or after leaflet.js. What the user chooses (a hotspot, LSOAs, a
 * search result) is zoomed to and outlined here, for every page (focusHotspot, zoomToAreas,
 * showPlace).
 *
 * Every text it inserts (properties, aliases, legend parts, locations) is HTML-escaped on
 * the server. The page hooks (geoSsgp.map, .layers, .onAreaClick, .onDraw, .selectAreas,
 * .selected, .startDrawing, .clearDrawing) are documented in geo_ssgp/maps/__init__.py.
 */
(function () {
  var g = window.geoSsgp = window.geoSsgp || {};
  g.layers = g.layers || {};
  g.data = g.data || {};
  g.selected = g.selected || [];
  g.selStyle = {color: "#1d3fbb", weight: 3, opacity: 1};
  g.scale = g.scale || 100000;

  var post = function (msg) {
    if (window.parent !== window && window.location.origin !== "null") {
      try { window.parent.postMessage(msg, window.location.origin); } catch (e) {}
    }
  };

  // Maps narrower than this open with the layer control, legends and attribution folded.
  g.narrowWidth = 600;

  // The map this page's layers go on, and the integer scale of compact coordinates.
  g.init = function (map, scale) {
    g.map = map;
    g.scale = scale;
    g.narrow = map.getSize().x < g.narrowWidth;
    if (g.narrow) { L.DomUtil.addClass(map.getContainer(), "geo-ssgp-narrow"); }
    // After the map's own script has added its controls (it runs synchronously).
    setTimeout(function () { g.foldControls(map); }, 0);
  };

  // On a narrow map: the layer control becomes its button (a map click folds it again) and
  // the attribution one line that opens on a tap. Everywhere: legends can be folded.
  g.foldControls = function (map) {
    var box = map.getContainer();
    var attribution = box.querySelector(".leaflet-control-attribution");
    if (attribution) {
      attribution.title = "Data sources (tap to show all)";
      L.DomEvent.on(attribution, "click", function () {
        L.DomUtil.hasClass(attribution, "open") ? L.DomUtil.removeClass(attribution, "open")
          : L.DomUtil.addClass(attribution, "open");
      });
    }
    if (!g.narrow) { return; }
    var layers = box.querySelector(".leaflet-control-layers");
    if (layers) {
      L.DomUtil.removeClass(layers, "leaflet-control-layers-expanded");
      map.on("click", function () {
        L.DomUtil.removeClass(layers, "leaflet-control-layers-expanded");
      });
    }
  };

  // ---------------------------------------------------------------------------------------
  // Compact data (the decoder of geo_ssgp.maps.codec)
  // ---------------------------------------------------------------------------------------

  // Encoded-polyline text -> signed integers (inverse of geo_ssgp.maps.codec.encode_ints).
  g.ints = function (s) {
    var out = [], v = 0, shift = 0;
    for (var k = 0; k < s.length; k++) {
      var b = s.charCodeAt(k) - 63;
      v |= (b & 31) << shift;
      shift += 5;
      if (b < 32) { out.push((v >>> 1) ^ -(v & 1)); v = 0; shift = 0; }
    }
    return out;
  };

  var polygons = function (e) {
    var S = g.scale, c = g.ints(e[1]), lens = e[2], parts = e[3], k = 0, r = 0, out = [];
    for (var p = 0; p < parts.length; p++) {
      var rings = [];
      for (var j = 0; j < parts[p]; j++, r++) {
        var ring = [], x = 0, y = 0;
        for (var i = 0; i < lens[r]; i++, k += 2) {
          x = i ? x + c[k] : c[k];
          y = i ? y + c[k + 1] : c[k + 1];
          ring.push([x / S, y / S]);
        }
        ring.push(ring[0]);
        rings.push(ring);
      }
      out.push(rings);
    }
    return {type: "MultiPolygon", coordinates: out};
  };

  // Delta-coded lines (encoded-polyline text, vertices per line) -> one array of points per
  // line: [x, y] as in GeoJSON, or [lat, lon] for Leaflet when latLng is true.
  g.lineCoords = function (text, lens, latLng) {
    var S = g.scale, c = g.ints(text), k = 0, out = [];
    lens.forEach(function (n) {
      var line = [], x = 0, y = 0;
      for (var i = 0; i < n; i++, k += 2) {
        x = i ? x + c[k] : c[k];
        y = i ? y + c[k + 1] : c[k + 1];
        line.push(latLng ? [y / S, x / S] : [x / S, y / S]);
      }
      out.push(line);
    });
    return out;
  };

  // ["L", delta-coded coordinates, vertices per line] -> MultiLineString (street segments).
  var lines = function (e) {
    return {type: "MultiLineString", coordinates: g.lineCoords(e[1], e[2])};
  };

  // {k: [names], v: [values], f: [[geometry, [value indexes]], ...]} -> FeatureCollection.
  // Geometry: ["p", x, y], ["L", ...] (lines) or ["M", delta-coded coordinates as
  // encoded-polyline text, ring lengths, rings per part].
  g.decode = function (d) {
    var S = g.scale;
    return {type: "FeatureCollection", features: d.f.map(function (f, n) {
      var props = {_i: n};
      d.k.forEach(function (key, i) { props[key] = d.v[f[1][i]]; });
      var kind = f[0][0];
      var geom = kind === "p" ? {type: "Point", coordinates: [f[0][1] / S, f[0][2] / S]}
        : kind === "L" ? lines(f[0]) : polygons(f[0]);
      return {type: "Feature", geometry: geom, properties: props};
    })};
  };

  // ---------------------------------------------------------------------------------------
  // Tooltips, popups, legends, attribution
  // ---------------------------------------------------------------------------------------

  // Values are HTML-escaped text prepared on the server.
  g.table = function (p, fields, aliases) {
    return "<table class=\"geo-ssgp-table\">" + fields.map(function (key, i) {
      return "<tr>" + (aliases ? "<th>" + aliases[i] + "</th>" : "")
        + "<td>" + (p[key] == null ? "\u2013" : p[key]) + "</td></tr>";
    }).join("") + "</table>";
  };

  // Legend parts are HTML-escaped text prepared on the server.
  g.legendHtml = function (c) {
    var out = "<h4>" + c.title + "</h4>";
    c.swatches.forEach(function (s) {
      out += "<div><i style=\"background:" + s[0] + "\"></i>" + s[1] + "</div>";
    });
    var rows = function (t) {
      return "<table>" + t.map(function (r) {
        return "<tr><th>" + r[0] + "</th><td>" + r[1] + "</td></tr>";
      }).join("") + "</table>";
    };
    if (c.table.length) { out += rows(c.table); }
    if (c.more.length) {
      out += "<details><summary>All parameters</summary>" + rows(c.more) + "</details>";
    }
    c.notes.forEach(function (n) { out += "<div class=\"note\">" + n + "</div>"; });
    return out;
  };

  // A legend control shown while its layer is on the map: folded to a "Key" button on a
  // narrow map, and foldable anywhere with its close button.
  g.addLegend = function (map, layer, content) {
    var legend = L.control({position: "bottomright"}), folded = !!g.narrow;
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "geo-ssgp-legend" + (folded ? " folded" : ""));
      var swatch = content.swatches.length ? content.swatches[0][0] : "#888";
      div.innerHTML = "<button type=\"button\" class=\"geo-ssgp-key\" title=\"Show the legend\">"
        + "<i style=\"background:" + swatch + "\"></i>Key</button>"
        + "<button type=\"button\" class=\"geo-ssgp-close\" title=\"Hide the legend\">"
        + "\u00d7</button><div class=\"geo-ssgp-legend-body\">" + g.legendHtml(content) + "</div>";
      var toggle = function (fold) {
        folded = fold;
        (fold ? L.DomUtil.addClass : L.DomUtil.removeClass)(div, "folded");
      };
      L.DomEvent.on(div.querySelector(".geo-ssgp-key"), "click", function () { toggle(false); });
      L.DomEvent.on(div.querySelector(".geo-ssgp-close"), "click", function () { toggle(true); });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    var sync = function () {
      if (map.hasLayer(layer)) { legend.addTo(map); } else { legend.remove(); }
    };
    map.on("layeradd layerremove", function (e) { if (e.layer === layer) { sync(); } });
    sync();
  };

  // One data attribution line (HTML-escaped on the server) in the map's attribution control.
  g.addAttribution = function (map, line) {
    if (!map.attributionControl) {
      map.attributionControl = L.control.attribution().addTo(map);
    }
    map.attributionControl.addAttribution(line);
  };

  // ---------------------------------------------------------------------------------------
  // Vector layers, selection and click hooks
  // ---------------------------------------------------------------------------------------

  g.isSelected = function (l) {
    return !!(l.feature && g.selected.indexOf(l.feature.properties.code) >= 0);
  };

  // A Leaflet GeoJSON layer from decoded data and a style spec (see
  // geo_ssgp.maps.elements.VectorLayer): one style per class, tooltips and popups built
  // from escaped properties, an optional hover highlight.
  g.vector = function (fc, spec) {
    var styleOf = function (f) { return spec.styles[spec.classes[f.properties._i]]; };
    var layer = L.geoJson(fc, {
      interactive: spec.interactive,
      style: styleOf,
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, L.extend({radius: spec.radius}, styleOf(f)));
      },
      onEachFeature: function (f, l) {
        var t = spec.tooltip, p = spec.popup;
        if (t) {
          l.bindTooltip(t.options.permanent ? g.table(f.properties, t.fields, t.aliases)
            : function () { return g.table(f.properties, t.fields, t.aliases); }, t.options);
        }
        if (p) {
          l.bindPopup(function () { return g.table(f.properties, p.fields, p.aliases); },
                      {maxWidth: 360});
        }
        if (spec.highlight) {
          l.on("mouseover", function () { l.setStyle(spec.highlight); });
          l.on("mouseout", function () {
            layer.resetStyle(l);
            if (g.isSelected(l)) { l.setStyle(g.selStyle); }
          });
        }
      }
    });
    return layer;
  };

  // A layer drawn when it is first shown (geo_ssgp.maps.layers.add_lazy_layer): an empty
  // group at once (layer control, geoSsgp.layers), its document {data, spec, legend} fetched
  // from `url` the first time the group is added to the map, then drawn as g.vector with its
  // legend. "Still computing" (503) is asked again after Retry-After; geoSsgpLoaded turns
  // true once drawn, geoSsgpError holds a failure.
  g.lazyVector = function (url) {
    var map = g.map, group = L.featureGroup(), asked = false, note = null;
    group.geoSsgpLoaded = false;
    var draw = function (doc) {
      group.addLayer(g.vector(g.decode(doc.data), doc.spec));
      g.addLegend(map, group, doc.legend);
      group.geoSsgpLoaded = true;
    };
    var failed = function (e) {
      group.geoSsgpError = String(e.message || e);
      asked = false;  // switching the layer off and on again asks once more
      note = g.layerNote(map, "This layer could not be loaded (" + group.geoSsgpError
        + "). Switch it off and on again to retry.");
    };
    var load = function () {
      fetch(url, {credentials: "same-origin"}).then(function (r) {
        if (r.status === 503) {
          setTimeout(load, 1000 * (parseFloat(r.headers.get("Retry-After")) || 2));
          return null;
        }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json().then(draw);
      }).catch(failed);
    };
    group.on("add", function () {
      if (!asked) { asked = true; group.geoSsgpError = null; load(); }
    });
    group.on("remove", function () { if (note) { note.remove(); note = null; } });
    return group;
  };

  // A one-line note on the map (text, never HTML), closed with its button or by the caller.
  g.layerNote = function (map, text) {
    var note = L.control({position: "bottomright"});
    note.onAdd = function () {
      var div = L.DomUtil.create("div", "geo-ssgp-legend geo-ssgp-layer-note");
      div.setAttribute("role", "alert");
      var close = L.DomUtil.create("button", "geo-ssgp-close", div);
      close.type = "button";
      close.title = "Close";
      close.textContent = "\u00d7";
      L.DomUtil.create("p", "", div).textContent = text;
      L.DomEvent.on(close, "click", function () { note.remove(); });
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    return note.addTo(map);
  };

  g.register = function (id, layer, kind) {
    g.layers[id] = layer;
    layer.geoSsgpKind = kind;
    if (kind !== "areas") { return; }
    // A click selects (after a short wait, so that a double-click only zooms); where a page
    // takes area clicks, the feature's popup is not opened: details go to the side panel.
    var pending = null;
    layer.on("click", function (e) {
      var f = e.layer && e.layer.feature;
      if (!f) { return; }
      var hooked = typeof g.onAreaClick === "function" || window.parent !== window;
      if (hooked && e.layer.closePopup) { e.layer.closePopup(); }
      clearTimeout(pending);
      pending = setTimeout(function () {
        if (typeof g.onAreaClick === "function") {
          g.onAreaClick(f.properties.code, f.properties, id);
        }
        post({type: "geo-ssgp:area-click", code: f.properties.code, props: f.properties, layer: id});
      }, 260);
    });
    g.map.on("dblclick", function () { clearTimeout(pending); });
    layer.eachLayer(function (l) { if (g.isSelected(l)) { l.setStyle(g.selStyle); } });
  };

  // Zoom to the LSOAs whose codes are listed (no animation).
  g.zoomToAreas = function (codes) {
    var bounds = L.latLngBounds([]);
    Object.keys(g.layers).forEach(function (id) {
      var layer = g.layers[id];
      if (layer.geoSsgpKind !== "areas") { return; }
      layer.eachLayer(function (l) {
        if (codes.indexOf(l.feature.properties.code) >= 0) { bounds.extend(l.getBounds()); }
      });
    });
    if (bounds.isValid()) { g.map.fitBounds(bounds, {maxZoom: 16, animate: false}); }
  };

  // Show one hotspot layer, zoom to its hotspot of that rank and outline it; returns whether
  // the rank was found.
  g.focusHotspot = function (layerId, rank) {
    var layer = g.layers[layerId], found = null;
    if (!layer) { return false; }
    if (!g.map.hasLayer(layer)) { g.map.addLayer(layer); }
    layer.eachLayer(function (l) {
      layer.resetStyle(l);
      if (String(l.feature.properties.rank) === String(rank)) { found = l; }
    });
    if (!found) { return false; }
    found.setStyle(g.focusStyle);
    if (found.bringToFront) { found.bringToFront(); }
    var b = found.getBounds ? found.getBounds() : L.latLngBounds([found.getLatLng()]);
    g.zoomToFocus(b.pad(1.5));
    g.focused = {layer: layerId, rank: String(rank)};
    return true;
  };

  // What the user chose from a list or a search is outlined in this style and zoomed to at
  // most street level (a point alone: centred at that zoom).
  g.focusStyle = {color: "#1d3fbb", weight: 5, opacity: 1};
  g.zoomToFocus = function (bounds) {
    g.map.fitBounds(bounds, {maxZoom: 17, animate: false});
  };

  // Show a search result (a GeoJSON Feature of /api/search/focus: a street's lines, a
  // postcode's or place's point, a ward's outline) as layer "search": outlined like a chosen
  // hotspot, labelled with its name (inserted as text, never HTML), zoomed to. Replaces the
  // previous result; returns the layer.
  g.showPlace = function (feature) {
    g.clearPlace();
    if (!g.map.getPane("geoSsgpSearch")) {
      g.map.createPane("geoSsgpSearch").style.zIndex = 640;  // over markers, under popups
    }
    var label = document.createElement("span");
    label.textContent = feature.properties.label;
    // a white casing under lines and outlines sets them apart from the area outline
    var casing = L.geoJson(feature, {
      pane: "geoSsgpSearch",
      interactive: false,
      filter: function (f) { return f.geometry.type !== "Point"; },
      style: function () { return {color: "#fff", weight: 10, opacity: 0.9, fill: false}; }
    });
    var shape = L.geoJson(feature, {
      pane: "geoSsgpSearch",
      interactive: false,
      style: function () { return L.extend({fill: false}, g.focusStyle); },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, L.extend({radius: 8, fillColor: "#fff", fillOpacity: 1,
                                                pane: "geoSsgpSearch"}, g.focusStyle));
      }
    });
    shape.eachLayer(function (l) {
      l.bindTooltip(label, {permanent: true, direction: "top", className: "geo-ssgp-search-label"});
    });
    var layer = L.featureGroup([casing, shape]).addTo(g.map);
    g.register("search", layer, "search");
    g.zoomToFocus(layer.getBounds().pad(0.25));
    g.focused = {layer: "search", ref: feature.properties.ref};
    return layer;
  };
  g.clearPlace = function () {
    if (g.layers.search) { g.map.removeLayer(g.layers.search); delete g.layers.search; }
  };

  g.selectAreas = function (codes) {
    g.selected = (codes || []).slice();
    Object.keys(g.layers).forEach(function (id) {
      var layer = g.layers[id];
      if (layer.geoSsgpKind !== "areas") { return; }
      layer.eachLayer(function (l) {
        layer.resetStyle(l);
        if (g.isSelected(l)) { l.setStyle(g.selStyle); }
      });
    });
  };

  // ---------------------------------------------------------------------------------------
  // Incidents by snap point (data from geo_ssgp.maps.snap_points.snap_point_rows)
  // ---------------------------------------------------------------------------------------

  var snapPopup = function (d, exact, i) {
    var rows = [], re = /([a-zA-Z])(\d+)/g, r;
    while ((r = re.exec(d.t[i])) !== null) {
      var c = r[1].charCodeAt(0);
      rows.push(d.types[c >= 97 ? c - 97 : c - 39] + ": " + r[2]);
    }
    var span = d.spans[d.m[i]], m0 = d.months[span[0]], m1 = d.months[span[1]];
    return "<b>" + d.prefix + d.loc[i] + "</b><br>" + d.n[i]
      + (d.n[i] === 1 ? " incident, " : " incidents, ")
      + (m0 === m1 ? m0 : m0 + " \u2013 " + m1)
      + "<br>" + rows.join("<br>") + (exact[i] ? "" : "<br><i>" + d.note + "</i>");
  };

  // Clustered circle markers, one per snap point; cluster icons count incidents, not points.
  g.snapPoints = function (d, options) {
    var S = g.scale, group = L.markerClusterGroup(options);
    group.options.iconCreateFunction = function (cluster) {
      var n = 0;
      cluster.getAllChildMarkers().forEach(function (m) { n += m.options.n; });
      var size = n < 50 ? "small" : n < 500 ? "medium" : "large";
      return L.divIcon({html: "<div><span>" + n + "</span></div>",
                        className: "marker-cluster marker-cluster-" + size,
                        iconSize: L.point(40, 40)});
    };
    var exact = {};
    d.exact.forEach(function (i) { exact[i] = true; });
    var dlat = g.ints(d.lat), dlon = g.ints(d.lon);
    var lat = 0, markers = d.n.map(function (n, i) {
      lat += dlat[i];
      var m = L.circleMarker([lat / S, (d.lon0 + dlon[i]) / S], {
        n: n, radius: Math.min(4 + Math.sqrt(n), 14), color: "#08306b", weight: 1,
        fillColor: "#2b8cbe", fillOpacity: 0.8
      });
      m.bindPopup(function () { return snapPopup(d, exact, i); });
      return m;
    });
    group.addLayers(markers);
    return group;
  };

  // ---------------------------------------------------------------------------------------
  // Drawing (Leaflet.draw): one polygon kept, reported to onDraw
  // ---------------------------------------------------------------------------------------

  g.drawn = function (geojson) {
    if (typeof g.onDraw === "function") { g.onDraw(geojson); }
    post({type: "geo-ssgp:draw", geojson: geojson});
  };

  g.hookDraw = function (map, items, control, layerId) {
    g.register(layerId, items, "draw");
    g.drawnItems = items;
    g.drawControl = control;
    g.drawHandler = control._toolbars.draw._modes.polygon.handler;
    g.startDrawing = function () { g.drawHandler.enable(); };
    g.clearDrawing = function () { items.clearLayers(); g.drawn(null); };
    map.on(L.Draw.Event.CREATED, function (e) {
      items.eachLayer(function (l) { if (l !== e.layer) { items.removeLayer(l); } });
      g.drawn(e.layer.toGeoJSON());
    });
    map.on(L.Draw.Event.EDITED, function (e) {
      e.layers.eachLayer(function (l) { g.drawn(l.toGeoJSON()); });
    });
    map.on(L.Draw.Event.DELETED, function () {
      if (items.getLayers().length === 0) { g.drawn(null); }
    });
  };
})();
