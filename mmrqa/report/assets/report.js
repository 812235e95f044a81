/* MMRQA report: draws the plotly figures embedded in the page, regroups the strip plots, opens a scan's page on a
   click, sorts the scan table. Works from disk (file://): no fetch, no module, no network. */
(function () {
  "use strict";
  var CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  // -- a scan page: its per-slice profile ----------------------------------------------------------------------------
  var profile = readJSON("profile-data");
  if (profile) {
    Plotly.newPlot("profile-plot", profile.data, profile.layout, CONFIG);
  }

  // -- the group page ---------------------------------------------------------------------------------------------------
  var cohort = readJSON("cohort-data");
  if (!cohort) return;
  var JITTER = 0.28;
  var groupBy = cohort.group_by || "";
  var select = document.getElementById("group-by");

  function grouping() {
    var g = cohort.groups[groupBy];
    if (g) return g;
    return { codes: cohort.names.map(function () { return 0; }), labels: ["(all scans)"] };
  }

  function medians(y, codes, n) {
    var xs = [], ys = [];
    for (var g = 0; g < n; g++) {
      var v = [];
      for (var i = 0; i < y.length; i++) if (codes[i] === g && y[i] !== null && isFinite(y[i])) v.push(y[i]);
      if (!v.length) continue;
      v.sort(function (a, b) { return a - b; });
      var m = v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
      xs.push(g - JITTER - 0.05, g + JITTER + 0.05, null);
      ys.push(m, m, null);
    }
    return { x: xs, y: ys };
  }

  function openScan(ev) {
    var p = ev.points && ev.points[0];
    if (!p || p.curveNumber !== 0 || !p.customdata) return;
    var page = cohort.pages[p.customdata[0]];
    if (page) window.location.href = page;
  }

  function regroupStrip(div) {
    var g = grouping();
    var x = g.codes.map(function (c, i) { return Math.round((c + cohort.jitter[i]) * 1e4) / 1e4; });
    var y = div.data[0].y;
    var m = medians(y, g.codes, g.labels.length);
    div.dataset.group = groupBy;
    return Plotly.update(div, { x: [x, m.x], y: [y, m.y] }, {
      "xaxis.tickvals": g.labels.map(function (_, k) { return k; }),
      "xaxis.ticktext": g.labels,
      "xaxis.range": [-0.6, g.labels.length - 0.4]
    }, [0, 1]);
  }

  function drawStrip(div) {
    if (div.dataset.drawn) return;
    div.dataset.drawn = "1";
    var fig = cohort.figures[div.dataset.metric];
    fig.data[0].text = cohort.names;  // stored once for all plots (see pages._without_names)
    div.dataset.group = cohort.group_by || "";
    Plotly.newPlot(div, fig.data, fig.layout, CONFIG).then(function () {
      div.on("plotly_click", openScan);
      if (div.dataset.group !== groupBy) regroupStrip(div);
    });
  }

  function drawEmbedding() {
    var div = document.getElementById("embedding");
    var fig = cohort.embedding;
    var g = grouping();
    var points = fig.data[0];
    points.marker.color = g.codes.map(function (c) { return cohort.palette[c % cohort.palette.length]; });
    var legend = g.labels.map(function (label, k) {
      return { x: [null], y: [null], mode: "markers", type: "scatter", name: label,
               marker: { color: cohort.palette[k % cohort.palette.length], size: 8 } };
    });
    fig.layout.legend = { title: { text: groupBy } };
    var first = !div.dataset.drawn;
    div.dataset.drawn = "1";
    div.dataset.group = groupBy;
    return Plotly.react(div, [points].concat(legend), fig.layout, CONFIG).then(function () {
      if (first) div.on("plotly_click", openScan);
    });
  }

  var strips = Array.prototype.slice.call(document.querySelectorAll(".plot.strip"));
  if ("IntersectionObserver" in window) {
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting) { seen.unobserve(e.target); drawStrip(e.target); }
      });
    }, { rootMargin: "100px" });
    strips.forEach(function (div) { seen.observe(div); });
  } else {
    strips.forEach(drawStrip);
  }
  drawEmbedding();

  if (select) {
    select.addEventListener("change", function () {
      groupBy = select.value;
      drawEmbedding();
      strips.forEach(function (div) { if (div.dataset.drawn) regroupStrip(div); });
      document.body.dataset.groupBy = groupBy;
    });
  }

  // -- sortable table -------------------------------------------------------------------------------------------------
  var table = document.getElementById("scan-table");
  if (table) {
    var order = {};
    table.querySelectorAll("th").forEach(function (th) {
      if (th.getAttribute("aria-sort") === "descending") order[Number(th.dataset.col)] = -1;
    });
    table.querySelectorAll("th").forEach(function (th) {
      th.addEventListener("click", function () {
        var col = Number(th.dataset.col);
        var dir = order[col] === 1 ? -1 : 1;
        order = {}; order[col] = dir;
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var u = a.cells[col].dataset.v, v = b.cells[col].dataset.v;
          if (u === "" || v === "") return (u === "") - (v === "");
          var x = Number(u), y = Number(v);
          var c = !isNaN(x) && !isNaN(y) ? x - y : u.localeCompare(v, undefined, { numeric: true });
          return c * dir;
        });
        rows.forEach(function (r) { body.appendChild(r); });
        table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      });
    });
  }
})();
