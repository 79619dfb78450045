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
    // A copy button (a webhook's secret, shown once): data-copy names the field to copy.
    if (el && el.hasAttribute && el.hasAttribute("data-copy")) {
      var field = document.querySelector(el.getAttribute("data-copy"));
      if (!field) return;
      field.select();
      var said = function () { el.textContent = el.getAttribute("data-copied") || el.textContent; };
      if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(said);
      else if (document.execCommand("copy")) said();
    }
  });

  // The scan field keeps the focus so that a USB scanner (keys + Enter) can go on scanning.
  function focusScan() {
    var scan = document.querySelector("[data-scan]");
    if (scan && document.activeElement !== scan) scan.focus();
  }
  document.addEventListener("htmx:afterSettle", focusScan);
  document.addEventListener("DOMContentLoaded", focusScan);

  // The pack screen speaks: the packer looks at the parcel, not at the screen. A refused
  // scan gives a low, longer buzz; a good one a short high beep. Both are made here with
  // Web Audio (no sound file to load). The element that says what happened carries
  // data-tone="error" or "ok" (fulfilment/pack.html).
  var TONES = {
    error: { freq: 180, type: "square", seconds: 0.4 },
    ok: { freq: 1320, type: "sine", seconds: 0.08 }
  };
  var audio = null;
  function tone(kind) {
    var t = TONES[kind];
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!t || !Ctx) return;
    try {
      audio = audio || new Ctx();
      if (audio.state === "suspended" && audio.resume) audio.resume();
      var now = audio.currentTime;
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = t.type;
      osc.frequency.setValueAtTime(t.freq, now);
      gain.gain.setValueAtTime(0.25, now);
      gain.gain.exponentialRampToValueAtTime(0.001, now + t.seconds);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start(now);
      osc.stop(now + t.seconds);
    } catch (err) {
      // No sound is better than a broken pack screen.
    }
  }
  // Each answer sounds once, however many elements htmx settles.
  function announce() {
    var said = document.querySelector("#pack-panel [data-tone]:not([data-played])");
    if (!said) return;
    said.setAttribute("data-played", "");
    tone(said.getAttribute("data-tone"));
  }
  document.addEventListener("htmx:afterSettle", announce);
  document.addEventListener("DOMContentLoaded", announce);

  // The order list: a tick in the head ticks (or clears) every order of the page.
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (!el || !el.hasAttribute || !el.hasAttribute("data-select-all") || !el.form) return;
    var boxes = el.form.querySelectorAll('input[type="checkbox"][name="orders"]');
    for (var i = 0; i < boxes.length; i++) boxes[i].checked = el.checked;
  });

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
