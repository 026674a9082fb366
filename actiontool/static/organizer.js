// The dashboard's district map: fetch the cached geometry (an SVG asset with an ETag), put it in the page
// and colour it from the seat squares below it (#seat-tiles ul[data-state] li: class c0..c4, title), so the
// page carries each seat once. A square's text is its district number, or its state's code for an at-large
// seat (AK-AL: "AK"). Without JavaScript the squares and the district table show the same numbers.
(function () {
  "use strict";
  var figure = document.getElementById("district-map");
  var lists = document.querySelectorAll("#seat-tiles ul[data-state]");
  if (!figure || !lists.length || !window.fetch) { return; }
  var seats = {};
  lists.forEach(function (list) {
    var state = list.getAttribute("data-state");
    list.querySelectorAll("li").forEach(function (square) {
      var text = square.textContent;
      seats[state + "-" + (text === state ? "AL" : text)] = square;
    });
  });
  var base = figure.getAttribute("data-link") || "?";
  var zoomed = figure.hasAttribute("data-zoomed");
  var SVG = "http://www.w3.org/2000/svg";
  function link(label) {
    var href = base + "state=" + encodeURIComponent(label.split("-")[0]);
    if (zoomed) { href += "&district=" + encodeURIComponent(label); }
    return href + "#map";
  }
  fetch(figure.getAttribute("data-src"), { credentials: "same-origin" }).then(function (response) {
    if (!response.ok) { throw new Error("map " + response.status); }
    return response.text();
  }).then(function (text) {
    var doc = new DOMParser().parseFromString(text, "image/svg+xml");
    var svg = document.importNode(doc.documentElement, true);
    svg.setAttribute("role", "group");
    svg.querySelectorAll("[data-district]").forEach(function (shape) {
      var label = shape.getAttribute("data-district");
      var square = seats[label];
      if (!square) { return; }
      var tip = label + " — " + (square.getAttribute("title") || "");
      shape.setAttribute("class", square.className);
      var title = shape.querySelector("title");
      if (title) { title.textContent = tip; }
      var anchor = document.createElementNS(SVG, "a");
      anchor.setAttribute("href", link(label));
      anchor.setAttribute("aria-label", tip);
      shape.parentNode.insertBefore(anchor, shape);
      anchor.appendChild(shape);
    });
    figure.appendChild(svg);
  }).catch(function () {
    figure.setAttribute("data-failed", "true");
  });
}());
