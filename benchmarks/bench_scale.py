"""The map at scale, in a real browser: ours against stock folium and st.pydeck_chart.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--n 10000 100000 1000000]
[--json OUT.json] [--skip-folium-above N]``

For each N, synthetic records (``bench_store.synthetic_frame``: places
around provincial capitals, every layer, a third of funds unsized) are
written as a GeoParquet data folder and compiled to the store, then timed:

1. **store**: open the store with its query index (cold: index built; warm:
   median of 5), and the median of 20 sidebar-like filters on the server
   (row positions, ``AtlasStore.filter_rows``).
2. **ours**: the dashboard (``CMF_ATLAS_DATA`` = the folder) in headless
   Chromium at 1920x1080. A first page open warms the server; then a fresh
   page is timed from navigation until the canvas point layer has drawn
   every point (``CMFPoints.stats()``), and five filter changes (the zones
   layer switched off, on, off, on, off in the sidebar), each until the new
   selection is drawn: the first (one-off costs of a server process) and the
   median of the other four are reported.
   Bytes: every WebSocket frame the page receives, and all HTTP response
   bodies. Server memory: the Streamlit process's resident set now and at
   its peak (VmRSS, VmHWM).
3. **folium**: a stock folium map (one ``CircleMarker`` per record, SVG,
   Leaflet from the local copy), built in Python, then opened from a local
   HTTP server until every marker is in the page.
4. **pydeck**: ``benchmarks/pydeck_app.py`` (``st.pydeck_chart``, one
   ScatterplotLayer, no basemap) opened until deck.gl's canvas is in the page
   and the WebSocket has been quiet for 1 s (deck.gl gives no "drawn" signal
   a page can read, so this is an upper bound of data arrival, a lower bound
   of drawing); and a filter change (zones hidden) the same way.

Runs once; prints a table and (``--json``) writes the numbers. Nothing is
asserted: the targets are in issue 13 and benchmarks/README.md. The machine's
load is printed with the numbers (``uptime``).
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import os
import socketserver
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_store import sidebar_filters, synthetic_frame  # noqa: E402

from dashboard.launch import free_port, start_dashboard  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]
VIEWPORT = {"width": 1920, "height": 1080}
MAP_FRAME_HINT = "streamlit_folium"


@contextlib.contextmanager
def _running(proc: subprocess.Popen):
    """Stop the server ``proc`` when the block ends, however it ends."""
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _mem(pid: int) -> dict[str, float]:
    """Resident and peak resident memory of a process and its children (MB)."""
    out = {"rss_mb": 0.0, "hwm_mb": 0.0}
    pids = [pid]
    try:
        kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        pids += [int(p) for p in kids.split()]
    except OSError:
        pass
    for p in pids:
        try:
            text = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("VmRSS:"):
                out["rss_mb"] += int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                out["hwm_mb"] += int(line.split()[1]) / 1024
    return out


class Wire:
    """Bytes a page receives: WebSocket frames and HTTP response bodies."""

    def __init__(self, page):
        self.ws = 0
        self.frames = 0
        self.last = 0.0  # perf_counter of the last frame
        self.requests: list = []
        page.on("websocket", self._on_ws)
        page.on("requestfinished", lambda r: self.requests.append(r))

    def _on_ws(self, ws) -> None:
        ws.on("framereceived", self._on_frame)

    def _on_frame(self, payload) -> None:
        self.frames += 1
        self.ws += len(payload)
        self.last = time.perf_counter()

    def http(self) -> int:
        total = 0
        for r in self.requests:
            try:
                sizes = r.sizes()
                total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
            except Exception:  # the page went away before its sizes were read
                pass
        return total


def _map_frame(page):
    for fr in page.frames:
        if MAP_FRAME_HINT in (fr.url or "") or fr.name == "":
            try:
                if fr.evaluate("() => !!window.CMFPoints"):
                    return fr
            except Exception:
                continue
    return None


def _wait(predicate, timeout_s: float, step_s: float = 0.05):
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception:
            pass
        time.sleep(step_s)
    return None


def _points_stats(page):
    fr = _map_frame(page)
    return fr.evaluate("() => CMFPoints.stats()") if fr else None


def bench_ours(browser, data_dir: Path, cache: Path, n_drawn: int, n_after: int) -> dict:
    log = Path(tempfile.gettempdir()) / f"bench-scale-{data_dir.name}.log"
    t0 = time.perf_counter()
    proc, url = start_dashboard({"CMF_ATLAS_DATA": str(data_dir), "CMF_ATLAS_CACHE": str(cache)},
                                log, timeout_s=120)
    out: dict = {"server_start_s": time.perf_counter() - t0}
    with _running(proc):
        def drawn(page):
            s = _points_stats(page)
            return s if s and s["n"] == n_drawn and s["draws"] > 0 else None

        # Cold: the first page open after the server starts (loads the store).
        ctx, page, _, out["cold_open_s"], _ = _timed_open(browser, url, drawn, 600)
        ctx.close()
        # Warm: a fresh page, timed from navigation until every point is drawn.
        ctx, page, wire, out["open_s"], stats = _timed_open(browser, url, drawn, 300)
        out["draw_ms"] = stats["ms"] if stats else None
        out["decode_ms"] = stats["decodeMs"] if stats else None
        # Let the page settle (the records table, downloads), then count its bytes.
        _quiet(wire, 1.5, 60)
        out["open_ws_bytes"] = wire.ws
        out["open_ws_frames"] = wire.frames
        out["open_http_bytes"] = wire.http()
        # Filter change: switch the zones layer off in the sidebar; then on, off, on,
        # off again. The first change in a server process pays one-off costs (the
        # first copy of a large selection); the others show what a user then sees.
        toggle = '[data-testid="stSidebar"] label:has-text("Demonstration zones")'
        times, sizes = [], []
        for want in (n_after, n_drawn, n_after, n_drawn, n_after):
            draws = (_points_stats(page) or {}).get("draws", 0)
            seconds, size = _timed_click(
                page, wire, toggle,
                lambda want=want, draws=draws: (s := _points_stats(page))
                and s["n"] == want and s["draws"] > draws)
            times.append(seconds)
            sizes.append(size)
        out["filter_redraw_s"], out["filter_ws_bytes"] = times[0], sizes[0]
        out["filter_redraws_s"] = times
        later = [t for t in times[1:] if t is not None]
        out["filter_redraw_median_s"] = statistics.median(later) if later else None
        out["server"] = _mem(proc.pid)
        ctx.close()
    return out


def _timed_open(browser, url: str, ready, timeout_s: float):
    """A fresh 1920x1080 page opened at ``url``, timed until ``ready(page)`` is truthy.

    Returns ``(context, page, wire, seconds or None, ready's value)``; the
    caller closes the context.
    """
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    wire = Wire(page)
    t0 = wire.started = time.perf_counter()
    page.goto(url)
    value = _wait(lambda: ready(page), timeout_s)
    return ctx, page, wire, (time.perf_counter() - t0) if value else None, value


def _timed_click(page, wire: Wire, selector: str, ready, *, settle: bool = False):
    """Click ``selector``; (seconds until ``ready()``, WebSocket bytes the change brought).

    ``settle``: time until the last frame the change brought instead (for a
    page that gives no "drawn" signal).
    """
    before = wire.ws
    page.locator(selector).click(timeout=300_000)  # a page busy with 1M points is slow to answer
    t0 = time.perf_counter()
    ok = _wait(ready, 300)
    seconds = time.perf_counter() - t0 if ok else None
    _quiet(wire, 1.5, 120)
    if settle and ok:
        seconds = wire.last - t0
    return seconds, wire.ws - before


def _quiet(wire: Wire, quiet_s: float, timeout_s: float) -> None:
    """Wait until no WebSocket frame has arrived for ``quiet_s``."""
    deadline = time.perf_counter() + timeout_s
    last, since = wire.frames, time.perf_counter()
    while time.perf_counter() < deadline:
        time.sleep(0.1)
        if wire.frames != last:
            last, since = wire.frames, time.perf_counter()
        elif time.perf_counter() - since >= quiet_s:
            return


def bench_folium(browser, frame, timeout_s: float) -> dict:
    """A stock folium map, one CircleMarker per record, opened until all are in the page."""
    import folium

    from geodata.render.assets import install_offline_assets

    t0 = time.perf_counter()
    m = folium.Map(location=[35, 104], zoom_start=4, tiles=None)
    placed = frame[frame["lat"].notna()]
    for lat, lon, name in zip(placed["lat"], placed["lon"], placed["name_en"], strict=True):
        folium.CircleMarker([lat, lon], radius=4, tooltip=name, fill=True).add_to(m)
    html = m.get_root().render()
    build_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        static = Path(tmp)
        leaflet = install_offline_assets(static)
        # Leaflet from the local copy instead of folium's CDN (the machine is offline).
        rel = leaflet.relative_to(static).as_posix()
        html = html.replace("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/", f"/{rel}/")
        (static / "index.html").write_text(html, encoding="utf-8")
        port = free_port()
        handler = lambda *a: http.server.SimpleHTTPRequestHandler(  # noqa: E731
            *a, directory=str(static))
        http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
        with socketserver.TCPServer(("127.0.0.1", port), handler) as httpd:
            threading.Thread(target=httpd.serve_forever, daemon=True).start()
            ctx = browser.new_context(viewport=VIEWPORT)
            page = ctx.new_page()
            wire = Wire(page)
            t0 = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/index.html", timeout=timeout_s * 1000)
            count = "() => document.querySelectorAll('path.leaflet-interactive').length"
            ok = _wait(lambda: page.evaluate(count) >= len(placed), timeout_s, 0.5)
            open_s = time.perf_counter() - t0 if ok else None
            http_bytes = wire.http()
            ctx.close()
            httpd.shutdown()
    return {"build_s": build_s, "html_mb": len(html) / 1e6, "open_s": open_s,
            "http_bytes": http_bytes, "timeout_s": timeout_s}


def bench_pydeck(browser, store_file: Path, n_drawn: int) -> dict:
    """``st.pydeck_chart`` of the same points: page open and a filter change."""
    port = free_port()
    log = Path(tempfile.gettempdir()) / "bench-scale-pydeck.log"
    with log.open("w") as out_log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "benchmarks/pydeck_app.py",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true"],
            cwd=ROOT, env={**os.environ, "BENCH_PARQUET": str(store_file)},
            stdout=out_log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    out: dict = {}
    with _running(proc):
        import urllib.request

        _wait(lambda: urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200,
              60, 0.3)
        canvas = '[data-testid="stDeckGlJsonChart"] canvas'
        caption = f"{n_drawn:,} points"
        def shown(page):
            return page.locator(canvas).count() > 0 and caption in page.inner_text("body")

        # Warm the server (the points are read once and cached).
        ctx, *_ = _timed_open(browser, url, shown, 600)
        ctx.close()
        ctx, page, wire, _, ok = _timed_open(browser, url, shown, 300)
        _quiet(wire, 1.0, 120)
        # Until the last frame of the page's data arrived (deck.gl says nothing when drawn).
        out["open_s"] = (wire.last - wire.started) if ok else None
        out["open_ws_bytes"] = wire.ws
        out["open_http_bytes"] = wire.http()
        out["filter_s"], out["filter_ws_bytes"] = _timed_click(
            page, wire, 'label:has-text("Hide zones")',
            lambda: caption not in page.inner_text("body"), settle=True)
        out["server"] = _mem(proc.pid)
        ctx.close()
    return out


def bench_store(store_file: Path, cache: Path) -> dict:
    from geodata.query.engine import open_store

    t0 = time.perf_counter()
    store = open_store(store_file, index_dir=cache)
    cold = time.perf_counter() - t0
    store.close()
    opens = []
    for _ in range(5):
        t0 = time.perf_counter()
        store = open_store(store_file, index_dir=cache)
        opens.append(time.perf_counter() - t0)
        store.close()
    store = open_store(store_file, index_dir=cache)
    times = []
    for flt in sidebar_filters(20):
        t0 = time.perf_counter()
        store.filter_rows(flt)
        times.append(time.perf_counter() - t0)
    store.close()
    return {"open_cold_s": cold, "open_s": statistics.median(opens),
            "filter_ms": 1000 * statistics.median(times),
            "filter_p95_ms": 1000 * sorted(times)[int(0.95 * (len(times) - 1))]}


def run(n: int, browser, folium_max: int, workdir: Path) -> dict:
    from geodata.store.cache import store_path
    from geodata.store.geoparquet import write_store

    data_dir, cache = workdir / f"data-{n}", workdir / f"cache-{n}"
    data_dir.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    frame = synthetic_frame(n)
    source = write_store(frame, data_dir / "records.parquet")
    # The generated records are valid by construction: write the compiled store
    # directly (compiling validates each row with pydantic, a one-off cost per
    # file change measured by bench_store.py) so the run measures serving.
    store_file = write_store(frame, store_path([source], cache))
    result: dict = {"n": n, "generate_s": time.perf_counter() - t0}
    result["store"] = bench_store(store_file, cache)
    n_placed = int(frame["lat"].notna().sum())
    n_after = int((frame["lat"].notna() & (frame["kind"] != "zone")).sum())
    result["ours"] = bench_ours(browser, data_dir, cache, n_placed, n_after)
    # A comparison that fails is reported as such; it does not lose the run.
    if n <= folium_max:
        result["folium"] = _guarded(lambda: bench_folium(browser, frame, timeout_s=300))
    result["pydeck"] = _guarded(lambda: bench_pydeck(browser, store_file, n_placed))
    return result


def _guarded(measure) -> dict:
    try:
        return measure()
    except Exception as exc:  # any failure of a comparison: reported in its column
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}


def _fmt(v, unit="", digits=2):
    return "—" if v is None else f"{v:,.{digits}f}{unit}"


def _pair(a, b, unit: str, digits: int = 2) -> str:
    return f"{_fmt(a, unit, digits)} / {_fmt(b, unit, digits)}"


def _per(value, n: int, digits: int = 1) -> str:
    return _fmt(None if value is None else value / n, " B", digits)


#: The report's rows: a label and how to read the cell from one N's results.
ROWS: list[tuple[str, object]] = [
    ("open the store, warm / cold (cold builds the index)",
     lambda r: _pair(r["store"]["open_s"], r["store"]["open_cold_s"], " s", 3)),
    ("a filter on the server, median / p95",
     lambda r: _pair(r["store"]["filter_ms"], r["store"]["filter_p95_ms"], " ms", 1)),
    ("ours: page open → all points drawn (warm server)", lambda r: _fmt(r["ours"]["open_s"], " s")),
    ("ours: first page open after a server start", lambda r: _fmt(r["ours"]["cold_open_s"], " s")),
    ("ours: canvas draw / decode in the browser",
     lambda r: _pair(r["ours"]["draw_ms"], r["ours"]["decode_ms"], " ms", 0)),
    ("ours: filter change → redrawn, first / median of the next four",
     lambda r: _pair(r["ours"]["filter_redraw_s"], r["ours"]["filter_redraw_median_s"], " s")),
    ("ours: WebSocket bytes per record, page open",
     lambda r: _per(r["ours"]["open_ws_bytes"], r["n"])),
    ("ours: all bytes per record (WebSocket + HTTP)",
     lambda r: _per(r["ours"]["open_ws_bytes"] + r["ours"]["open_http_bytes"], r["n"])),
    ("ours: WebSocket bytes per record, filter change",
     lambda r: _per(r["ours"]["filter_ws_bytes"], r["n"])),
    ("ours: server memory now / peak",
     lambda r: _pair(r["ours"]["server"]["rss_mb"], r["ours"]["server"]["hwm_mb"], " MB", 0)),
    ("folium (one CircleMarker each): build in Python",
     lambda r: _fmt(r["folium"]["build_s"], " s")),
    ("folium: page open → all markers in the page",
     lambda r: _fmt(r["folium"]["open_s"], " s") if r["folium"]["open_s"]
     else f"> {r['folium']['timeout_s']} s"),
    ("folium: bytes per record", lambda r: _per(r["folium"]["http_bytes"], r["n"], 0)),
    ("pydeck: page open → canvas, data in", lambda r: _fmt(r["pydeck"]["open_s"], " s")),
    ("pydeck: filter change", lambda r: _fmt(r["pydeck"]["filter_s"], " s")),
    ("pydeck: WebSocket bytes per record, open / filter",
     lambda r: f"{_per(r['pydeck']['open_ws_bytes'], r['n'])} / "
     f"{_per(r['pydeck']['filter_ws_bytes'], r['n'])}"),
    ("pydeck: server memory now / peak",
     lambda r: _pair(r["pydeck"]["server"]["rss_mb"], r["pydeck"]["server"]["hwm_mb"], " MB", 0)),
]


def report(results: list[dict]) -> str:
    """The numbers as a Markdown table, one column per N."""
    lines = ["| | " + " | ".join(f"{r['n']:,}" for r in results) + " |",
             "|---|" + "---|" * len(results)]
    for name, get in ROWS:
        cells = []
        for r in results:
            try:
                cells.append(get(r))
            except (KeyError, TypeError):
                cells.append("—")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--json", type=Path, help="write the numbers here")
    parser.add_argument("--skip-folium-above", type=int, default=100_000,
                        help="no stock-folium run above this many records")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    load = {"before": os.getloadavg()}
    results = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for n in args.n:
            results.append(run(n, browser, args.skip_folium_above, Path(tmp)))
            print(json.dumps(results[-1]), flush=True)
        browser.close()
    load["after"] = os.getloadavg()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(report(results))
    print(f"load average before {load['before']}, after: {uptime}")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "load": load, "uptime": uptime,
                                         "cpus": os.cpu_count()}, indent=2))


if __name__ == "__main__":
    main()
