/* The portal's maps: Leaflet on Natural Earth country outlines shipped with the portal, no tile server.
 * #map: every city of the directory (clustered) and the partnerships as lines, with filters.
 * .partner-map: a city page's small map of its partners (its data is in the page).
 * Nothing here loads anything from outside the portal. */
(function () {
  "use strict";
  var STYLES = {
    active: { color: "#1a7f37", weight: 2.5, opacity: 0.9 },
    proposed: { color: "#1d5b8f", weight: 2, opacity: 0.9, dashArray: "6 5" },
    dormant: { color: "#8a6d00", weight: 2, opacity: 0.8, dashArray: "2 5" }
  };
  var outlinesCache = {};

  function outlines(url) {
    if (!outlinesCache[url]) {
      outlinesCache[url] = fetch(url).then(function (r) { return r.json(); }).then(function (topo) {
        return topojson.feature(topo, topo.objects.countries);
      });
    }
    return outlinesCache[url];
  }

  function baseMap(element, options) {
    var map = L.map(element, Object.assign({
      zoomSnap: 0.5, minZoom: 2, maxZoom: 11, worldCopyJump: false,
      maxBounds: [[-85, -200], [85, 230]], attributionControl: true
    }, options || {}));
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Natural Earth · GeoNames");
    return map;
  }

  function drawOutlines(map, features) {
    L.geoJSON(features, {
      interactive: false,
      style: { color: "#9aa5b1", weight: 0.7, fillColor: "#f3f1ea", fillOpacity: 1 }
    }).addTo(map);
  }

  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  function popup(title, href, linkText, extra) {
    var box = document.createElement("div");
    var strong = document.createElement("strong");
    strong.textContent = title;
    box.appendChild(strong);
    if (extra) { box.appendChild(document.createTextNode(" · " + extra)); }
    box.appendChild(document.createElement("br"));
    box.appendChild(link(href, linkText));
    return box;
  }

  function fullMap(element) {
    var text = JSON.parse(document.getElementById("map-text").textContent);
    var map = baseMap(element, { preferCanvas: false }).setView([42, 80], 3);
    var form = document.getElementById("map-filters");
    var summary = document.getElementById("map-summary");
    var lineLayer = L.layerGroup().addTo(map);
    var drawn = false;
    // The first draw is done when the last chunk of cities is in the clusters (they load in chunks, not to block).
    var cluster = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50 });
    function whenClustered(expected) {
      if (cluster.getLayers().length >= expected) { requestAnimationFrame(finished); }
      else { setTimeout(function () { whenClustered(expected); }, 20); }
    }
    function finished() {
      if (drawn) { return; }
      drawn = true;
      element.dataset.drawn = "1";
      window.scoMapDrawnAt = performance.now();
      element.dispatchEvent(new CustomEvent("map:drawn"));
    }
    map.addLayer(cluster);
    var data = fetch(element.dataset.source, { credentials: "same-origin" }).then(function (r) { return r.json(); });

    Promise.all([outlines(element.dataset.outlines), data]).then(function (results) {
      drawOutlines(map, results[0]);
      var payload = results[1];
      var byId = {};
      payload.cities.forEach(function (c) { byId[c[0]] = c; });
      fillSelect(form.elements.country, payload.countries);
      fillSelect(form.elements.topic, payload.topics);

      function draw() {
        var country = form.elements.country.value;
        var topic = form.elements.topic.value;
        var statuses = Array.prototype.filter.call(form.elements.status, function (box) { return box.checked; })
          .map(function (box) { return box.value; });
        lineLayer.clearLayers();
        cluster.clearLayers();
        var lines = 0;
        payload.agreements.forEach(function (a) {
          var from = byId[a[1]], to = byId[a[2]];
          if (!from || !to || statuses.indexOf(a[3]) < 0) { return; }
          if (country && from[4] !== country && to[4] !== country) { return; }
          if (topic && a[4].indexOf(topic) < 0) { return; }
          var style = Object.assign({ className: "line line-" + a[3] + " agreement-" + a[0] }, STYLES[a[3]]);
          L.polyline([[from[2], from[3]], [to[2], to[3]]], style)
            .bindPopup(popup(from[1] + " – " + to[1], "/agreements/" + a[0] + "/", text.agreement, text[a[3]]))
            .addTo(lineLayer);
          lines += 1;
        });
        var markers = [];
        payload.cities.forEach(function (c) {
          if (country && c[4] !== country) { return; }
          markers.push(L.circleMarker([c[2], c[3]], { radius: 4, weight: 1, color: "#1d5b8f", fillOpacity: 0.7 })
            .bindPopup(popup(c[1], "/cities/" + c[0] + "/", text.open_city)));
        });
        cluster.addLayers(markers);
        whenClustered(markers.length);
        summary.textContent = text.summary.replace("%(cities)s", markers.length).replace("%(lines)s", lines);
      }

      form.addEventListener("change", draw);
      draw();
    });
  }

  function fillSelect(select, pairs) {
    pairs.sort(function (a, b) { return a[1].localeCompare(b[1]); }).forEach(function (pair) {
      var option = document.createElement("option");
      option.value = pair[0];
      option.textContent = pair[1];
      select.appendChild(option);
    });
  }

  function partnerMap(element) {
    var data = JSON.parse(document.getElementById(element.dataset.json).textContent);
    var map = baseMap(element, { scrollWheelZoom: false });
    var city = data.city;
    var points = [[city[2], city[3]]];
    map.setView(points[0], 4);  // Leaflet draws nothing on a map without a view.
    outlines(element.dataset.outlines).then(function (features) {
      drawOutlines(map, features);
      L.circleMarker([city[2], city[3]], { radius: 6, color: "#b00020", fillOpacity: 0.9 })
        .bindTooltip(city[1]).addTo(map);
      data.partners.forEach(function (p) {
        points.push([p[2], p[3]]);
        L.polyline([[city[2], city[3]], [p[2], p[3]]],
          Object.assign({ className: "line line-" + p[4] + " agreement-" + p[5] }, STYLES[p[4]])).addTo(map);
        L.circleMarker([p[2], p[3]], { radius: 4, color: "#1d5b8f", fillOpacity: 0.8 }).bindTooltip(p[1]).addTo(map);
      });
      if (points.length > 1) { map.fitBounds(points, { padding: [20, 20], maxZoom: 6 }); }
      element.dataset.drawn = "1";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var element = document.getElementById("map");
    if (element) { fullMap(element); }
    document.querySelectorAll(".partner-map").forEach(partnerMap);
  });
})();
