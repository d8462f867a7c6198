/*
 * geo_ssgp street base layer: geoSsgp.streets(source), the page side of
 * geo_ssgp.maps.streets.
 *
 * Loaded after map-runtime.js (linked as /static/app/streets.js when the app serves the map,
 * inlined by geo_ssgp.maps.render_standalone). `source` is either the street data itself
 * (standalone files, which must open with no server) or the URL of the pack's street
 * document, fetched once per page and kept by the browser's cache (ETag, Cache-Control), so
 * map documents no longer carry the lines. Data: {classes: [Leaflet style per road group],
 * lines: [[encoded-polyline text, vertices per line] per class], names: [escaped names],
 * labels: [[lat, lon, angle, name index]], labelZoom}, coordinates as integers of
 * geoSsgp.scale.
 *
 * The returned layer group exists at once (the layer control and geoSsgp.layers.streets use
 * it); its lines arrive with the data. `group.geoSsgpLoaded` turns true when they are drawn.
 */
(function () {
  var g = window.geoSsgp = window.geoSsgp || {};

  // A pane of its own that takes no clicks (the street layer is never interactive).
  var pane = function (map, name, zIndex) {
    if (!map.getPane(name)) {
      var p = map.createPane(name);
      p.style.zIndex = zIndex;
      p.style.pointerEvents = "none";
      p.className += " geo-ssgp-passive";
    }
    return name;
  };

  // Thinner and fainter lines when zoomed out, so the city view is not a grey mesh.
  var restyler = function (map, group, labelZoom) {
    return function () {
      var f = Math.max(0.3, Math.min(1, (map.getZoom() - 11) / (labelZoom - 11)));
      group.eachLayer(function (l) {
        l.setStyle({weight: l.baseWeight * f, opacity: 0.35 + 0.4 * f});
      });
    };
  };

  // Names along the lines (rotated labels) in view from data.labelZoom.
  var labeller = function (map, group, names, d) {
    var S = g.scale;
    return function () {
      names.clearLayers();
      if (!map.hasLayer(group) || map.getZoom() < d.labelZoom) { return; }
      var view = map.getBounds().pad(0.1);
      d.labels.forEach(function (l) {
        var at = L.latLng(l[0] / S, l[1] / S);
        if (!view.contains(at)) { return; }
        names.addLayer(L.marker(at, {interactive: false, keyboard: false,
          pane: "geoSsgpStreetNames", icon: L.divIcon({className: "geo-ssgp-street-name",
            iconSize: null, html: "<span style=\"transform:translate(-50%,-50%) rotate("
              + l[2] + "deg)\">" + d.names[l[3]] + "</span>"})}));
      });
    };
  };

  // Street lines above the area fills but below hotspots' outlines.
  var draw = function (map, group, renderer, d) {
    var names = L.layerGroup();
    d.classes.forEach(function (style, i) {
      var line = L.polyline(g.lineCoords(d.lines[i][0], d.lines[i][1], true), L.extend({
        renderer: renderer, interactive: false, opacity: 0.75, lineCap: "round"
      }, style));
      line.baseWeight = style.weight;
      group.addLayer(line);
    });
    var restyle = restyler(map, group, d.labelZoom), update = labeller(map, group, names, d);
    restyle();
    map.on("zoomend", restyle);
    group.on("add", function () { names.addTo(map); update(); });
    group.on("remove", function () { names.remove(); });
    map.on("zoomend moveend", update);
    if (map.hasLayer(group)) { names.addTo(map); update(); }
    group.geoSsgpLoaded = true;
  };

  g.streets = function (source) {
    var map = g.map, group = L.layerGroup();
    var renderer = L.canvas({pane: pane(map, "geoSsgpStreets", 420), padding: 0.3});
    pane(map, "geoSsgpStreetNames", 640);
    group.geoSsgpLoaded = false;
    if (typeof source !== "string") {
      draw(map, group, renderer, source);
      return group;
    }
    fetch(source, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) { throw new Error("street layer: HTTP " + r.status + " from " + source); }
      return r.json();
    }).then(function (d) { draw(map, group, renderer, d); });
    return group;
  };
})();
