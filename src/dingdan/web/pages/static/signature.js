// A signature drawn with a finger (or a mouse) on a <canvas data-signature-for="ID">: each
// stroke is drawn with pointer events, and the drawing is put as a PNG data URL into the
// hidden input ID before the form is sent. An empty pad sends nothing.
(function () {
  "use strict";

  function setUp(canvas) {
    var input = document.getElementById(canvas.getAttribute("data-signature-for"));
    var ctx = canvas.getContext("2d");
    var drawing = false;
    var drawn = false;

    function fit() {
      // Draw in device pixels at the width the page gives the canvas.
      var ratio = window.devicePixelRatio || 1;
      var width = canvas.clientWidth || canvas.width;
      var height = canvas.clientHeight || canvas.height;
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 2.5;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
      drawn = false;
      if (input) input.value = "";
    }

    function point(e) {
      var box = canvas.getBoundingClientRect();
      return { x: e.clientX - box.left, y: e.clientY - box.top };
    }

    canvas.addEventListener("pointerdown", function (e) {
      e.preventDefault();
      drawing = true;
      if (canvas.setPointerCapture) canvas.setPointerCapture(e.pointerId);
      var p = point(e);
      ctx.beginPath();
      ctx.moveTo(p.x, p.y);
      ctx.lineTo(p.x + 0.1, p.y + 0.1);
      ctx.stroke();
      drawn = true;
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!drawing) return;
      e.preventDefault();
      var p = point(e);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
    });
    function end() {
      if (!drawing) return;
      drawing = false;
      if (input && drawn) input.value = canvas.toDataURL("image/png");
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("pointerleave", end);

    var form = canvas.closest("form");
    if (form) {
      form.addEventListener("submit", function () {
        if (input && drawn) input.value = canvas.toDataURL("image/png");
      });
    }
    document.addEventListener("click", function (e) {
      var el = e.target;
      if (el && el.getAttribute && el.getAttribute("data-signature-clear") === canvas.id) {
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        drawn = false;
        if (input) input.value = "";
      }
    });
    fit();
  }

  function start() {
    var pads = document.querySelectorAll("canvas[data-signature-for]");
    for (var i = 0; i < pads.length; i++) setUp(pads[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
