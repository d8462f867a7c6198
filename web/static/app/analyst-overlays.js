/* Analyst page: the space-time layers of the map (analysts only).
 *
 * "Emerging hotspots" asks the map for the emerging hot/cold-spot categories; "Change between
 * two periods" for the tested change between an earlier and a later month range (by default
 * the last 3 months against the 3 before, from the server), significant places only unless
 * "Show every place" is ticked. The analysis and its rules are on the server
 * (/map/analyst?emerging=true&change_before=YYYY-MM:YYYY-MM&change_after=...&change_all=true);
 * this script only keeps the controls and adds their parameters to the map's address.
 */
(function () {
  "use strict";

  var page = window.geoSsgpPage;
  var box = document.getElementById("overlays");
  if (!page || !box) { return; }
  var meta = JSON.parse(document.getElementById("meta").textContent);
  function $(id) { return document.getElementById(id); }

  var periods = meta.change_periods || {before: [null, null], after: [null, null]};
  var selects = {
    "o-before-from": periods.before[0], "o-before-to": periods.before[1],
    "o-after-from": periods.after[0], "o-after-to": periods.after[1]
  };
  Object.keys(selects).forEach(function (id) {
    var select = $(id);
    meta.months.forEach(function (m) {
      var opt = document.createElement("option");
      opt.value = m;
      opt.textContent = m;
      select.appendChild(opt);
    });
    if (selects[id]) { select.value = selects[id]; }
  });

  function say(text, bad) {
    var node = $("overlay-status");
    node.textContent = text || "";
    node.classList.toggle("error", !!bad);
  }
  // Months are YYYY-MM, so text order is time order.
  function changeProblem() {
    var bf = $("o-before-from").value, bt = $("o-before-to").value;
    var af = $("o-after-from").value, at = $("o-after-to").value;
    if (bf > bt) { return "the earlier period starts after it ends"; }
    if (af > at) { return "the later period starts after it ends"; }
    if (bt >= af) { return "the earlier period must end before the later one starts"; }
    return null;
  }
  function changeOn() { return $("o-change").checked && !changeProblem(); }

  page.mapParams.push(function (q) {
    if ($("o-emerging").checked) { q.set("emerging", "true"); }
    if (changeOn()) {
      q.set("change_before", $("o-before-from").value + ":" + $("o-before-to").value);
      q.set("change_after", $("o-after-from").value + ":" + $("o-after-to").value);
      if ($("o-change-all").checked) { q.set("change_all", "true"); }
    }
  });

  function changed() {
    var problem = $("o-change").checked ? changeProblem() : null;
    if (problem) {
      say("Change layer: " + problem + "; the map is drawn without it.", true);
    } else {
      say($("o-emerging").checked || $("o-change").checked
        ? "A space-time layer can take a few seconds the first time." : "");
    }
    page.loadMap();
  }
  box.addEventListener("change", function (e) {
    var periodControl = e.target.id !== "o-emerging" && e.target.id !== "o-change";
    if (periodControl && !$("o-change").checked) { return; }  // nothing on the map changes
    changed();
  });
})();
