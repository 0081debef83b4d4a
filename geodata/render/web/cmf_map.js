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
        pane: "cmf-funds",
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

  /* Spreading a badge: compact rings instead of markercluster's long spiral (44
   * records at Mianyang spiralled off the map), shifted as a whole so every spread
   * record lies inside the visible map; a click never moves the map to show them. */
  function insideMap(map, positions) {
    if (!positions.length) { return positions; }
    var margin = 16 * S.scale, size = map.getSize();
    var tl = map.containerPointToLayerPoint([margin, margin]);
    var br = map.containerPointToLayerPoint([size.x - margin, size.y - margin]);
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    positions.forEach(function (p) {
      minX = Math.min(minX, p.x); maxX = Math.max(maxX, p.x);
      minY = Math.min(minY, p.y); maxY = Math.max(maxY, p.y);
    });
    function shift(lo, hi, min, max) {
      if (hi - lo > max - min) { return min - lo; }  // larger than the map: keep the top/left
      if (lo < min) { return min - lo; }
      if (hi > max) { return max - hi; }
      return 0;
    }
    var dx = shift(minX, maxX, tl.x, br.x), dy = shift(minY, maxY, tl.y, br.y);
    if (!dx && !dy) { return positions; }
    return positions.map(function (p) { return L.point(p.x + dx, p.y + dy)._round(); });
  }
  if (L.MarkerCluster) { L.MarkerCluster.include({
    /* Leaflet.markercluster 1.4.1 (the packaged version) starts its walks at the map's
     * minimum zoom unrounded; with our fractional minimum (China fitted exactly) a record
     * far from all others was never drawn (four at the national view). Its grids are
     * built from the floored minimum, so start there too. */
    _recursively: (function (original) {
      return function (bounds, start, stop, everyLevel, bottomLevel) {
        return original.call(this, bounds, Math.floor(start), stop, everyLevel, bottomLevel);
      };
    })(L.MarkerCluster.prototype._recursively),
    _generatePointsSpiral: function (count, centerPt) {
      var sep = 22 * S.scale, res = [], ring = 0;
      while (res.length < count) {
        ring += 1;
        var radius = sep * (0.6 + ring), n = Math.floor(2 * Math.PI * radius / sep);
        n = Math.min(n, count - res.length);
        for (var i = 0; i < n; i++) {
          var a = -Math.PI / 2 + 2 * Math.PI * i / n + ring * 0.35;
          res.push(L.point(centerPt.x + radius * Math.cos(a),
                           centerPt.y + radius * Math.sin(a))._round());
        }
      }
      return insideMap(this._group._map, res);
    },
    _generatePointsCircle: (function (original) {
      return function (count, centerPt) {
        return insideMap(this._group._map, original.call(this, count, centerPt));
      };
    })(L.MarkerCluster.prototype._generatePointsCircle)
  }); }

  /* Curated records go into one Leaflet.markercluster group per record layer set,
   * so records on one spot become a count badge; a click on the badge spiderfies it
   * in place (never a zoom), so every record is at most two clicks away. */
  function clusterGroup(target) {
    if (target.cmfCluster) { return target.cmfCluster; }
    var r = S.stack_radius * Math.sqrt(S.scale);
    var mcg = L.markerClusterGroup({
      maxClusterRadius: r, zoomToBoundsOnClick: false, spiderfyOnMaxZoom: false,
      clusterPane: "cmf-stacks",
      showCoverageOnHover: false, removeOutsideVisibleBounds: false, animate: false,
      spiderfyDistanceMultiplier: 1.4 * S.scale,
      spiderLegPolylineOptions: {weight: 1.5, color: "#333", opacity: 0.7},
      iconCreateFunction: function (cluster) {
        var n = cluster.getChildCount();
        var size = Math.round((n < 10 ? 26 : 30) * Math.sqrt(S.scale));
        // The ring shows the mix of layers stacked here, in the layers' colours.
        var counts = {cluster: 0, fund: 0, zone: 0, organisation: 0}, stops = [], at = 0;
        cluster.getAllChildMarkers().forEach(function (m) {
          var k = m.feature.properties.kind;
          if (Object.prototype.hasOwnProperty.call(counts, k)) { counts[k] += 1; }
        });
        ["cluster", "fund", "zone", "organisation"].forEach(function (k) {
          if (!counts[k]) { return; }
          var end = at + 360 * counts[k] / n;
          stops.push(S.colors[k] + " " + at.toFixed(1) + "deg " + end.toFixed(1) + "deg");
          at = end;
        });
        var ring = stops.length ? "conic-gradient(" + stops.join(", ") + ")" : "#333";
        return L.divIcon({
          className: "cmf-stack", iconSize: [size, size],
          // Constant markup: numbers and the settings' colours, never data.
          html: "<div class=\"cmf-stack-badge\" style=\"background: " + ring + "\" title=\"" +
            n + " records here: click to show them all\"><span>" + n + "</span></div>"
        });
      }
    });
    mcg.on("clusterclick", function (e) { e.layer.spiderfy(); });
    // Spread-out dots are drawn below badges (paths sit under markers): while a badge is
    // spread, the other badges fade and let clicks through, so no record is hidden.
    mcg.on("spiderfied", function (e) {
      if (mcg._map) { mcg._map.getContainer().classList.add("cmf-spread"); }
      // A big fund circle must not cover a small dot spread beside it: draw the
      // spread circles largest first, so every one keeps a visible, clickable part.
      (e.markers || []).filter(function (m) { return m.getRadius && m.bringToFront; })
        .sort(function (a, b) { return b.getRadius() - a.getRadius(); })
        .forEach(function (m) { m.bringToFront(); });
    });
    mcg.on("unspiderfied", function () {
      if (mcg._map) { mcg._map.getContainer().classList.remove("cmf-spread"); }
    });
    mcg.on("remove", function () {
      var box = document.querySelector(".leaflet-container");
      if (box) { box.classList.remove("cmf-spread"); }
    });
    target.cmfCluster = mcg;
    recordGroups.push(mcg);
    if (recordGroups.length > 6) { recordGroups.shift(); }
    target.addLayer(mcg);
    return mcg;
  }

  function bindRecord(feature, lyr, user) {
    lyr.bindTooltip(function () { return tooltip(feature.properties, user); },
                    {direction: "top", opacity: 0.95});
    // autoPan off: a click never moves the map; fitPopup keeps the popup inside instead.
    lyr.bindPopup(function () { return popup(feature.properties, user); },
                  {maxWidth: 380, minWidth: 240, autoPan: false, className: "cmf-popup-wrap"});
  }

  function addRecords(map, data, user, pointToLayer) {
    var layer = L.geoJSON(data, {
      pointToLayer: pointToLayer || (user ? userSymbol : symbol),
      onEachFeature: function (feature, lyr) { bindRecord(feature, lyr, user); }
    });
    if (user) {
      layer.addTo(map);
      return layer;
    }
    clusterGroup(map).addLayers(layer.getLayers());
    return layer;
  }

  // The marker-cluster groups made so far (the last few): searched by shownRecords().
  var recordGroups = [];

  /* Ids of the curated records on the map now, stacked or not: for tests. */
  function shownRecords() {
    var ids = [];
    recordGroups.forEach(function (g) {
      if (g._map) {
        // Drawn: on the map itself, or counted in a badge that is drawn.
        g.eachLayer(function (l) {
          if (l._map || g.getVisibleParent(l)) { ids.push(l.feature.properties.id); }
        });
      }
    });
    return ids;
  }

  function findRecord(id) {
    var hit = null;
    recordGroups.forEach(function (g) {
      if (g._map) {
        g.eachLayer(function (l) { if (l.feature.properties.id === id) { hit = l; } });
      }
    });
    userLayers.forEach(function (g) {
      if (g._map && !g.cmfCanvas) {
        g.eachLayer(function (l) { if (l.feature.properties.id === id) { hit = l; } });
      }
    });
    return hit;
  }

  /* Where a record can be clicked now: its own symbol, or the badge it is stacked in. */
  function recordTarget(id) {
    var lyr = findRecord(id);
    if (!lyr) { return null; }
    // On the map itself (alone, or spread out): its own symbol. Otherwise the badge it is
    // stacked in (getVisibleParent looks for a DOM icon, which circle markers lack).
    var g = lyr.__parent ? lyr.__parent._group : null;
    var vis = (lyr._map || !g) ? lyr : g.getVisibleParent(lyr);
    return {stacked: !!(vis && vis !== lyr), element: vis && (vis.getElement ? vis.getElement() : vis._path),
            record: lyr.getElement ? lyr.getElement() : lyr._path};
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

  function baseStyle(f, tiles) {
    var st = f.properties.role === "province" ? S.base.province : S.base.neighbour;
    return tiles ? L.extend({}, st, {fillOpacity: 0}) : st;
  }

  /* The offline basemap is an opaque fill; when the user switches on an online tile
   * layer its fill goes transparent (the boundary lines stay), so the tiles show. */
  function addBasemap(map, data) {
    if (!map.getPane("cmf-base")) {
      map.createPane("cmf-base");
      map.getPane("cmf-base").style.zIndex = 250;
    }
    var base = L.geoJSON(data, {
      pane: "cmf-base", interactive: false,
      style: function (f) { return baseStyle(f, false); }
    }).addTo(map);
    function tilesOn() {
      var on = false;
      map.eachLayer(function (l) { if (l instanceof L.TileLayer) { on = true; } });
      return on;
    }
    function restyle(e) {
      if (!(e.layer instanceof L.TileLayer)) { return; }
      // layerremove fires before the layer leaves map._layers: look again next tick.
      setTimeout(function () {
        var on = tilesOn();
        base.setStyle(function (f) { return baseStyle(f, on); });
        map.getContainer().classList.toggle("cmf-tiles-on", on);
      }, 0);
    }
    map.on("layeradd layerremove", restyle);
    return base;
  }

  /* The basemap from a static file (the dashboard serves it; the browser caches it).
   * If it cannot be fetched the map still works, and says what is missing. */
  function loadBasemap(map, url) {
    return fetch(url, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    }).then(function (data) {
      return addBasemap(map, data);
    }).catch(function (err) {
      if (window.console) { console.warn("CMF Atlas: basemap not loaded:", err); }
      var note = L.control({position: "bottomleft"});
      note.onAdd = function () {
        var div = L.DomUtil.create("div", "cmf-basemap-missing");
        div.textContent = "Basemap not loaded: reload the page.";
        return div;
      };
      note.addTo(map);
    });
  }

  /* A small legend that folds to one button, like the main legend; whether it is
   * folded is remembered per kind of legend across layer swaps. */
  var legendFolded = {};
  function foldableLegend(cls, key, title, name) {
    var d = el("div", null, "cmf-legend " + cls);
    var btn = el("button", null, "cmf-legend-toggle cmf-legend-toggle-small");
    btn.type = "button";
    var body = el("div", null, "cmf-legend-body");
    body.appendChild(el("h4", title));
    function show() {
      var open = !legendFolded[key];
      body.style.display = open ? "" : "none";
      btn.textContent = (open ? "Hide " : "Show ") + name;
      btn.setAttribute("aria-expanded", open ? "true" : "false");
    }
    btn.addEventListener("click", function () { legendFolded[key] = !legendFolded[key]; show(); });
    d.appendChild(btn);
    d.appendChild(body);
    show();
    L.DomEvent.disableClickPropagation(d);
    L.DomEvent.disableScrollPropagation(d);
    return {box: d, body: body};
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
      var f = foldableLegend("cmf-choro-legend", "choro", spec.title, "shading legend"), d = f.body;
      (spec.legend || []).forEach(function (entry) {
        var r = el("div", null, "row");
        var sw = el("span");
        sw.style.cssText = "display:inline-block;width:14px;height:12px;border:1px solid #777;";
        sw.style.background = /^#[0-9a-fA-F]{3,8}$/.test(entry.color) ? entry.color : "#fff";
        r.appendChild(sw);
        r.appendChild(el("span", entry.label));
        d.appendChild(r);
      });
      return f.box;
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
      var f = foldableLegend("cmf-links-legend", "links", data.title || "Links", "links legend"), d = f.body;
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
      return f.box;
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

  /* ---- The view: fitted in the browser to the map's real size, kept by the browser. ----
   * Python sends a view request (an id, a preset's bounds, and a centre and zoom when a
   * link pins one) with the record layers; the map applies a request once, when its id
   * is new. Filters, layers and selection therefore never move the view, and a preset
   * is fitted with fractional zoom to whatever size the map has. */
  var view = {map: null, request: null, applied: null, auto: true, writer: null};

  function fitRequest(map, req, animate) {
    view.auto = true;
    if (map._animatingZoom) {
      // A zoom animation ending later would put its own zoom back: fit after it.
      map.once("zoomend", function () { fitRequest(map, req, false); });
      return;
    }
    map.stop();
    var pad = S.view.padding;
    map.fitBounds(req.bounds, {paddingTopLeft: pad.top_left, paddingBottomRight: pad.bottom_right,
                               animate: !!animate});
  }

  function applyRequest(map, req, animate) {
    map.invalidateSize({pan: false});  // fit to the size the frame has now
    view.request = req;
    view.applied = req.id;
    if (req.center && req.zoom !== null && req.zoom !== undefined) {
      view.auto = false;
      map.setView(req.center, req.zoom, {animate: false});
    } else {
      fitRequest(map, req, animate);
    }
  }

  function requestView(group, req) {
    function apply() {
      var map = group._map;
      if (!map || view.applied === req.id) { return; }
      applyRequest(map, req, view.applied !== null);
    }
    if (group._map) { apply(); } else { group.once("add", apply); }
  }

  /* The map never shows past the drawn neighbourhood: pan inside it, and zoom out no
   * further than the zoom at which the view still fits inside it. */
  function limitView(map) {
    var b = L.latLngBounds(S.view.max_bounds);
    var z = Math.max(S.view.min_zoom, map.getBoundsZoom(b, true));
    map.options.minZoom = z;
    if (map.getZoom() < z) { map.setZoom(z, {animate: false}); }
  }

  function parentWindow() {
    try {
      var w = window.parent;
      return (w && w !== window && w.location.href) ? w : null;
    } catch (e) { return null; }  // not same-origin (e.g. a saved HTML file): no URL sync
  }

  /* lat/lon/zoom in the page's URL follow the map once the user moves it (debounced, one
   * history entry per settled view, so Back/Forward walk through the views); a fitted
   * preset writes none, so an untouched map keeps a clean link. */
  function writeUrl(map) {
    var w = parentWindow();
    if (!w) { return; }
    var url = new w.URL(w.location.href), p = url.searchParams, c = map.getCenter();
    var before = url.search;
    if (view.auto) {
      p.delete("lat"); p.delete("lon"); p.delete("zoom");
    } else {
      var lon = ((c.lng + 180) % 360 + 360) % 360 - 180;
      p.set("lat", c.lat.toFixed(4)); p.set("lon", lon.toFixed(4));
      p.set("zoom", String(Math.round(map.getZoom() * 100) / 100));
    }
    if (url.search === before) { return; }
    w.history[view.auto ? "replaceState" : "pushState"](w.history.state, "", url.toString());
  }

  function restoreFromUrl(map) {
    var w = parentWindow();
    if (!w) { return; }
    var p = new w.URL(w.location.href).searchParams;
    var lat = parseFloat(p.get("lat")), lon = parseFloat(p.get("lon")), z = parseFloat(p.get("zoom"));
    if (isFinite(lat) && isFinite(lon) && isFinite(z)) {
      view.auto = false;
      map.setView([lat, lon], z, {animate: false});
    } else if (view.request) {
      fitRequest(map, view.request, false);
    }
  }

  /* ---- Popups: inside the map, whatever the symbol's place; the map does not move. ---- */
  function fitPopup(map, popup) {
    var size = map.getSize(), margin = 8;
    var anchor = map.latLngToContainerPoint(popup.getLatLng());
    var maxW = Math.max(160, Math.min(380, size.x - 2 * margin));
    popup.options.maxWidth = maxW;
    popup.options.minWidth = Math.min(240, maxW);
    popup.options.offset = L.point(0, 7);
    // Room above the symbol (where Leaflet opens popups) or, near the top, below it.
    var above = anchor.y - margin - 27, below = size.y - anchor.y - margin - 12;
    var flip = above < 180 && below > above;
    popup.options.maxHeight = Math.max(60, (flip ? below : above) - 40);
    popup.update();
    var el = popup.getElement();
    if (!el) { return; }
    var box = map.getContainer().getBoundingClientRect();
    for (var pass = 0; pass < 3; pass += 1) {
      var w = el.offsetWidth, h = el.offsetHeight, dx = 0;
      if (anchor.x - w / 2 < margin) { dx = margin - (anchor.x - w / 2); }
      if (anchor.x + w / 2 > size.x - margin) { dx = size.x - margin - (anchor.x + w / 2); }
      popup.options.offset = L.point(dx, flip ? h + 12 : 7);
      popup.update();
      // The frame, padding and close button come on top of maxHeight: trim what is over.
      var r = el.getBoundingClientRect();
      var over = flip ? r.bottom - (box.bottom - margin) : (box.top + margin) - r.top;
      if (over <= 0.5) { break; }
      popup.options.maxHeight = Math.max(60, popup.options.maxHeight - over);
      popup.update();
    }
    el.classList.toggle("cmf-popup-below", flip);
    el.classList.toggle("cmf-popup-shifted", popup.options.offset.x !== 0);
  }

  /* ---- The selected record: a ring drawn in the map (not the browser's focus box). ---- */
  var halo = {layer: null, id: null};

  function markSelected(map, id) {
    var lyr = id ? findRecord(id) : null;
    var latlng = lyr ? lyr.getLatLng() : null;
    if (halo.layer && (!latlng || halo.id !== id || !halo.layer.getLatLng().equals(latlng))) {
      map.removeLayer(halo.layer);
      halo.layer = null;
    }
    halo.id = id;
    if (!latlng || halo.layer) { return; }
    var r = (lyr.getRadius ? lyr.getRadius() : S.zone_size * S.scale / 2) + 6 * S.scale;
    halo.layer = L.circleMarker(latlng, {
      pane: "cmf-halo", interactive: false, radius: r, color: S.halo.color, weight: 3 * S.scale,
      opacity: 1, fill: false, className: "cmf-halo"
    }).addTo(map);
  }

  function selectedInUrl() {
    var w = parentWindow();
    return w ? new w.URL(w.location.href).searchParams.get("id") : null;
  }

  function prepareMap(map) {
    // Choropleth under everything; link lines under the record symbols (overlay pane
    // 400, markers 600); the selected record's ring and its links' origin above them.
    // Fund circles and the stack badges go below the dots (overlay pane), so neither a
    // big circle nor a badge beside it can cover a lone dot; diamonds and squares sit
    // in the markers pane above them all.
    [["cmf-choro", 300], ["cmf-links", 390], ["cmf-funds", 392], ["cmf-stacks", 395],
     ["cmf-halo", 640], ["cmf-selection", 650]]
      .forEach(function (pz) {
      if (!map.getPane(pz[0])) {
        map.createPane(pz[0]);
        map.getPane(pz[0]).style.zIndex = pz[1];
      }
    });
    map.getPane("cmf-halo").style.pointerEvents = "none";
    map.getPane("cmf-selection").style.pointerEvents = "none";
    view.map = map;
    // Leaflet's keyboard handler focuses the map on mousedown and restores only this
    // frame's scroll; in an iframe that is partly off-screen the *page* scrolls, the
    // mouseup lands elsewhere and the click on a symbol is lost. Focus without scrolling.
    if (map.keyboard && map.keyboard.enabled()) {
      map.keyboard.disable();  // unbinds the original handler before we replace it
      map.keyboard._onMouseDown = function () {
        if (this._focused) { return; }
        this._map._container.focus({preventScroll: true});
      };
      map.keyboard.enable();
    }
    // Leaflet.markercluster needs a maximum zoom, and there is no tile layer to give one.
    if (!map.options.maxZoom) { map.setMaxZoom(S.view.max_zoom); }
    // The pan limit corrects the view without animation: an animated correction that
    // ends after a fit would put its own zoom back.
    map._panInsideMaxBounds = function () {
      if (!this._enforcingBounds) { this.panInsideBounds(this.options.maxBounds, {animate: false}); }
    };
    limitView(map);
    fitRequest(map, {bounds: S.view.home}, false);
    map.options.maxBoundsViscosity = 1.0;
    map.setMaxBounds(S.view.max_bounds);
    map.on("resize", function () {
      limitView(map);
      // A fitted view stays fitted when the frame changes size (presentation mode).
      if (view.auto && view.request) { fitRequest(map, view.request, false); }
    });
    setTimeout(function () { map.invalidateSize(); }, 50);
    // The frame is sized by the page's CSS after the map is made (and again when the
    // window changes): watch the container itself, not only the window.
    if (window.ResizeObserver) {
      new ResizeObserver(function () { map.invalidateSize({pan: false}); })
        .observe(map.getContainer());
    }
    // Only the user's own moves unpin a fitted view (drag, wheel, double-click, keys,
    // the zoom buttons); the map's own moves (fits, resizes, pan limits) do not.
    var userMoved = function () { view.auto = false; };
    map.on("dragstart", userMoved);
    var box = map.getContainer();
    ["wheel", "dblclick", "touchstart"].forEach(function (t) {
      box.addEventListener(t, userMoved, {passive: true});
    });
    box.addEventListener("keydown", function (e) {
      if (/^(Arrow|\+|-|=|_)/.test(e.key)) { userMoved(); }
    });
    if (map.zoomControl) {
      map.zoomControl.getContainer().addEventListener("click", userMoved);
    }
    map.on("moveend", function () {
      clearTimeout(view.writer);
      view.writer = setTimeout(function () { writeUrl(map); }, S.view.url_delay_ms);
    });
    map.on("popupopen", function (e) { fitPopup(map, e.popup); });
    var w = parentWindow();
    if (w) {
      var onPop = function () { try { restoreFromUrl(map); } catch (err) { /* frame gone */ } };
      w.addEventListener("popstate", onPop);
      window.addEventListener("pagehide", function () { w.removeEventListener("popstate", onPop); });
      // The selection lives in the page's URL (id=...): the ring follows it, including
      // a record opened from a link, a Close in the detail panel and a filter change.
      setInterval(function () { markSelected(map, selectedInUrl()); }, 400);
    }
  }

  /* Record clicks reach the map through the layers' event parents: ring at once. */
  function watchClicks(group) {
    group.on("click", function (e) {
      var p = e.layer && e.layer.feature && e.layer.feature.properties;
      if (p && p.id && p.kind && view.map) { markSelected(view.map, p.id); }
    });
  }

  /* ---- Controls that belong to a record layer set: the legend and the year. ---- */
  // Open or folded: kept across layer swaps; decided by the map's height until the user
  // clicks the toggle.
  var legendOpen = null, legendChosen = false;

  function addLegend(group, markup, title) {
    var ctl = L.control({position: "bottomleft"});
    ctl.onAdd = function (map) {
      var d = L.DomUtil.create("div", "cmf-legend-box");
      var btn = el("button", null, "cmf-legend-toggle");
      btn.type = "button";
      var body = L.DomUtil.create("div", "cmf-legend-body", d);
      body.innerHTML = markup;  // built on the server from constants and escaped labels
      function auto() {
        if (legendChosen) { return; }
        legendOpen = map.getSize().y >= S.legend_open_min_px * Math.min(S.scale, 1.25);
        show();
      }
      function show() {
        body.style.display = legendOpen ? "" : "none";
        btn.textContent = legendOpen ? "Hide " + title.toLowerCase() : "Show " + title.toLowerCase();
        btn.setAttribute("aria-expanded", legendOpen ? "true" : "false");
      }
      map.on("resize", auto);
      ctl.cmfOff = function () { map.off("resize", auto); };
      btn.addEventListener("click", function () {
        legendChosen = true;
        legendOpen = !legendOpen;
        show();
      });
      d.insertBefore(btn, body);
      if (legendOpen === null || !legendChosen) { auto(); } else { show(); }
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      return d;
    };
    group.on("add", function () { if (group._map) { ctl.addTo(group._map); } });
    group.on("remove", function () {
      if (ctl.cmfOff) { ctl.cmfOff(); }
      ctl.remove();
    });
    if (group._map) { ctl.addTo(group._map); }
    return ctl;
  }

  function addYearBadge(group, year) {
    var ctl = L.control({position: "topright"});
    ctl.onAdd = function () {
      var d = el("div", null, "cmf-year");
      d.appendChild(el("div", "As of", "cmf-year-label"));
      d.appendChild(el("div", year, "cmf-year-value"));
      return d;
    };
    group.on("add", function () { if (group._map) { ctl.addTo(group._map); } });
    group.on("remove", function () { ctl.remove(); });
    if (group._map) { ctl.addTo(group._map); }
    return ctl;
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
          loadBasemap: loadBasemap,
          addPlaceLabels: addPlaceLabels, popup: popup, tooltip: tooltip, safeUrl: safeUrl,
          requestView: requestView, addLegend: addLegend, addYearBadge: addYearBadge,
          watchClicks: watchClicks, shownRecords: shownRecords, recordTarget: recordTarget,
          addLinks: addLinks,
          viewState: function () { return {auto: view.auto, applied: view.applied}; }};
})();
