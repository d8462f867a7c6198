/* Analyst workspace: filters, map iframe, focus-area panel, ranking and upload.
 *
 * Text from data is only ever inserted with textContent (never innerHTML), so names, location
 * text and notes are shown literally. The map is a separate document in an iframe: changing a
 * filter reloads the map only; the selection and panel state stay.
 */
(function () {
  "use strict";

  var meta = JSON.parse(document.getElementById("meta").textContent);
  var analyst = meta.role === "analyst";
  var frame = document.getElementById("map");
  var state = {selection: null, codes: [], summary: null};

  // ---- small DOM helpers ---------------------------------------------------------------
  function $(id) { return document.getElementById(id); }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function fmt(value, digits) {
    if (value === null || value === undefined) { return "–"; }
    if (typeof value !== "number") { return String(value); }
    if (value !== 0 && Math.abs(value) < 1 && digits !== 0) {
      return value.toLocaleString("en-GB", {maximumSignificantDigits: 2});
    }
    return value.toLocaleString("en-GB", {maximumFractionDigits: digits === undefined ? 1 : digits});
  }
  function pct(value) { return value === null || value === undefined ? "–" : fmt(value * 100, 1) + "%"; }
  function count(value, row) {
    if (row && row.suppressed) { return "<" + meta.suppress_below; }
    return value === null || value === undefined ? "<" + meta.suppress_below : fmt(value, 0);
  }
  function option(select, value, text) { select.appendChild(el("option", text, {value: value})); }
  function status(id, text, bad) {
    var node = $(id);
    node.textContent = text || "";
    node.classList.toggle("error", !!bad);
  }
  function errorText(body, res) {
    if (body && body.detail) {
      if (typeof body.detail === "string") { return body.detail; }
      if (Array.isArray(body.detail)) { return body.detail.map(function (d) { return d.msg; }).join("; "); }
    }
    return "request failed (" + res.status + ")";
  }
  function api(url, options) {
    return fetch(url, Object.assign({credentials: "same-origin"}, options || {})).then(function (res) {
      if (res.status === 204) { return null; }
      return res.json().catch(function () { return null; }).then(function (body) {
        if (!res.ok) { throw new Error(errorText(body, res)); }
        return body;
      });
    });
  }
  // shared with the page's other scripts (place-focus.js: the map's search box)
  window.geoSsgpApp = {api: api};
  function postJSON(url, body, method) {
    return api(url, {method: method || "POST", headers: {"Content-Type": "application/json"},
                     body: JSON.stringify(body)});
  }

  // ---- filters ---------------------------------------------------------------------------
  var fFrom = $("f-from"), fTo = $("f-to"), fSource = $("f-source"), fTypes = $("f-types");
  var fSub = $("f-sub");  // analysts only: subcategories come from restricted local logs
  meta.months.forEach(function (m) { option(fFrom, m, m); option(fTo, m, m); });
  if (meta.months.length) { fFrom.value = meta.months[0]; fTo.value = meta.months[meta.months.length - 1]; }
  meta.crime_types.forEach(function (t) {
    var label = el("label");
    var box = el("input", null, {type: "checkbox", value: t});
    box.checked = true;
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + t));
    fTypes.appendChild(label);
  });

  // A local log's own categories (Begging, Street drinking) with their record counts.
  function subcategoryOptions(counts) {
    if (!fSub) { return; }
    var chosen = fSub.value;
    while (fSub.options.length > 1) { fSub.remove(1); }
    Object.keys(counts || {}).forEach(function (name) {
      option(fSub, name, name + " (" + fmt(counts[name], 0) + ")");
    });
    fSub.value = counts && counts[chosen] !== undefined ? chosen : "";
    $("f-sub-box").hidden = fSub.options.length < 2;
  }
  subcategoryOptions(meta.subcategories);

  function filters() {
    var boxes = Array.prototype.slice.call(fTypes.querySelectorAll("input"));
    var ticked = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    return {
      from: fFrom.value || null,
      to: fTo.value || null,
      crime_types: ticked.length === boxes.length ? [] : ticked,
      sources: fSource.value ? [fSource.value] : [],
      subcategories: fSub && fSub.value ? [fSub.value] : []
    };
  }
  function query(f) {
    var q = new URLSearchParams();
    if (f.from) { q.set("from", f.from); }
    if (f.to) { q.set("to", f.to); }
    f.crime_types.forEach(function (t) { q.append("crime_type", t); });
    f.sources.forEach(function (s) { q.append("source", s); });
    f.subcategories.forEach(function (s) { q.append("subcategory", s); });
    return q;
  }
  function setGroup(group) {
    var wanted = group ? meta.crime_groups[group] : meta.crime_types;
    fTypes.querySelectorAll("input").forEach(function (b) { b.checked = wanted.indexOf(b.value) >= 0; });
    document.querySelectorAll(".quick button").forEach(function (b) {
      b.classList.toggle("on", b.getAttribute("data-group") === group);
    });
    changed();
  }
  document.querySelectorAll(".quick button").forEach(function (b) {
    b.addEventListener("click", function () { setGroup(b.getAttribute("data-group")); });
  });
  var TESTING = "Testing the hotspot layer on the last months…";
  var timer = null;
  var afterMap = null;  // what to ask for once the map being loaded is up (a filter change)
  function changed() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (fFrom.value && fTo.value && fFrom.value > fTo.value) {
        status("map-status", "'From' (" + fFrom.value + ") is after 'To' (" + fTo.value +
          "): choose a From month before the To month. The map below is not updated.", true);
        frame.parentNode.classList.add("stale");
        return;
      }
      frame.parentNode.classList.remove("stale");
      loadMap();
      // The layer test (a backtest, seconds of work for a new filter) and the hotspot list
      // are built by the same map worker: asked for once the new map is up, they never hold
      // it back.
      $("layer-accuracy").textContent = TESTING;
      afterMap = function () { loadAccuracy(); loadHotspotPicker(); };
      if (state.selection) { summarise(); }
    }, 150);
  }
  [fFrom, fTo, fSource, fSub].forEach(function (s) { if (s) { s.addEventListener("change", changed); } });
  fTypes.addEventListener("change", changed);

  // ---- how good the layer is: the rolling backtest in plain words ------------------------
  function loadAccuracy() {
    var node = $("layer-accuracy");
    node.textContent = TESTING;
    api("/api/hotspots/accuracy?" + query(filters()).toString()).then(function (acc) {
      node.textContent = acc.text;
    }).catch(function (e) { node.textContent = "Layer test unavailable: " + e.message; });
  }

  // ---- map -------------------------------------------------------------------------------
  // Functions adding map-only parameters (the space-time layers of analyst-overlays.js).
  var mapParams = [];
  function loadMap() {
    var q = query(filters());
    mapParams.forEach(function (add) { add(q); });
    status("map-status", "Loading map…");
    frame.parentNode.classList.add("loading");
    frame.src = "/map/analyst?" + q.toString();
  }
  frame.addEventListener("load", function () {
    if (frame.src.indexOf("/map/") < 0) { return; }
    status("map-status", "");
    frame.parentNode.classList.remove("loading");
    highlight();
    if (afterMap) { var next = afterMap; afterMap = null; next(); }
  });
  function mapHook() {
    try { return frame.contentWindow && frame.contentWindow.geoSsgp; } catch (e) { return null; }
  }
  function highlight() {
    var g = mapHook();
    if (g && g.selectAreas) { g.selectAreas(state.codes); }
  }
  // Follow the user: zoom to what was chosen from a list (a hotspot, a ward, a locality).
  function follow(selection, codes) {
    var g = mapHook();
    if (!g || !g.map) { return; }
    if (selection.hotspot) {
      g.focusHotspot("hotspots:" + selection.hotspot.method, selection.hotspot.rank);
    } else if (!selection.lsoa_codes && codes.length) {
      g.zoomToAreas(codes);
    }
  }
  window.addEventListener("message", function (e) {
    if (e.origin !== window.location.origin || !e.data || typeof e.data !== "object") { return; }
    if (e.data.type === "geo-ssgp:area-click" && typeof e.data.code === "string") {
      toggleCode(e.data.code);
    } else if (e.data.type === "geo-ssgp:draw") {
      if (e.data.geojson) { select({polygon: e.data.geojson}, []); } else { clearSelection(); }
    }
  });

  // ---- selection -------------------------------------------------------------------------
  function toggleCode(code) {
    var codes = state.selection && state.selection.lsoa_codes ? state.codes.slice() : [];
    var i = codes.indexOf(code);
    if (i >= 0) { codes.splice(i, 1); } else { codes.push(code); }
    if (!codes.length) { clearSelection(); return; }
    select({lsoa_codes: codes}, codes);
  }
  function select(selection, codes) {
    state.selection = selection;
    state.codes = codes;
    highlight();
    summarise();
  }
  function clearSelection() {
    state.selection = null;
    state.codes = [];
    state.summary = null;
    highlight();
    $("summary").hidden = true;
    $("save-form").hidden = true;
    $("selection-label").textContent = "Nothing selected.";
    ["pick-ward", "pick-locality", "pick-hotspot"].forEach(function (id) { $(id).value = ""; });
  }
  $("clear-selection").addEventListener("click", function () {
    try { frame.contentWindow.geoSsgp.clearDrawing(); } catch (e) { /* no drawing */ }
    clearSelection();
  });
  meta.wards.forEach(function (w) { option($("pick-ward"), w.code, w.name); });
  meta.localities.forEach(function (n) { option($("pick-locality"), n, n); });
  $("pick-ward").addEventListener("change", function (e) {
    if (e.target.value) { select({ward: e.target.value}, []); }
  });
  $("pick-locality").addEventListener("change", function (e) {
    if (e.target.value) { select({locality: e.target.value}, []); }
  });
  $("pick-hotspot").addEventListener("change", function (e) {
    if (e.target.value) {
      select({hotspot: {method: meta.default_method, rank: parseInt(e.target.value, 10)}}, []);
    }
  });
  function loadHotspotPicker() {
    var pick = $("pick-hotspot");
    var q = query(filters());
    q.set("method", meta.default_method);
    api("/api/hotspots?" + q.toString()).then(function (layer) {
      while (pick.options.length > 1) { pick.remove(1); }
      layer.features.slice(0, 30).forEach(function (f) {
        var p = f.properties;
        option(pick, p.rank, "#" + p.rank + " " + p.label);
      });
    }).catch(function () { /* leave the list empty */ });
  }

  var pending = 0;
  function summarise() {
    var ticket = ++pending;
    $("selection-label").textContent = "Summarising…";
    $("summary").classList.add("loading");  // old figures greyed out until the new ones come
    postJSON("/api/selection/summary", {selection: state.selection, filters: filters()})
      .then(function (s) { if (ticket === pending) { showSummary(s); } })
      .catch(function (err) {
        if (ticket === pending) { $("selection-label").textContent = "Cannot summarise: " + err.message; }
      });
  }
  function showSummary(s) {
    state.summary = s;
    $("summary").classList.remove("loading");
    if (s.selection.kind !== "lsoa") {
      state.codes = s.selection.lsoa_codes.slice();
      highlight();
      follow(state.selection, state.codes);
    }
    // The LSOAs the figures below are about: listed codes, or those the shape touches.
    var n = s.selection.lsoa_codes.length || (s.lsoas || []).length;
    var label = s.selection.label + " · " + n + (n === 1 ? " LSOA" : " LSOAs") + " · " +
      (s.period.from || "") + " to " + (s.period.to || "");
    $("selection-label").textContent = label;
    $("sum-incidents").textContent = count(s.incidents, s) + " of " + fmt(s.district.incidents, 0);
    $("sum-rate").textContent = fmt(s.rate_per_1000) +
      (s.rate_ratio ? " (" + fmt(s.rate_ratio, 2) + "× district)" : "");
    $("sum-district-rate").textContent = fmt(s.district.rate_per_1000);
    $("sum-share-inc").textContent = pct(s.share_of_district_incidents);
    $("sum-share-area").textContent = pct(s.share_of_district_area) +
      (s.concentration ? " (concentration " + fmt(s.concentration, 1) + "×)" : "");
    $("sum-population").textContent = fmt(s.population, 0);
    var notes = [];
    if (s.snap_point_share !== null && s.snap_point_share !== undefined) {
      notes.push(fmt(s.snap_point_share * 100, 0) + "% of incidents are at police.uk snap points (anonymised, not addresses).");
    }
    if (s.change && s.change.percent !== null && s.change.percent !== undefined) {
      notes.push("Last 3 months vs 3 before: " + (s.change.percent > 0 ? "+" : "") + fmt(s.change.percent, 0) + "%.");
    }
    if (s.selection.match === "geometry") { notes.push("Population estimated by area overlap."); }
    $("sum-note").textContent = notes.join(" ");
    trendChart($("sum-trend"), s.monthly);
    var tbody = $("sum-types").querySelector("tbody");
    clear(tbody);
    s.crime_types.forEach(function (r) {
      var tr = el("tr");
      tr.appendChild(el("td", r.crime_type));
      tr.appendChild(el("td", count(r.incidents, r)));
      tr.appendChild(el("td", pct(r.share)));
      tr.appendChild(el("td", pct(r.district_share)));
      tbody.appendChild(tr);
    });
    var deciles = Object.keys(s.imd_deciles).map(function (d) {
      return "decile " + d + ": " + s.imd_deciles[d] + " LSOA" + (s.imd_deciles[d] === 1 ? "" : "s");
    });
    $("sum-imd").textContent = deciles.length ? deciles.join(", ") + " (1 = most deprived)" : "–";
    var ol = $("sum-streets");
    clear(ol);
    s.top_streets.forEach(function (r) { ol.appendChild(el("li", r.street + " — " + count(r.incidents, r))); });
    $("summary").hidden = false;
    $("save-form").hidden = !analyst;
    if (!$("save-name").value) { $("save-name").value = s.selection.label; }
  }
  function trendChart(box, months) {
    clear(box);
    var ns = "http://www.w3.org/2000/svg";
    var w = 300, h = 90, pad = 16;
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    svg.setAttribute("class", "trend-chart");
    svg.setAttribute("role", "img");
    var max = Math.max.apply(null, months.map(function (m) { return m.incidents || 0; }).concat([1]));
    var bw = (w - 2 * pad) / Math.max(months.length, 1);
    months.forEach(function (m, i) {
      var v = m.incidents || 0;
      var bh = (h - 2 * pad) * v / max;
      var rect = document.createElementNS(ns, "rect");
      rect.setAttribute("x", pad + i * bw + 2);
      rect.setAttribute("y", h - pad - bh);
      rect.setAttribute("width", Math.max(bw - 4, 1));
      rect.setAttribute("height", bh);
      var title = document.createElementNS(ns, "title");
      title.textContent = m.month + ": " + count(m.incidents, m);
      rect.appendChild(title);
      svg.appendChild(rect);
      var t = document.createElementNS(ns, "text");
      t.setAttribute("x", pad + i * bw + bw / 2);
      t.setAttribute("y", h - 3);
      t.setAttribute("text-anchor", "middle");
      t.textContent = m.month.slice(5);
      svg.appendChild(t);
    });
    box.appendChild(svg);
  }

  // ---- save, list, compare, export -------------------------------------------------------
  $("save-form").addEventListener("submit", function (e) {
    e.preventDefault();
    if (!state.selection) { return; }
    status("save-status", "Saving…");
    postJSON("/api/focus-areas", {
      name: $("save-name").value, notes: $("save-notes").value,
      selection: state.selection, filters: filters()
    }).then(function (area) {
      status("save-status", "Saved as #" + area.id + ".");
      $("save-name").value = "";
      $("save-notes").value = "";
      loadSaved();
    }).catch(function (err) { status("save-status", err.message, true); });
  });

  function loadSaved() {
    return api("/api/focus-areas").then(function (list) {
      var tbody = $("saved").querySelector("tbody");
      clear(tbody);
      list.forEach(function (a) {
        var tr = el("tr", null, {"data-id": a.id});
        var tick = el("td");
        tick.appendChild(el("input", null, {type: "checkbox", value: a.id, "aria-label": "compare"}));
        tr.appendChild(tick);
        var name = el("td", null, {"class": "focus-cell"});
        name.appendChild(el("strong", a.name, {"class": "focus-name"}));
        if (a.notes) { name.appendChild(el("div", a.notes, {"class": "note"})); }
        tr.appendChild(name);
        tr.appendChild(el("td", a.kind));
        tr.appendChild(el("td", a.lsoa_codes.length));
        var actions = el("td", null, {"class": "actions"});
        var load = el("button", "Open", {type: "button", "class": "open"});
        load.addEventListener("click", function () { openSaved(a); });
        actions.appendChild(load);
        ["geojson", "csv", "gpkg"].forEach(function (f) {
          actions.appendChild(el("a", f.toUpperCase(), {href: "/api/focus-areas/" + a.id + "/export?format=" + f}));
        });
        if (analyst) {
          var del = el("button", "Delete", {type: "button", "class": "danger"});
          del.addEventListener("click", function () {
            api("/api/focus-areas/" + a.id, {method: "DELETE"}).then(loadSaved)
              .catch(function (err) { status("saved-status", err.message, true); });
          });
          actions.appendChild(del);
        }
        tr.appendChild(actions);
        tbody.appendChild(tr);
      });
      status("saved-status", list.length ? "" : "No saved focus areas yet.");
    }).catch(function (err) { status("saved-status", err.message, true); });
  }
  function openSaved(a) {
    showTab("t-select");
    state.selection = a.kind === "lsoa" ? {lsoa_codes: a.lsoa_codes} : {polygon: a.geometry};
    state.codes = a.lsoa_codes.slice();
    highlight();
    $("selection-label").textContent = "Loading " + a.name + "…";
    api("/api/focus-areas/" + a.id + "/summary").then(function (s) {
      showSummary(s);
      $("selection-label").textContent = a.name + " · " + $("selection-label").textContent;
    }).catch(function (err) { $("selection-label").textContent = err.message; });
  }
  $("compare-button").addEventListener("click", function () {
    var ids = Array.prototype.slice.call($("saved").querySelectorAll("input:checked"))
      .map(function (b) { return b.value; });
    var box = $("compare");
    clear(box);
    if (ids.length < 2) { status("saved-status", "Tick two or more focus areas.", true); return; }
    var q = new URLSearchParams();
    ids.forEach(function (i) { q.append("ids", i); });
    api("/api/focus-areas/compare?" + q.toString()).then(function (t) {
      status("saved-status", "");
      var table = el("table", null, {"class": "grid", id: "compare-table"});
      var head = el("tr");
      head.appendChild(el("th", ""));
      t.columns.forEach(function (c) { head.appendChild(el("th", c)); });
      table.appendChild(el("thead")).appendChild(head);
      var body = el("tbody");
      t.rows.forEach(function (r) {
        var tr = el("tr");
        tr.appendChild(el("th", r.measure));
        r.values.forEach(function (v) {
          var share = /Share/.test(r.measure) && typeof v === "number";
          tr.appendChild(el("td", share ? pct(v) : fmt(v, 2)));
        });
        body.appendChild(tr);
      });
      table.appendChild(body);
      box.appendChild(table);
    }).catch(function (err) { status("saved-status", err.message, true); });
  });

  // ---- ranking ---------------------------------------------------------------------------
  // "Gloucester 004I" says nothing on the ground: the row also names the ward and a place.
  // A hotspot's label already starts with its ward, so only a missing "near" place is added.
  function areaCell(row, unit) {
    var td = el("td", null, {"class": "area-name"});
    td.appendChild(el("strong", row.name));
    var where = [];
    if (row.ward && unit === "lsoa") { where.push(row.ward); }
    if (row.place && String(row.name).indexOf(row.place) < 0) { where.push("near " + row.place); }
    if (where.length) { td.appendChild(el("span", where.join(" · "), {"class": "where"})); }
    return td;
  }
  ["count", "rate", "trend", "deprivation"].forEach(function (k) { $("w-" + k).value = meta.weights[k]; });
  $("rank-form").addEventListener("submit", function (e) { e.preventDefault(); rank(); });
  function rank() {
    var q = query(filters());
    q.set("unit", $("rank-unit").value);
    ["count", "rate", "trend", "deprivation"].forEach(function (k) {
      if ($("w-" + k).value !== "") { q.set("w_" + k, $("w-" + k).value); }
    });
    api("/api/candidates?" + q.toString()).then(function (r) {
      var comps = $("rank-components");
      clear(comps);
      // Weights as the user typed them; the rescaling to a sum of 1 is stated, not hidden.
      var typed = {};
      Object.keys(r.weights).forEach(function (k) {
        var v = $("w-" + k).value;
        typed[k] = v === "" ? String(meta.weights[k]) : v;
      });
      var rescaled = Object.keys(r.weights).some(function (k) {
        return Math.abs(parseFloat(typed[k]) - r.weights[k]) > 1e-9;
      });
      Object.keys(r.components).forEach(function (k) {
        comps.appendChild(el("li", k + " (weight " + typed[k] + "): " + r.components[k]));
      });
      if (rescaled) {
        comps.appendChild(el("li", "Weights are rescaled to add up to 1 before scoring: " +
          Object.keys(r.weights).map(function (k) {
            return k + " " + typed[k] + " → " + fmt(r.weights[k], 2);
          }).join(", ") + "."));
      }
      var table = $("ranking");
      clear(table.querySelector("thead"));
      clear(table.querySelector("tbody"));
      var head = el("tr");
      ["#", "Area", "Score"].concat(Object.keys(r.weights).map(function (k) {
        return k + " ×" + typed[k];
      })).forEach(function (h) { head.appendChild(el("th", h)); });
      table.querySelector("thead").appendChild(head);
      var raw = {count: "count", rate: "rate_per_1000", trend: "trend_pct", deprivation: "imd_decile"};
      r.rows.forEach(function (row) {
        var tr = el("tr");
        tr.appendChild(el("td", row.position));
        tr.appendChild(areaCell(row, r.unit));
        tr.appendChild(el("td", fmt(row.score, 1)));
        Object.keys(r.weights).forEach(function (k) {
          var v = row[raw[k]];
          var cell = el("td", fmt(row[k + "_points"], 1) + " pts", {"class": "points"});
          cell.appendChild(el("span", k === "count" ? count(v, row) : fmt(v, 1), {"class": "raw"}));
          tr.appendChild(cell);
        });
        if (r.unit === "lsoa") {
          tr.classList.add("pick");
          tr.addEventListener("click", function () {
            showTab("t-select");
            select({lsoa_codes: [row.id]}, [row.id]);
            var g = mapHook();
            if (g && g.zoomToAreas) { g.zoomToAreas([row.id]); }
          });
        }
        table.querySelector("tbody").appendChild(tr);
      });
    }).catch(function (err) { $("rank-components").textContent = err.message; });
  }

  // ---- upload ----------------------------------------------------------------------------
  // The upload tab is only in the analyst's page (pcso and viewer see no write controls).
  if ($("upload-form")) $("upload-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var file = $("upload-file").files[0];
    if (!file) { return; }
    var form = new FormData();
    form.append("file", file);
    if ($("upload-columns").value) { form.append("columns", $("upload-columns").value); }
    form.append("public", $("upload-public").checked ? "true" : "false");
    var box = $("upload-result");
    box.textContent = "Uploading…";
    api("/api/uploads", {method: "POST", body: form}).then(function (r) {
      clear(box);
      box.appendChild(el("p", r.file + ": " + r.message));
      box.appendChild(el("p", r.public ? "Public: every role sees these records."
        : "Restricted: analysts only."));
      var ul = el("ul");
      Object.keys(r.by_reason).forEach(function (k) { ul.appendChild(el("li", k + ": " + r.by_reason[k])); });
      box.appendChild(ul);
      if (r.rejected_csv) {
        var rows = r.rejected.slice(0, 20).map(function (x) { return "row " + x.row + ": " + x.reason; });
        box.appendChild(el("p", rows.join("; ") + (r.rejected.length > 20 ? "; …" : "")));
        box.appendChild(el("a", "Download the rejected rows (CSV)", {href: r.rejected_csv}));
      }
      loadMap();
      loadAccuracy();
      api("/api/meta").then(function (m) { subcategoryOptions(m.subcategories); });
    }).catch(function (err) { clear(box); box.appendChild(el("p", err.message, {"class": "error"})); });
  });

  // ---- tabs and start --------------------------------------------------------------------
  function showTab(id) {
    document.querySelectorAll(".tab").forEach(function (t) { t.classList.toggle("on", t.id === id); });
    document.querySelectorAll(".tabs button").forEach(function (b) {
      b.classList.toggle("on", b.getAttribute("data-tab") === id);
    });
  }
  document.querySelectorAll(".tabs button").forEach(function (b) {
    b.addEventListener("click", function () {
      showTab(b.getAttribute("data-tab"));
      if (b.getAttribute("data-tab") === "t-saved") { loadSaved(); }
      if (b.getAttribute("data-tab") === "t-rank" && !$("ranking").querySelector("tbody tr")) { rank(); }
    });
  });
  loadMap();
  loadAccuracy();
  loadHotspotPicker();
  loadSaved();
  window.geoSsgpPage = {state: state, select: select, filters: filters, loadSaved: loadSaved,
                        loadMap: loadMap, mapParams: mapParams};
})();
