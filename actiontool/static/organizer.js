// The dashboard's district map: fetch the cached geometry (an SVG asset with an ETag), put it in the page
// and colour it from the seat squares below it (#seat-tiles li: class c0..c4, title, data-district), so the
// page carries each seat once. Without JavaScript the squares and the district table show the same numbers.
(function () {
  "use strict";
  var figure = document.getElementById("district-map");
  var squares = document.querySelectorAll("#seat-tiles li[data-district]");
  if (!figure || !squares.length || !window.fetch) { return; }
  var seats = {};
  squares.forEach(function (square) { seats[square.getAttribute("data-district")] = square; });
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
      var tip = square.getAttribute("title") || label;
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
