/* Enhancements only: every page works without this file. */
(function () {
  "use strict";

  function announce(text) {
    var region = document.getElementById("announcer");
    if (region) { region.textContent = ""; window.setTimeout(function () { region.textContent = text; }, 50); }
  }

  // Move focus to the error summary so keyboard and screen-reader users hear it first.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  // After "I sent it" or "Undo" the receipt comes back at #m-<id>: keep keyboard focus on that letter's card
  // (browsers focus a fragment's focusable target, but not all of them, and not after every reload).
  if (window.location.hash.indexOf("#m-") === 0) {
    var card = document.getElementById(window.location.hash.slice(1));
    if (card) { card.focus(); }
  }

  // Copy buttons: copy a textarea or input's text; the field itself stays as the fallback.
  Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = function () { announce(button.getAttribute("data-copied") || ""); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(target.value).then(done, function () { target.select(); });
      } else {
        target.select();
        try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
      }
    });
  });

  // Live counter: refresh the campaign's count now and then while the page is open (a few times only).
  var counter = document.querySelector("[data-count-url]");
  if (counter && window.fetch) {
    var polls = 0;
    var refresh = function () {
      polls += 1;
      fetch(counter.getAttribute("data-count-url"), { headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) {
          // The count the campaign shows: "messages" (written) or "sent", named by the page.
          var value = data[counter.getAttribute("data-count-field") || "messages"];
          if (typeof value !== "number") { return; }
          var number = counter.querySelector(".count");
          var bar = counter.querySelector("progress");
          number.textContent = value.toLocaleString(document.documentElement.lang || "en");
          if (bar) { bar.value = Math.min(value, Number(bar.max)); }
        })
        .catch(function () { /* keep the number the server rendered */ });
      if (polls < 20) { window.setTimeout(refresh, 30000); }
    };
    window.setTimeout(refresh, 30000);
  }

  // "Use my location": browser geolocation -> point lookup -> preselect the matching district.
  var geo = document.querySelector("[data-geo]");
  var locate = document.getElementById("use-location");
  if (geo && locate && "geolocation" in navigator && window.fetch) {
    geo.hidden = false;
    var status = document.getElementById("geo-status");
    // How the district was decided, sent with the choice: "location" until the person picks another.
    var basis = document.getElementById("district-basis");
    Array.prototype.forEach.call(document.querySelectorAll("input[name='district']"), function (radio) {
      radio.addEventListener("change", function () { if (basis) { basis.value = "choice"; } });
    });
    var say = function (key, label) {
      var text = locate.getAttribute("data-msg-" + key) || "";
      status.textContent = label ? text.replace("__LABEL__", label) : text;
    };
    locate.addEventListener("click", function () {
      say("working");
      navigator.geolocation.getCurrentPosition(function (pos) {
        var url = locate.getAttribute("data-api") + "?lat=" + encodeURIComponent(pos.coords.latitude) +
          "&lon=" + encodeURIComponent(pos.coords.longitude);
        fetch(url, { headers: { "Accept": "application/json" } })
          .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
          .then(function (data) {
            var labels = (data.districts || []).map(function (d) { return d.label; });
            var matches = labels.map(function (label) { return document.getElementById("district-" + label); })
              .filter(function (el) { return el; });
            if (matches.length === 1) {
              matches[0].checked = true;
              if (basis) { basis.value = "location"; }
              matches[0].focus();
              say("found", matches[0].value);
            } else if (matches.length > 1) {
              say("unsure");
            } else {
              say("outside");
            }
          })
          .catch(function () { say("failed"); });
      }, function () { say("failed"); }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 });
    });
  }
})();
