// Dingdan back office: small progressive enhancements. No inline script anywhere (CSP).
(function () {
  "use strict";

  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el && el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
      if (!el.form.hasAttribute("hx-get")) el.form.submit();
    }
  });

  document.addEventListener("click", function (e) {
    var el = e.target;
    if (el && el.hasAttribute && el.hasAttribute("data-print")) window.print();
  });

  // The scan field keeps the focus so that a USB scanner (keys + Enter) can go on scanning.
  function focusScan() {
    var scan = document.querySelector("[data-scan]");
    if (scan && document.activeElement !== scan) scan.focus();
  }
  document.addEventListener("htmx:afterSettle", focusScan);
  document.addEventListener("DOMContentLoaded", focusScan);

  // A form sent through htmx is locked until the answer arrives (no double submits).
  document.addEventListener("htmx:beforeRequest", function (e) {
    var f = e.target.closest && e.target.closest("form");
    if (f) f.setAttribute("aria-busy", "true");
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var f = e.target.closest && e.target.closest("form");
    if (f) f.removeAttribute("aria-busy");
  });
})();
