/* Search results on the map: the PCSO page's result and the analyst page's search box.
 *
 * A search result is drawn by the map runtime (geoSsgp.showPlace in map-runtime.js, the same
 * zoom and outline as a chosen hotspot) from a GeoJSON Feature the server resolves from the
 * result's ref (geo_ssgp.gazetteer.resolve_focus):
 *
 * - PCSO page (/area/<ward>?focus=<ref>): the server puts the Feature in #place-focus; it is
 *   drawn once the map in #area-map is ready.
 * - Analyst page: the compact box #map-q lists matches of /api/search; choosing one asks
 *   /api/search/focus and draws it on the map in #map (the page stays); it is drawn again
 *   each time a filter change reloads the map. The x button removes it.
 *
 * Text from data is only ever inserted with textContent. On the analyst page requests go
 * through analyst.js's helper (window.geoSsgpApp.api), so errors read as everywhere else.
 */
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }

  // Draw the Feature on the map in the frame, when that map is ready; returns whether it was.
  function show(frame, feature) {
    var g = null;
    try { g = frame.contentWindow && frame.contentWindow.geoSsgp; } catch (e) { g = null; }
    if (!feature || !g || !g.map || !g.showPlace) { return false; }
    g.showPlace(feature);
    return true;
  }

  // Keep the current Feature (current()) drawn on the frame's map, across map reloads.
  function follow(frame, current) {
    frame.addEventListener("load", function () { show(frame, current()); });
    show(frame, current());
  }

  // ---- PCSO page -----------------------------------------------------------------------
  var given = $("place-focus");
  if (given && $("area-map")) {
    var feature = JSON.parse(given.textContent);
    follow($("area-map"), function () { return feature; });
  }

  // ---- analyst page --------------------------------------------------------------------
  var box = $("map-search");
  if (!box || !$("map")) { return; }
  var input = $("map-q"), list = $("map-search-results"), status = $("map-search-status");
  var chosen = null;
  follow($("map"), function () { return chosen; });

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }
  function say(text, bad) {
    status.textContent = text || "";
    status.classList.toggle("error", !!bad);
  }
  // the analyst page's request helper (analyst.js, loaded first): JSON, or the API's message
  var getJSON = window.geoSsgpApp.api;
  function close() {
    list.hidden = true;
    while (list.firstChild) { list.removeChild(list.firstChild); }
  }
  function choose(match) {
    close();
    say("Finding " + match.name + "…");
    getJSON("/api/search/focus?focus=" + encodeURIComponent(match.ref)).then(function (f) {
      chosen = f;
      input.value = match.name;
      // what the highlight is, without a line of its own: the map label names it ("GL1 1AD
      // (postcode centre)"), the box's tooltip says the rest ("... not a boundary")
      input.title = f.properties.label + ": " + f.properties.shows;
      say("");
      $("map-search-clear").hidden = false;
      show($("map"), f);
    }).catch(function (err) { say(err.message, true); });
  }
  function search() {
    var q = input.value.trim();
    if (q.length < 2) { say("Type at least 2 characters.", true); return; }
    say("Searching…");
    getJSON("/api/search?q=" + encodeURIComponent(q)).then(function (r) {
      close();
      if (!r.matches.length) { say("Nothing found for " + q + ".", true); return; }
      if (r.matches.length === 1) { choose(r.matches[0]); return; }
      say("");
      r.matches.forEach(function (m) {
        var item = el("li"), pick = el("button", m.name);
        pick.type = "button";
        pick.appendChild(el("span", m.kind + (m.kind === "ward" ? "" : " · " + m.ward_nm), "where"));
        pick.addEventListener("click", function () { choose(m); });
        item.appendChild(pick);
        list.appendChild(item);
      });
      list.hidden = false;
    }).catch(function (err) { say(err.message, true); });
  }
  // The box sits in the filter bar's form: Enter searches, it never submits the filters.
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter") { e.preventDefault(); search(); }
    if (e.key === "Escape") { close(); }
  });
  $("map-find").addEventListener("click", search);
  $("map-search-clear").addEventListener("click", function () {
    chosen = null;
    close();
    say("");
    input.value = "";
    input.title = "";
    $("map-search-clear").hidden = true;
    var g = null;
    try { g = $("map").contentWindow.geoSsgp; } catch (e) { g = null; }
    if (g && g.clearPlace) { g.clearPlace(); }
  });
  document.addEventListener("click", function (e) { if (!box.contains(e.target)) { close(); } });
})();
