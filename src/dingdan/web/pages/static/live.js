// Live pages (docs/architecture.md, "Live pages"). htmx's SSE extension (sse.js, from the
// django-js-lib-htmx package) opens the stream on #live and reconnects it. That file is the
// htmx 1 version the package ships beside htmx 2: its connection works, but its own
// hx-trigger="sse:..." hand-off does not (htmx 2 dropped what it relied on). So this file
// turns each event the stream names into an "sse:<name>" event on <body>, which the live
// parts of the page hear with hx-trigger="sse:<name> from:body" (_macros.html, live_attrs).
(function () {
  "use strict";

  var bound = typeof WeakSet === "function" ? new WeakSet() : null;
  var dropped = false;

  function indicator() { return document.getElementById("live"); }

  function names() {
    var el = indicator();
    return el ? (el.getAttribute("data-names") || "").split(/\s+/).filter(Boolean) : [];
  }

  function state(value) {
    var el = indicator();
    if (el) el.setAttribute("data-state", value);
  }

  function tell(name) { htmx.trigger(document.body, "sse:" + name); }

  document.addEventListener("htmx:sseOpen", function (e) {
    var source = e.detail && e.detail.source;
    if (source && bound && !bound.has(source)) {
      bound.add(source);
      names().forEach(function (name) {
        source.addEventListener(name, function () { tell(name); });
      });
    }
    state("on");
    // Back after a drop: what changed meanwhile was not heard, so every part fetches again.
    if (dropped) names().forEach(tell);
    dropped = false;
  });

  document.addEventListener("htmx:sseError", function () {
    dropped = true;
    state("off");
  });

  // A part the reader is working in (a field focused, boxes ticked) is not replaced under
  // their hands: the indicator says it changed and offers the refresh instead.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var region = e.detail && e.detail.elt;
    if (!region || !region.classList || !region.classList.contains("live-region")) return;
    var focused = document.activeElement;
    var busy = (focused && focused !== document.body && region.contains(focused) &&
                /^(INPUT|SELECT|TEXTAREA)$/.test(focused.tagName)) ||
               region.querySelector("input[type=checkbox]:checked");
    if (busy) {
      e.preventDefault();
      state("stale");
    }
  });
})();
