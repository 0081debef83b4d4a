/* CMF Atlas map helpers: symbols, tooltips and popups for the record layers.
 * Every text from data is set with textContent (never innerHTML), and only
 * http(s) URLs become links, so hostile text in a dataset cannot run. That
 * holds for the user's own records too (addUserRecords): their triangles'
 * markup is a constant built here, never from data. */
window.CMF = (function () {
  "use strict";
  var S = null;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function safeUrl(u) {
    return (typeof u === "string" && /^https?:\/\/[^\s<>"']+$/i.test(u)) ? u : null;
  }
  function label(table, key) {
    return (table && Object.prototype.hasOwnProperty.call(table, key)) ? table[key] : key;
  }
  function fmtBn(v) {
    var s = Number(v).toLocaleString("en-US", {maximumFractionDigits: 2});
    return "RMB " + s + " bn";
  }
  function fundRadius(size) {
    return S.fund_ref_radius * Math.sqrt(size / S.fund_ref_bn) * S.scale;
  }

  function symbol(feature, latlng) {
    var p = feature.properties, k = p.kind;
    if (k === "zone") {
      var size = S.zone_size * S.scale;
      var icon = L.divIcon({
        className: "cmf-symbol cmf-zone cmf-zone-" + String(p.status).replace(/[^a-z_]/g, ""),
        html: "<div class=\"cmf-diamond\"></div>",
        iconSize: [size, size]
      });
      return L.marker(latlng, {icon: icon, keyboard: false, riseOnHover: true, zIndexOffset: 1000});
    }
    if (k === "fund") {
      var known = (p.fund_size_rmb_bn !== null && p.fund_size_rmb_bn !== undefined);
      return L.circleMarker(latlng, {
        radius: known ? fundRadius(p.fund_size_rmb_bn) : S.fund_unknown_radius * S.scale,
        color: S.strokes.fund, weight: 1.5 * S.scale, opacity: 1,
        fillColor: S.colors.fund, fillOpacity: known ? 0.5 : 0.08,
        dashArray: known ? null : "3 3",
        className: "cmf-symbol cmf-fund" + (known ? "" : " cmf-fund-unknown")
      });
    }
    if (k === "organisation") {
      var side = S.org_size * S.scale + (p.designated ? 6 * S.scale : 0);
      // Constant markup; the designated mark is a class, never text from data.
      var oicon = L.divIcon({
        className: "cmf-symbol cmf-org" + (p.designated ? " cmf-org-designated" : ""),
        html: "<div class=\"cmf-square\"></div>",
        iconSize: [side, side]
      });
      return L.marker(latlng, {icon: oicon, keyboard: false, riseOnHover: true,
                               zIndexOffset: p.designated ? 600 : 500});
    }
    return L.circleMarker(latlng, {
      radius: S.cluster_radius * S.scale, color: S.strokes.cluster, weight: 1.5, opacity: 1,
      fillColor: S.colors.cluster, fillOpacity: 0.95, className: "cmf-symbol cmf-cluster"
    });
  }

  function userSymbol(feature, latlng) {
    var size = S.user.size * S.scale, h = size - 1;
    var kind = String(feature.properties.kind).replace(/[^a-z_]/g, "");
    var icon = L.divIcon({
      className: "cmf-user-symbol cmf-user-" + kind,
      // Constant markup (numbers and colours from the settings), never data.
      html: "<svg width=\"" + size + "\" height=\"" + size + "\" viewBox=\"0 0 " + size + " " +
        size + "\"><polygon points=\"" + size / 2 + ",1 " + h + "," + h + " 1," + h +
        "\" fill=\"" + S.user.color + "\" stroke=\"" + S.user.stroke +
        "\" stroke-width=\"1.5\" stroke-linejoin=\"round\"/></svg>",
      iconSize: [size, size]
    });
    return L.marker(latlng, {icon: icon, keyboard: false, riseOnHover: true, zIndexOffset: 2000});
  }

  /* Many user records: one canvas instead of a DOM element per point (50,000
   * divIcons take most of a minute to draw and freeze the page). Same triangle,
   * drawn by Leaflet's canvas renderer; hit-testing is Leaflet's, on the
   * triangle's circumscribed circle. */
  var CanvasTriangle = L.CircleMarker.extend({
    _updatePath: function () { this._renderer._updateCmfTriangle(this); }
  });
  L.Canvas.include({
    _updateCmfTriangle: function (layer) {
      if (!this._drawing || layer._empty()) { return; }
      var p = layer._point, ctx = this._ctx, r = layer._radius;
      ctx.beginPath();
      ctx.moveTo(p.x, p.y - r);
      ctx.lineTo(p.x + r, p.y + r * 0.85);
      ctx.lineTo(p.x - r, p.y + r * 0.85);
      ctx.closePath();
      this._fillStroke(ctx, layer);
    }
  });

  function userCanvasSymbol(renderer) {
    return function (feature, latlng) {
      return new CanvasTriangle(latlng, {
        renderer: renderer, radius: S.user.size * S.scale / 2, color: S.user.stroke,
        weight: 1.2, opacity: 1, fillColor: S.user.color, fillOpacity: 1, lineJoin: "round"
      });
    };
  }

  function tooltip(p, user) {
    var d = el("div", null, "cmf-tip");
    d.appendChild(el("div", p.name_en, "cmf-tip-en"));
    d.appendChild(el("div", p.name_zh, "cmf-tip-zh"));
    if (user) { d.appendChild(el("div", S.user.label, "cmf-tip-user")); }
    return d;
  }

  function row(tbody, name, value) {
    if (value === null || value === undefined || value === "") { return; }
    var tr = el("tr");
    tr.appendChild(el("th", name));
    tr.appendChild(el("td", value));
    tbody.appendChild(tr);
  }

  function popup(p, user) {
    var d = el("div", null, "cmf-popup");
    if (user) { d.appendChild(el("div", S.user.label, "cmf-popup-user")); }
    d.appendChild(el("div", p.name_en, "cmf-popup-en"));
    d.appendChild(el("div", p.name_zh, "cmf-popup-zh"));
    var t = el("table"), tb = el("tbody");
    t.appendChild(tb);
    row(tb, "Kind", label(S.kinds, p.kind) + " · " + label(S.categories, p.category));
    row(tb, "Place", [p.city, p.province].filter(Boolean).join(", "));
    row(tb, "Year", p.date_as_published ? p.year + " (" + p.date_as_published + ")" : p.year);
    if (p.kind === "fund") {
      var size = (p.fund_size_rmb_bn === null || p.fund_size_rmb_bn === undefined)
        ? "Unknown" : fmtBn(p.fund_size_rmb_bn);
      if (p.fund_size_as_published) { size += " (published: " + p.fund_size_as_published + ")"; }
      row(tb, "Fund size", size);
    }
    row(tb, "Domains", (p.domains || []).map(function (x) { return label(S.domains, x); }).join(", "));
    if (p.status) { row(tb, "Status", label(S.statuses, p.status)); }
    row(tb, "Location", label(S.precisions, p.location_precision));
    if (p.aliases && p.aliases.length) {
      var more = p.aliases.length > 4 ? " (+" + (p.aliases.length - 4) + " more)" : "";
      row(tb, "Also known as", p.aliases.slice(0, 4).join("; ") + more);
    }
    if (p.confidence) { row(tb, "Confidence", p.confidence); }
    (p.designations || []).forEach(function (x) {
      var what = x.relation === "subsidiary_of_listed" ? "under listed " + x.listed_parent
        : "listed";
      row(tb, "US list", label(S.lists, x.list) + ": " + x.entry_name + " (" + what +
          (x.date_added ? ", " + x.date_added : "") +
          (x.date_removed ? ", removed " + x.date_removed : "") + ")");
    });
    if (p.links && p.links.length) {
      row(tb, "Links", p.links.map(function (x) {
        return x.label + " " + x.other_name;
      }).join("; "));
    }
    d.appendChild(t);
    d.appendChild(el("p", p.description, "cmf-popup-desc"));
    d.appendChild(el("div", "Sources", "cmf-popup-h"));
    var ol = el("ol", null, "cmf-popup-sources");
    (p.sources || []).forEach(function (s) {
      var li = el("li");
      var head = [s.publisher, s.date || "n.d."].filter(Boolean).join(", ") + ": ";
      li.appendChild(document.createTextNode(head));
      var url = safeUrl(s.url);
      if (url) {
        var a = el("a", s.title);
        a.href = url; a.target = "_blank"; a.rel = "noopener noreferrer";
        li.appendChild(a);
      } else {
        li.appendChild(el("span", s.title));
        if (s.url) { li.appendChild(el("span", " [" + s.url + "]", "cmf-popup-badurl")); }
      }
      if (s.via) { li.appendChild(el("div", s.via, "cmf-popup-via")); }
      ol.appendChild(li);
    });
    d.appendChild(ol);
    return d;
  }

  function addRecords(map, data, user, pointToLayer) {
    var layer = L.geoJSON(data, {
      pointToLayer: pointToLayer || (user ? userSymbol : symbol),
      onEachFeature: function (feature, lyr) {
        lyr.bindTooltip(function () { return tooltip(feature.properties, user); },
                        {direction: "top", opacity: 0.95});
        lyr.bindPopup(function () { return popup(feature.properties, user); },
                      {maxWidth: 380, minWidth: 260});
      }
    });
    layer.addTo(map);
    return layer;
  }

  // The user layers made so far (the last few): counted by userSymbols().
  var userLayers = [];

  function addUserRecords(map, data) {
    var onCanvas = data.features.length > S.user.dom_max;
    var layer = addRecords(map, data, true,
                           onCanvas ? userCanvasSymbol(L.canvas({padding: 0.2})) : null);
    layer.cmfCanvas = onCanvas;
    userLayers.push(layer);
    if (userLayers.length > 4) { userLayers.shift(); }
    return layer;
  }

  /* User symbols on the map now, and how many of them are on a canvas: for tests
   * and benchmarks, which cannot count points on a canvas in the DOM. */
  function userSymbols() {
    var out = {shown: 0, canvas: 0};
    userLayers.forEach(function (l) {
      if (l._map) {
        var n = l.getLayers().length;
        out.shown += n;
        if (l.cmfCanvas) { out.canvas += n; }
      }
    });
    return out;
  }

  function addBasemap(map, data) {
    if (!map.getPane("cmf-base")) {
      map.createPane("cmf-base");
      map.getPane("cmf-base").style.zIndex = 250;
    }
    return L.geoJSON(data, {
      pane: "cmf-base", interactive: false,
      style: function (f) {
        return f.properties.role === "province" ? S.base.province : S.base.neighbour;
      }
    }).addTo(map);
  }

  function addChoropleth(target, spec) {
    var layer = L.geoJSON(spec.geojson, {
      pane: "cmf-choro",
      style: function (f) {
        return {color: "#777", weight: 0.6, fillColor: f.properties.fill_color, fillOpacity: 0.75};
      },
      onEachFeature: function (feature, lyr) {
        lyr.bindTooltip(function () {
          var d = el("div", null, "cmf-tip");
          d.appendChild(el("div", feature.properties.name_en + " " + feature.properties.name_zh,
                           "cmf-tip-en"));
          d.appendChild(el("div", feature.properties.value_label, "cmf-tip-zh"));
          d.appendChild(el("div", "Click to filter to this province", "cmf-popup-via"));
          return d;
        }, {sticky: true, opacity: 0.95});
      }
    });
    var legend = L.control({position: "bottomright"});
    legend.onAdd = function () {
      var d = el("div", null, "cmf-legend");
      d.appendChild(el("h4", spec.title));
      (spec.legend || []).forEach(function (entry) {
        var r = el("div", null, "row");
        var sw = el("span");
        sw.style.cssText = "display:inline-block;width:14px;height:12px;border:1px solid #777;";
        sw.style.background = /^#[0-9a-fA-F]{3,8}$/.test(entry.color) ? entry.color : "#fff";
        r.appendChild(sw);
        r.appendChild(el("span", entry.label));
        d.appendChild(r);
      });
      L.DomEvent.disableClickPropagation(d);
      return d;
    };
    layer.on("add", function () { if (layer._map) { legend.addTo(layer._map); } });
    layer.on("remove", function () { legend.remove(); });
    layer.addTo(target);
    return layer;
  }

  /* Links as lines between their two ends: the selected record's (bold) and, in the
   * Network view, every link among the records shown (thin). One dash pattern per
   * type, named in a small legend; the tooltip reads "A - partner in -> B". */
  function addLinks(target, data) {
    var layer = L.featureGroup();
    var types = {};
    (data.lines || []).forEach(function (ln) {
      var dash = S.link_dashes[ln.type] || null;
      var line = L.polyline([ln.from, ln.to], {
        pane: "cmf-links", color: ln.selected ? S.link.selected : S.link.color,
        weight: (ln.selected ? 3 : 1.6) * S.scale, opacity: ln.selected ? 0.9 : 0.55,
        dashArray: dash, className: "cmf-link cmf-link-" +
          String(ln.type).replace(/[^a-z_]/g, "") + (ln.selected ? " cmf-link-selected" : "")
      });
      line.bindTooltip(function () {
        var d = el("div", null, "cmf-tip");
        d.appendChild(el("div", ln.from_name, "cmf-tip-en"));
        d.appendChild(el("div", "\u2192 " + label(S.link_types, ln.type) + " \u2192", "cmf-tip-zh"));
        d.appendChild(el("div", ln.to_name, "cmf-tip-en"));
        return d;
      }, {sticky: true, opacity: 0.95});
      line.addTo(layer);
      types[ln.type] = true;
    });
    if (data.origin) {
      L.circleMarker(data.origin, {
        pane: "cmf-selection", radius: 13 * S.scale, fill: false, color: S.link.selected,
        weight: 3 * S.scale, opacity: 0.9, interactive: false, className: "cmf-link-origin"
      }).addTo(layer);
    }
    var legend = L.control({position: "bottomright"});
    legend.onAdd = function () {
      var d = el("div", null, "cmf-legend cmf-links-legend");
      d.appendChild(el("h4", data.title || "Links"));
      Object.keys(types).sort().forEach(function (t) {
        var r = el("div", null, "row");
        var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
        svg.setAttribute("width", "28"); svg.setAttribute("height", "8");
        var l = document.createElementNS("http://www.w3.org/2000/svg", "line");
        l.setAttribute("x1", "1"); l.setAttribute("y1", "4");
        l.setAttribute("x2", "27"); l.setAttribute("y2", "4");
        l.setAttribute("stroke", S.link.selected); l.setAttribute("stroke-width", "2");
        if (S.link_dashes[t]) { l.setAttribute("stroke-dasharray", S.link_dashes[t]); }
        svg.appendChild(l);
        r.appendChild(svg);
        r.appendChild(el("span", label(S.link_types, t)));
        d.appendChild(r);
      });
      if (data.hidden) { d.appendChild(el("div", data.hidden, "cmf-popup-via")); }
      L.DomEvent.disableClickPropagation(d);
      return d;
    };
    layer.on("add", function () {
      if (layer._map && (Object.keys(types).length || data.hidden)) { legend.addTo(layer._map); }
    });
    layer.on("remove", function () { legend.remove(); });
    layer.addTo(target);
    return layer;
  }

  function addPlaceLabels(map, places) {
    var markers = places.map(function (pl) {
      var icon = L.divIcon({className: "cmf-place-label", html: "", iconSize: null});
      var m = L.marker([pl.lat, pl.lon], {icon: icon, interactive: false, keyboard: false});
      m.addTo(map);
      var node = m.getElement();
      if (node) { node.appendChild(el("span", pl.name_en + " " + pl.name_zh)); }
      return {marker: m, minZoom: pl.min_zoom || 0};
    });
    function update() {
      var z = map.getZoom();
      markers.forEach(function (x) {
        var node = x.marker.getElement();
        if (node) { node.style.display = z >= x.minZoom ? "" : "none"; }
      });
    }
    map.on("zoomend", update);
    map.whenReady(update);
  }

  function prepareMap(map) {
    if (!map.getPane("cmf-choro")) {
      map.createPane("cmf-choro");
      map.getPane("cmf-choro").style.zIndex = 300;
    }
    // Link lines under the record symbols (overlay pane 400, markers 600).
    if (!map.getPane("cmf-links")) {
      map.createPane("cmf-links");
      map.getPane("cmf-links").style.zIndex = 390;
    }
    // The ring around the selected record, above every symbol, never in the way of a click.
    if (!map.getPane("cmf-selection")) {
      map.createPane("cmf-selection");
      map.getPane("cmf-selection").style.zIndex = 650;
      map.getPane("cmf-selection").style.pointerEvents = "none";
    }
    // Leaflet's keyboard handler focuses the map on mousedown and restores only this
    // frame's scroll; in an iframe that is partly off-screen the *page* scrolls, the
    // mouseup lands elsewhere and the click on a symbol is lost. Focus without scrolling.
    setTimeout(function () { map.invalidateSize(); }, 50);
    if (map.keyboard && map.keyboard.enabled()) {
      map.keyboard.disable();  // unbinds the original handler before we replace it
      map.keyboard._onMouseDown = function () {
        if (this._focused) { return; }
        this._map._container.focus({preventScroll: true});
      };
      map.keyboard.enable();
    }
  }

  function init(settings, css) {
    S = settings;
    var style = document.getElementById("cmf-style");
    if (!style) {
      style = document.createElement("style");
      style.id = "cmf-style";
      document.head.appendChild(style);
    }
    style.textContent = css;
  }

  return {init: init, prepareMap: prepareMap, addChoropleth: addChoropleth, addRecords: addRecords,
          addUserRecords: addUserRecords, userSymbols: userSymbols, addBasemap: addBasemap,
          addLinks: addLinks,
          addPlaceLabels: addPlaceLabels, popup: popup, tooltip: tooltip, safeUrl: safeUrl};
})();
