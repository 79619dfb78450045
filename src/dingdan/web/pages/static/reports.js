// The reports' charts: the page holds the chart's data as JSON (no inline script: the
// Content-Security-Policy allows scripts from files only); plotly.min.js is served from
// the installed plotly package (/static/vendor/plotly.min.js), never from a CDN.
(function () {
  "use strict";
  function draw() {
    var box = document.getElementById("report-chart");
    var source = document.getElementById("report-chart-data");
    if (!box || !source || !window.Plotly) { return; }
    var spec = JSON.parse(source.textContent);
    var layout = {
      title: spec.title ? { text: spec.title } : undefined,
      margin: { l: 60, r: 10, t: spec.title ? 40 : 10, b: 40 },
      legend: { orientation: "h" },
      autosize: true,
      yaxis: { automargin: true },
      xaxis: { automargin: true }
    };
    window.Plotly.newPlot(box, spec.traces, layout, { responsive: true, displaylogo: false, displayModeBar: false });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
