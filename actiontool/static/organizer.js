// The dashboard's district map: fetch the cached geometry (an SVG asset with an ETag), put it in the page
// and colour it from the counts the page carries (#map-values: label -> [class, title, link]).
// Without JavaScript the seat squares and the district table show the same numbers.
(function () {
  "use strict";
  var figure = document.getElementById("district-map");
  var data = document.getElementById("map-values");
  if (!figure || !data || !window.fetch) { return; }
  var values = JSON.parse(data.textContent || "{}");
  var SVG = "http://www.w3.org/2000/svg";
  fetch(figure.getAttribute("data-src"), { credentials: "same-origin" }).then(function (response) {
    if (!response.ok) { throw new Error("map " + response.status); }
    return response.text();
  }).then(function (text) {
    var doc = new DOMParser().parseFromString(text, "image/svg+xml");
    var svg = document.importNode(doc.documentElement, true);
    svg.setAttribute("role", "group");
    svg.querySelectorAll("[data-district]").forEach(function (shape) {
      var value = values[shape.getAttribute("data-district")];
      if (!value) { return; }
      shape.setAttribute("class", "c" + value[0]);
      var title = shape.querySelector("title");
      if (title) { title.textContent = value[1]; }
      var link = document.createElementNS(SVG, "a");
      link.setAttribute("href", value[2]);
      link.setAttribute("aria-label", value[1]);
      shape.parentNode.insertBefore(link, shape);
      link.appendChild(shape);
    });
    figure.appendChild(svg);
  }).catch(function () {
    figure.setAttribute("data-failed", "true");
  });
}());
