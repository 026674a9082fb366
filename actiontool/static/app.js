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

  // After "Update preview" the page comes back at #update-preview: keep focus on the button pressed
  // (the browser focuses a focusable fragment target too, but not after every reload).
  if (window.location.hash === "#update-preview") {
    var again = document.getElementById("update-preview");
    if (again && !summary) { again.focus(); }
  }

  // Live letter: as name and city are typed, fill the placeholders of the editable letter (while the person
  // has not changed it), and of every preview, with the same rules the server fills them by.
  var compose = document.getElementById("compose");
  if (compose && compose.getAttribute("data-ph-city")) {
    var ph = { first: compose.getAttribute("data-ph-first"), last: compose.getAttribute("data-ph-last"),
               city: compose.getAttribute("data-ph-city") };
    var state = compose.getAttribute("data-state") || "";
    var input = function (id) { var el = document.getElementById(id); return el ? el.value.trim() : ""; };
    var details = function () {
      return { first: input("first_name") || ph.first, last: input("last_name") || ph.last,
               city: input("city") || ph.city };
    };
    var fill = function (text, d) {
      return text.split(ph.first).join(d.first).split(ph.last).join(d.last).split(ph.city).join(d.city);
    };
    var box = document.getElementById("suggested_text");
    var template = box ? box.getAttribute("data-template") || "" : "";
    var norm = function (text) { return text.replace(/\r\n?/g, "\n").replace(/[ \t]+$/gm, "").trim(); };
    // The box follows the typed details until the person edits it themselves.
    var following = !!(box && template && norm(box.value) === norm(fill(template, details())));
    var render = function () {
      var d = details();
      if (box && following) { box.value = fill(template, d); }
      var signature = (d.first + " " + d.last).trim() + "\n" + [d.city, state].filter(Boolean).join(", ");
      var personal = (document.getElementById("personal_message") || { value: "" }).value.trim();
      Array.prototype.forEach.call(document.querySelectorAll("[data-live=signature]"), function (el) {
        el.textContent = signature;
      });
      Array.prototype.forEach.call(document.querySelectorAll("[data-live=personal]"), function (el) {
        el.textContent = personal ? personal + "\n\n" : "";
      });
      if (box) {
        var body = fill(norm(box.value), d);
        Array.prototype.forEach.call(document.querySelectorAll("[data-live=body]"), function (el) {
          el.textContent = body;
        });
      }
    };
    ["first_name", "last_name", "city", "personal_message"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.addEventListener("input", render); }
    });
    if (box) {
      box.addEventListener("input", function () {
        following = norm(box.value) === norm(fill(template, details()));
        render();
      });
    }
    render();
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
