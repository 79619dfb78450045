// Order entry (/orders/new), keyboard first: Enter moves to the next field, Enter in the
// product field adds what it names (a barcode scanner types a code and Enter), Ctrl+Enter
// places the order. Searches run as one types; nothing typed is ever cleared by a refusal.
(function () {
  "use strict";
  var form = document.getElementById("entry-form");
  if (!form || !window.htmx) return;
  var productQ = document.getElementById("product-q");
  // A refused order: the first field refused has the focus.
  var refused = form.querySelector("[aria-invalid=true]");
  if (refused) refused.focus();
  var timers = {};

  function search(input) {
    var url = input.getAttribute("data-entry-search");
    var target = "#" + input.getAttribute("data-entry-target");
    clearTimeout(timers[url]);
    timers[url] = setTimeout(function () {
      htmx.ajax("GET", url + "?q=" + encodeURIComponent(input.value.trim()), {
        target: target, swap: "outerHTML"
      });
    }, 250);
  }

  // Scans are sent one after another, each with the lines the last answer gave: a scanner
  // typing faster than the server answers loses no unit.
  var queue = [];
  var busy = false;
  var current = null;
  function pump() {
    if (busy || !queue.length) return;
    busy = true;
    current = queue.shift();
    clearTimeout(timers["/orders/new/products"]);
    // The whole form goes with it: the lines come back with the product added, typed
    // quantities and prices kept.
    htmx.ajax("POST", "/orders/new/lines", {
      source: productQ, target: "#lines", swap: "outerHTML", values: { "product-q": current }
    }).finally(function () { busy = false; current = null; pump(); });
  }
  function addProduct(code) {
    queue.push(code);
    productQ.value = "";
    pump();
  }

  // A style found by name: its variants (option values, price, stock per location) take the
  // place of the results, the first one focused, to be picked with Enter or a tap.
  function showStyle(code) {
    clearTimeout(timers["/orders/new/products"]);
    htmx.ajax("GET", "/orders/new/products?style=" + encodeURIComponent(code) +
      "&q=" + encodeURIComponent(productQ.value.trim()), {
      target: "#product-results", swap: "outerHTML"
    }).then(function () {
      var first = document.querySelector("#product-results .pick");
      if (first) first.focus();
    });
  }

  // Up and down move through the results (from the product field into them), Escape goes
  // back to the field.
  function moveInResults(e) {
    var picks = Array.prototype.slice.call(
      document.querySelectorAll("#product-results .pick"));
    if (!picks.length) return false;
    var i = picks.indexOf(e.target);
    if (e.key === "Escape" && i >= 0) { productQ.focus(); return true; }
    if (e.key === "ArrowDown" && (e.target === productQ || i >= 0)) {
      picks[Math.min(i + 1, picks.length - 1)].focus();
      return true;
    }
    if (e.key === "ArrowUp" && i >= 0) {
      if (i === 0) productQ.focus(); else picks[i - 1].focus();
      return true;
    }
    return false;
  }

  function fields() {
    return Array.prototype.filter.call(
      form.querySelectorAll("input, select, textarea, button"),
      function (el) {
        return !el.disabled && el.type !== "hidden" && !el.hidden &&
          el.offsetParent !== null && !el.classList.contains("link");
      }
    );
  }

  function next(el) {
    var all = fields();
    var i = all.indexOf(el);
    for (var j = i + 1; j < all.length; j++) {
      if (all[j].tagName !== "BUTTON" || all[j].id === "place-order") {
        all[j].focus();
        if (all[j].select && all[j].tagName === "INPUT") all[j].select();
        return;
      }
    }
  }

  form.addEventListener("keydown", function (e) {
    if (e.isComposing) return; // an IME choosing characters
    if (moveInResults(e)) { e.preventDefault(); return; }
    if (e.key !== "Enter") return;
    var el = e.target;
    if ((e.ctrlKey || e.metaKey) && el.tagName !== "BUTTON") {
      e.preventDefault();
      document.getElementById("place-order").click();
      return;
    }
    if (el === productQ) {
      e.preventDefault();
      if (el.value.trim()) addProduct(el.value.trim());
      return;
    }
    if (el.id === "customer-q") {
      e.preventDefault();
      var first = document.querySelector("#customer-results .pick");
      if (first) { first.click(); return; }
      // Nobody found: what was typed starts the new customer.
      var term = el.value.trim();
      var kind = /@/.test(term) ? "email" : /^[0-9\s\-()+.]+$/.test(term) ? "phone" : "name";
      var into = document.getElementById("cust-" + kind);
      if (term && !into.value.trim()) into.value = term;
      var empty = ["phone", "name", "email"].map(function (k) {
        return document.getElementById("cust-" + k);
      }).filter(function (f) { return !f.value.trim(); })[0];
      if (empty) empty.focus(); else next(el);
      return;
    }
    if (el.tagName === "TEXTAREA" || el.tagName === "BUTTON") return;
    e.preventDefault();
    next(el);
  });

  form.addEventListener("input", function (e) {
    var el = e.target;
    if (el.hasAttribute("data-entry-search")) search(el);
    if (el.classList.contains("price")) {
      var reason = el.parentNode.querySelector(".reason");
      if (reason) reason.hidden = !el.value.trim();
    }
  });

  form.addEventListener("click", function (e) {
    var pick = e.target.closest(".pick");
    if (pick && pick.hasAttribute("data-style")) {
      e.preventDefault();
      showStyle(pick.getAttribute("data-style"));
      return;
    }
    var back = e.target.closest("[data-picker-back]");
    if (back) {
      e.preventDefault();
      if (!productQ.value.trim()) productQ.value = back.getAttribute("data-picker-back");
      search(productQ);
      productQ.focus();
      return;
    }
    if (pick && pick.hasAttribute("data-add-sku")) {
      e.preventDefault();
      addProduct(pick.getAttribute("data-add-sku"));
      return;
    }
    if (pick && pick.hasAttribute("data-customer-phone")) {
      e.preventDefault();
      ["name", "phone", "email"].forEach(function (k) {
        document.getElementById("cust-" + k).value = pick.getAttribute("data-customer-" + k);
      });
      document.getElementById("customer-results").innerHTML = "";
      // The address of the customer's last order, unless one is typed already.
      var typed = ["addr-tw-street", "addr-line1", "addr-tw-city"].some(function (id) {
        var el = document.getElementById(id);
        return el && el.value.trim();
      });
      if (!typed) {
        htmx.ajax("GET", "/orders/new/address?customer=" +
          encodeURIComponent(pick.getAttribute("data-customer-id")),
          { target: "#address-block", swap: "outerHTML" });
      }
      productQ.focus();
      return;
    }
    var remove = e.target.closest("[data-remove-line]");
    if (remove) {
      e.preventDefault();
      htmx.ajax("POST", "/orders/new/lines", {
        source: productQ, target: "#lines", swap: "outerHTML",
        values: { remove: remove.getAttribute("data-remove-line"), "product-q": "" }
      });
    }
  });

  // A product added: the search list is closed and the field keeps the focus for the next
  // scan. A code that named no product comes back into the field, to be corrected.
  document.body.addEventListener("htmx:afterRequest", function (e) {
    var xhr = e.detail.xhr;
    if (!xhr || e.detail.requestConfig.path !== "/orders/new/lines") return;
    var results = document.getElementById("product-results");
    var picker = results && results.querySelector(".style-picker");
    if (xhr.getResponseHeader("X-Line-Added") === "1") {
      // A variant picked: its style's variants stay, for another one or another unit.
      var again = picker && Array.prototype.filter.call(picker.querySelectorAll(".pick"),
        function (b) { return b.getAttribute("data-add-sku") === current; })[0];
      if (again) { again.focus(); return; }
      if (results) results.innerHTML = "";
    } else if (current && !productQ.value) {
      productQ.value = current;
    }
    var style = xhr.getResponseHeader("X-Style");
    if (style) { showStyle(decodeURIComponent(style)); return; }
    productQ.focus();
  });

  // Taiwan: the districts of the county or city chosen, and the postal code they give.
  var data = document.getElementById("tw-postal-data");
  var cities = data ? JSON.parse(data.textContent) : [];
  function showPostal(district) {
    var opt = district.options[district.selectedIndex];
    document.getElementById("addr-tw-postal").textContent =
      (opt && opt.getAttribute("data-postal")) || "—";
  }
  function showDistricts(city) {
    var district = document.getElementById("addr-tw-district");
    var found = cities.filter(function (c) { return c.city === city.value; })[0];
    district.length = 1;
    (found ? found.districts : []).forEach(function (d) {
      var o = new Option(d[1] + " " + d[0], d[0]);
      o.setAttribute("data-postal", d[1]);
      district.add(o);
    });
    showPostal(district);
  }
  function showCountry(country) {
    var tw = country.value === "TW";
    ["addr-tw", "addr-other"].forEach(function (id) {
      var set = document.getElementById(id);
      var on = (id === "addr-tw") === tw;
      set.hidden = !on;
      set.disabled = !on;
    });
  }
  // Delegated: the address block is replaced when a customer's last address is filled in.
  form.addEventListener("change", function (e) {
    var el = e.target;
    if (el.id === "addr-tw-city") showDistricts(el);
    else if (el.id === "addr-tw-district") showPostal(el);
    else if (el.hasAttribute("data-entry-country")) showCountry(el);
  });
})();
