/* CMF Atlas canvas point layer: every point of a large selection in one canvas.
 * The server sends typed arrays packed as base64 (geodata/render/binary.py): Float32
 * lon/lat, a Uint8 symbol code (layer in bits 0-2, designated in bit 3, fund size class
 * in bits 4-7) and the record index (a bitmask or varint gaps, decoded to a Uint32Array).
 * No names, no other fields: a click hands the record index to Python through
 * streamlit-folium (the layer fires "click" with a feature {kind, cmf_row}, which
 * streamlit-folium returns as last_active_drawing) and the detail panel shows the record.
 * Hit-testing uses a grid of the drawn points' screen positions (16 px cells).
 * No text from data is ever drawn or put in the page here. */
window.CMFPoints = (function () {
  "use strict";
  var CELL = 16, KINDS = ["cluster", "fund", "zone", "organisation"];
  var layers = [];
  var stats = {draws: 0, drawn: 0, n: 0, ms: 0, decodeMs: 0, at: 0};

  function bytes(b64) {
    var bin = atob(b64), n = bin.length, u = new Uint8Array(n);
    for (var i = 0; i < n; i++) { u[i] = bin.charCodeAt(i); }
    return u.buffer;
  }

  /* The payload's arrays (see geodata.render.binary.decode_payload, its Python twin). */
  function decode(p) {
    if (p.v !== 2) { throw new Error("CMF points: unknown payload version " + p.v); }
    var n = p.n, buf = n ? bytes(p.data) : new ArrayBuffer(0);
    var rows = new Uint32Array(n), idx = new Uint8Array(buf, p.rows, p.rows_len), k = 0, i;
    if (p.index === "bitmask") {
      for (i = 0; i < idx.length && k < n; i++) {
        var b = idx[i];
        for (var bit = 0; b && bit < 8; bit++, b >>= 1) {
          if (b & 1) { rows[k++] = p.base + i * 8 + bit; }
        }
      }
    } else {
      var pos = 0, acc = p.base;
      for (k = 0; k < n; k++) {
        var val = 0, mul = 1, c;
        do { c = idx[pos++]; val += (c & 0x7f) * mul; mul *= 128; } while (c & 0x80);
        acc += val;
        rows[k] = acc;
      }
    }
    // Coordinates: 24-bit steps from the selection's west and south edges.
    var u8 = new Uint8Array(buf), lon = new Float64Array(n), lat = new Float64Array(n), o;
    for (i = 0; i < n; i++) {
      o = p.lon + 3 * i;
      lon[i] = p.lon0 + (u8[o] | (u8[o + 1] << 8) | (u8[o + 2] << 16)) * p.lon_step;
      o = p.lat + 3 * i;
      lat[i] = p.lat0 + (u8[o] | (u8[o + 1] << 8) | (u8[o + 2] << 16)) * p.lat_step;
    }
    // Web Mercator, 0..1, once per payload (Float64: exact at any zoom).
    var mx = new Float64Array(n), my = new Float64Array(n);
    for (i = 0; i < n; i++) {
      var s = Math.sin(Math.max(-85.05, Math.min(85.05, lat[i])) * Math.PI / 180);
      mx[i] = (lon[i] + 180) / 360;
      my[i] = 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
    }
    return {n: n, lon: lon, lat: lat, code: new Uint8Array(buf, p.code, n), rows: rows,
            mx: mx, my: my};
  }

  /* Symbols shrink when the map is zoomed out over many points: at country scale a
   * full-size symbol per record would paint the provinces solid. */
  function zoomFactor(zoom) { return Math.min(1, Math.max(0.35, (zoom - 2) / 6)); }

  function radius(S, code) {
    var kind = KINDS[code & 7], sc = S.scale * (S.zf || 1);
    if (kind === "fund") {
      var cls = code >> 4;
      if (!cls) { return S.fund_unknown_radius * sc; }
      var size = S.fund_class_base_bn * Math.pow(2, cls - 0.5);
      return S.fund_ref_radius * Math.sqrt(size / S.fund_ref_bn) * sc;
    }
    if (kind === "zone") { return S.zone_size * sc * 0.4; }
    if (kind === "organisation") { return (S.org_size + (code & 8 ? 6 : 0)) * sc / 2; }
    return S.cluster_radius * sc;
  }

  /* A "#rrggbb" colour as the Uint32 of an opaque RGBA pixel (little-endian: ABGR). */
  function abgr(hex) {
    var v = parseInt(String(hex).slice(1), 16);
    return ((255 << 24) | ((v & 0xff) << 16) | (v & 0xff00) | ((v >> 16) & 0xff)) >>> 0;
  }

  /* The pixels of a shape of radius r round its centre, as [dx, dy] pairs (cached). */
  var shapes = {};
  function offsets(shape, r) {
    var key = shape + r;
    if (shapes[key]) { return shapes[key]; }
    var out = [];
    for (var dy = -r; dy <= r; dy++) {
      for (var dx = -r; dx <= r; dx++) {
        var q = dx * dx + dy * dy, inside = shape === "square" ? true
          : shape === "diamond" ? Math.abs(dx) + Math.abs(dy) <= r
          : shape === "ring" ? q <= r * r && q > (r - 1) * (r - 1) : q <= r * r + r * 0.5;
        if (inside) { out.push(dx, dy); }
      }
    }
    shapes[key] = out;
    return out;
  }

  function paint(buf, W, H, x, y, offs, color) {
    for (var k = 0; k < offs.length; k += 2) {
      var px = x + offs[k], py = y + offs[k + 1];
      if (px >= 0 && py >= 0 && px < W && py < H) { buf[py * W + px] = color; }
    }
  }

  var PointLayer = L.Layer.extend({
    initialize: function (payload, settings) {
      var t0 = performance.now();
      this._S = settings;
      this._d = decode(payload);
      this._selected = payload.selected_row === null || payload.selected_row === undefined
        ? -1 : payload.selected_row;
      stats.decodeMs = performance.now() - t0;
      stats.n = this._d.n;
    },

    onAdd: function (map) {
      if (!map.getPane("cmf-points")) {
        map.createPane("cmf-points");
        map.getPane("cmf-points").style.zIndex = 450;
        map.getPane("cmf-points").style.pointerEvents = "none";
      }
      this._canvas = L.DomUtil.create("canvas", "cmf-points-canvas");
      this._canvas.style.position = "absolute";
      map.getPane("cmf-points").appendChild(this._canvas);
      this._tip = L.tooltip({direction: "top", opacity: 0.95, offset: [0, -6]});
      map.on("moveend zoomend resize viewreset", this._schedule, this);
      map.on("zoomstart", this._hide, this);
      map.on("click", this._onClick, this);
      map.on("mousemove", this._onMove, this);
      map.on("mouseout", this._leave, this);
      layers.push(this);
      this._redraw();
    },

    onRemove: function (map) {
      map.off("moveend zoomend resize viewreset", this._schedule, this);
      map.off("zoomstart", this._hide, this);
      map.off("click", this._onClick, this);
      map.off("mousemove", this._onMove, this);
      map.off("mouseout", this._leave, this);
      this._leave();
      L.DomUtil.remove(this._canvas);
      layers = layers.filter(function (l) { return l !== this; }, this);
    },

    /* One redraw per frame, however many view events arrive together. */
    _schedule: function () {
      var self = this;
      if (self._queued) { return; }
      self._queued = true;
      window.requestAnimationFrame(function () { self._queued = false; self._redraw(); });
    },

    _hide: function () { if (this._canvas) { this._canvas.style.visibility = "hidden"; } },

    _redraw: function () {
      var map = this._map;
      if (!map) { return; }
      var t0 = performance.now(), S = this._S, d = this._d;
      S.zf = zoomFactor(map.getZoom());
      var size = map.getSize(), w = size.x, h = size.y, ratio = window.devicePixelRatio || 1;
      var cv = this._canvas;
      cv.width = Math.round(w * ratio);
      cv.height = Math.round(h * ratio);
      cv.style.width = w + "px";
      cv.style.height = h + "px";
      cv.style.visibility = "";
      L.DomUtil.setPosition(cv, map.containerPointToLayerPoint([0, 0]));
      var ctx = cv.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, w, h);
      var world = 256 * Math.pow(2, map.getZoom()), origin = map.getPixelBounds().min;
      var xs = new Float32Array(d.n), ys = new Float32Array(d.n), vis = new Uint8Array(d.n);
      var cols = Math.ceil(w / CELL) + 1, nrows = Math.ceil(h / CELL) + 1;
      var counts = new Uint32Array(cols * nrows + 1), visible = 0, i, pad = 40 * S.scale;
      for (i = 0; i < d.n; i++) {
        var x = d.mx[i] * world - origin.x, y = d.my[i] * world - origin.y;
        xs[i] = x;
        ys[i] = y;
        if (x < -pad || y < -pad || x > w + pad || y > h + pad) { continue; }
        vis[i] = 1;
        visible++;
        if (x >= 0 && y >= 0 && x < w && y < h) { counts[((y / CELL) | 0) * cols + ((x / CELL) | 0) + 1]++; }
      }
      // The grid: points by cell (a counting sort), for hit-testing.
      for (i = 1; i < counts.length; i++) { counts[i] += counts[i - 1]; }
      var fill = counts.slice(0, cols * nrows), items = new Uint32Array(counts[cols * nrows]);
      for (i = 0; i < d.n; i++) {
        if (vis[i] && xs[i] >= 0 && ys[i] >= 0 && xs[i] < w && ys[i] < h) {
          items[fill[((ys[i] / CELL) | 0) * cols + ((xs[i] / CELL) | 0)]++] = i;
        }
      }
      this._grid = {cols: cols, nrows: nrows, start: counts, items: items, xs: xs, ys: ys};
      var drawn = visible > S.raster_min
        ? this._raster(ctx, xs, ys, vis, Math.round(w * ratio), Math.round(h * ratio), ratio)
        : this._vector(ctx, xs, ys, vis, w, h);
      this._drawSelected(ctx);
      stats.draws += 1;
      stats.drawn = drawn;
      stats.visible = visible;
      stats.raster = visible > S.raster_min;
      stats.ms = performance.now() - t0;
      stats.at = performance.now();
    },

    /* Many points: each symbol's pixels written straight into one ImageData (a filled
     * disc, square or diamond with a one-pixel outline; funds as rings, since a million
     * translucent discs would take seconds to blend). Returns the symbols drawn. */
    _raster: function (ctx, xs, ys, vis, W, H, ratio) {
      var S = this._S, d = this._d, img = ctx.createImageData(W, H);
      var buf = new Uint32Array(img.data.buffer), order = S.draw_order, drawn = 0;
      var seen = new Int32Array(W * H).fill(-1);
      for (var o = 0; o < order.length; o++) {
        var kind = order[o], kcode = KINDS.indexOf(kind);
        var fill = abgr(S.colors[kind]), edge = abgr(S.strokes[kind]);
        var shape = kind === "organisation" ? "square" : kind === "zone" ? "diamond" : "disc";
        for (var i = 0; i < d.n; i++) {
          var c = d.code[i];
          if (!vis[i] || (c & 7) !== kcode) { continue; }
          var x = Math.round(xs[i] * ratio), y = Math.round(ys[i] * ratio);
          if (x < 0 || y < 0 || x >= W || y >= H) { continue; }
          var key = y * W + x, stamp = (c << 8) | o;
          if (seen[key] === stamp) { continue; }
          seen[key] = stamp;
          drawn++;
          var r = Math.max(1, Math.floor(radius(S, c) * ratio));
          if (kind === "fund") {
            paint(buf, W, H, x, y, offsets("ring", r), edge);
            continue;
          }
          paint(buf, W, H, x, y, offsets(shape, r), edge);
          if (r > 1) { paint(buf, W, H, x, y, offsets(shape, r - 1), fill); }
        }
      }
      ctx.putImageData(img, 0, 0);
      return drawn;
    },

    /* Fewer points: each symbol as a path, as the per-record layer draws it. */
    _vector: function (ctx, xs, ys, vis, w, h) {
      var S = this._S, d = this._d, i;
      // Draw layer by layer in the map's order (big translucent funds underneath); a
      // symbol on a pixel where the same symbol is already drawn is skipped.
      var seen = new Int32Array(w * h).fill(-1), order = S.draw_order, drawn = 0;
      for (var o = 0; o < order.length; o++) {
        var kcode = KINDS.indexOf(order[o]), kind = order[o];
        ctx.fillStyle = S.colors[kind];
        ctx.strokeStyle = S.strokes[kind];
        ctx.lineWidth = 1.2 * S.zf;
        ctx.globalAlpha = kind === "fund" ? 0.35 : 0.95;
        ctx.beginPath();
        var hollow = [];
        for (i = 0; i < d.n; i++) {
          var c = d.code[i];
          if (!vis[i] || (c & 7) !== kcode) { continue; }
          var px = xs[i] | 0, py = ys[i] | 0, key = py * w + px;
          var stamp = (c << 8) | o;
          if (px >= 0 && py >= 0 && px < w && py < h) {
            if (seen[key] === stamp) { continue; }
            seen[key] = stamp;
          }
          drawn++;
          var r = radius(S, c);
          if (kind === "fund" && !(c >> 4)) { hollow.push(i); continue; }
          if (kind === "organisation") {
            ctx.rect(xs[i] - r, ys[i] - r, 2 * r, 2 * r);
          } else if (kind === "zone") {
            ctx.moveTo(xs[i], ys[i] - r);
            ctx.lineTo(xs[i] + r, ys[i]);
            ctx.lineTo(xs[i], ys[i] + r);
            ctx.lineTo(xs[i] - r, ys[i]);
            ctx.closePath();
          } else {
            ctx.moveTo(xs[i] + r, ys[i]);
            ctx.arc(xs[i], ys[i], r, 0, 2 * Math.PI);
          }
        }
        ctx.fill();
        ctx.globalAlpha = 1;
        ctx.stroke();
        if (hollow.length) {
          ctx.beginPath();
          hollow.forEach(function (j) {
            var rr = radius(S, d.code[j]);
            ctx.moveTo(xs[j] + rr, ys[j]);
            ctx.arc(xs[j], ys[j], rr, 0, 2 * Math.PI);
          });
          ctx.setLineDash([3, 3]);
          ctx.stroke();
          ctx.setLineDash([]);
        }
      }
      return drawn;
    },

    _drawSelected: function (ctx) {
      var i = this._indexOfRow(this._selected);
      if (i < 0) { return; }
      var g = this._grid, r = radius(this._S, this._d.code[i]) + 5 * this._S.scale;
      ctx.beginPath();
      ctx.arc(g.xs[i], g.ys[i], r, 0, 2 * Math.PI);
      ctx.lineWidth = 3 * this._S.scale;
      ctx.strokeStyle = this._S.halo;
      ctx.stroke();
    },

    _indexOfRow: function (row) {
      var rows = this._d.rows, lo = 0, hi = rows.length - 1;
      if (row < 0) { return -1; }
      while (lo <= hi) {
        var mid = (lo + hi) >> 1;
        if (rows[mid] === row) { return mid; }
        if (rows[mid] < row) { lo = mid + 1; } else { hi = mid - 1; }
      }
      return -1;
    },

    /* Points under a container point: the nearest first, and how many are there. */
    hits: function (p) {
      var g = this._grid;
      if (!g) { return []; }
      var cx = (p.x / CELL) | 0, cy = (p.y / CELL) | 0, out = [], S = this._S, d = this._d;
      for (var yy = cy - 3; yy <= cy + 3; yy++) {
        for (var xx = cx - 3; xx <= cx + 3; xx++) {
          if (xx < 0 || yy < 0 || xx >= g.cols || yy >= g.nrows) { continue; }
          var cell = yy * g.cols + xx;
          for (var j = g.start[cell]; j < g.start[cell + 1]; j++) {
            var i = g.items[j], dx = g.xs[i] - p.x, dy = g.ys[i] - p.y;
            var dist = Math.sqrt(dx * dx + dy * dy), r = Math.max(radius(S, d.code[i]), 4) + 2;
            if (dist <= r) { out.push({i: i, dist: dist, r: r}); }
          }
        }
      }
      // The smallest symbol wins among those hit (a dot on top of a big fund circle),
      // then the nearest.
      out.sort(function (a, b) { return (a.r - b.r) || (a.dist - b.dist); });
      return out;
    },

    _feature: function (i) {
      var d = this._d;
      return {type: "Feature",
              geometry: {type: "Point", coordinates: [d.lon[i], d.lat[i]]},
              properties: {kind: KINDS[d.code[i] & 7], cmf_row: d.rows[i]}};
    },

    _onClick: function (e) {
      var hit = this.hits(e.containerPoint);
      if (!hit.length) { return; }
      var i = hit[0].i, feature = this._feature(i);
      this._selected = this._d.rows[i];
      this._redraw();
      // streamlit-folium listens to "click" on every layer and returns
      // e.layer.toGeoJSON() as last_active_drawing.
      this.fire("click", {latlng: L.latLng(this._d.lat[i], this._d.lon[i]),
                          layer: {toGeoJSON: function () { return feature; }}});
    },

    _onMove: function (e) {
      var self = this;
      if (self._moveQueued) { self._lastMove = e; return; }
      self._lastMove = e;
      self._moveQueued = true;
      window.requestAnimationFrame(function () {
        self._moveQueued = false;
        if (!self._map) { return; }
        var ev = self._lastMove, hit = self.hits(ev.containerPoint);
        self._map.getContainer().style.cursor = hit.length ? "pointer" : "";
        if (!hit.length) { self._leave(); return; }
        var i = hit[0].i, S = self._S, d = self._d;
        var div = document.createElement("div");
        div.className = "cmf-tip";
        var head = document.createElement("div");
        head.className = "cmf-tip-en";
        head.textContent = S.kinds[KINDS[d.code[i] & 7]];
        div.appendChild(head);
        var more = document.createElement("div");
        more.className = "cmf-tip-zh";
        more.textContent = (hit.length > 1 ? hit.length + " records here · " : "") +
          "click for its details";
        div.appendChild(more);
        self._tip.setLatLng(L.latLng(d.lat[i], d.lon[i])).setContent(div);
        if (!self._tip._map) { self._tip.addTo(self._map); }
      });
    },

    _leave: function () {
      if (this._tip && this._tip._map) { this._tip.remove(); }
    }
  });

  /* Adds the points of ``payload`` to ``target`` (the record feature group or the map). */
  function add(target, payload, settings) {
    var layer = new PointLayer(payload, settings);
    target.addLayer(layer);
    return layer;
  }

  /* For tests and benchmarks: the drawing statistics, and where a record is on screen. */
  function screenPoint(row) {
    for (var k = layers.length - 1; k >= 0; k--) {
      var l = layers[k], i = l._indexOfRow(row);
      if (i >= 0 && l._grid) { return {x: l._grid.xs[i], y: l._grid.ys[i]}; }
    }
    return null;
  }

  function someRows(count) {
    var l = layers[layers.length - 1], out = [];
    if (!l || !l._grid) { return out; }
    var size = l._map.getSize();
    for (var i = 0; i < l._d.n && out.length < count; i++) {
      var x = l._grid.xs[i], y = l._grid.ys[i];
      if (x > 60 && y > 60 && x < size.x - 60 && y < size.y - 60 && l.hits({x: x, y: y}).length === 1) {
        out.push(l._d.rows[i]);
      }
    }
    return out;
  }

  return {add: add, decode: decode, screenPoint: screenPoint, someRows: someRows,
          stats: function () { return Object.assign({layers: layers.length}, stats); }};
})();
