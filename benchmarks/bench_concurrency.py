"""Concurrent users: N browser sessions each make M filter changes on one local server.

Run: ``.venv/bin/python benchmarks/bench_concurrency.py [--sessions 25] [--changes 20]``

Starts ``streamlit run dashboard/app.py`` on a free port of 127.0.0.1 (or
uses ``--url``, which must be a localhost address), then opens N sessions
as Playwright contexts in one headless Chromium, arriving ``--ramp`` seconds
apart (25 tabs opened in the same instant spend longer than a page-load
timeout parsing Streamlit's JavaScript on two cores before the server sees
a single request). Each loads the map, waits
until it is drawn, and then makes M filter changes in turn, cycling through
four: untick *Funds*, tick it again, search a name, clear the search. Layer
changes alter the legend, so the map's frame is rebuilt; searches only swap
the record layers, the lighter path. With ``--user-data`` each session first
uploads a small CSV of its own and adds it, so the user's layer is drawn and
filtered too.

Response time (what p50/p95 measure): from the input event that changes a
filter (the click on the checkbox, Enter in the search box) until the page
has *settled*: the map draws exactly the symbols the new filter selects
(computed with :func:`geodata.query.filters.filter_records` on the same data, so
a stale map never counts) and Streamlit no longer shows its running
indicator. Polled every 50 ms in the page.

Errors: a change that does not settle within ``--timeout`` seconds, a page
that fails to load, an uncaught script error in a page, or a Streamlit
exception box.

Server memory: RSS of the streamlit process and its children, read from
``/proc`` every 0.5 s: before any session, the peak, and 5 s after all
sessions closed.

All sessions share one machine with the server, so on a small machine the
browser's own rendering competes with the server for CPU and inflates the
times; the script prints the CPU count so numbers can be read in context.
The whole run is bounded by ``--budget`` seconds.

``--mode protocol`` replaces the browsers by websocket clients that speak
Streamlit's own protocol (:class:`ProtocolClient`): the same reruns reach the
server, but no page is drawn, so the numbers are the server's alone. A
response then ends at the server's ``script_finished``, and the counts are
read from the page's metrics instead of the map.

Measured on 2 cores, 24 GB, the 33 curated records, 20 changes per session
(November 2026; "pauses" is ``--think 3``, a random pause averaging 3 s):

=========================================  ======  =======  =======  ==========
run                                        errors  p50      p95      server RSS
=========================================  ======  =======  =======  ==========
25 protocol clients, pauses averaging 3 s  0        0.26 s   1.92 s  443 MB peak
25 protocol clients, no pauses             0        3.81 s   4.82 s  467 MB peak
25 browser pages, no pauses                0       10.4 s   20.1 s   460 MB peak
5 browser pages with user data, no pauses  0        2.25 s   3.64 s  348 MB peak
1 browser page                             0        0.50 s   0.73 s  287 MB peak
=========================================  ======  =======  =======  ==========

A map change costs the server about 0.11 s of CPU (one protocol client:
p50 0.11 s). The server runs one rerun at a time (Python's GIL), so 25
sessions changing filters back to back queue for about 25 x 0.15 s. With 25
browser pages, Chromium drawing them took all of both cores (the server used
a quarter of one), so those times measure this machine's browser more than
the server. Before the basemap was serialised once and Streamlit's
post-rerun garbage collection was turned off, a change cost 0.40 s and 25
protocol clients without pauses saw p50 11.1 s, p95 15.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from dashboard.launch import start_dashboard
from geodata.model.frame import records_to_frame
from geodata.model.schema import KINDS
from geodata.query.filters import RecordFilter, filter_records
from geodata.store.load import DATASET_DIR, default_dataset_paths, load_records

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
USER_CSV = (
    "name,lat,lon,year\n"
    "Bench site A,39.1,117.2,2018\n"
    "Bench site B,30.5,114.4,2019\n"
    "Bench site C,23.1,113.3,2020\n"
)

#: True once the map draws exactly ``n`` curated and ``u`` user symbols and no run is going.
SETTLED_JS = """([n, u]) => {
    if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
    const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
    const d = f && f.contentDocument;
    if (!d || !d.querySelector('.cmf-legend')) return false;
    return d.querySelectorAll('.cmf-symbol').length === n
        && d.querySelectorAll('.cmf-user-symbol').length === u;
}"""


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    load_times: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)
    loaded: int = 0
    all_loaded: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class Change:
    name: str
    kind: str  # "toggle" or "search"
    arg: str
    expected: int


def plan_changes(data_dir: Path, count: int) -> tuple[int, list[Change]]:
    """The initial symbol count and ``count`` changes, each altering the count."""
    frame = records_to_frame(load_records(default_dataset_paths(data_dir)))
    total = len(filter_records(frame, RecordFilter()))
    no_funds = len(filter_records(frame, RecordFilter(kinds=frozenset(KINDS) - {"fund"})))
    term = next(
        (w for name in frame["name_en"] for w in name.split()
         if len(w) > 3 and 0 < len(filter_records(frame, RecordFilter(search=w))) < total),
        None,
    )
    if term is None or no_funds == total:
        raise SystemExit(f"{data_dir}: the data cannot tell the changes apart; use other data")
    searched = len(filter_records(frame, RecordFilter(search=term)))
    cycle = [
        Change("untick Funds", "toggle", "Funds", no_funds),
        Change("tick Funds", "toggle", "Funds", total),
        Change(f"search {term!r}", "search", term, searched),
        Change("clear search", "search", "", total),
    ]
    return total, [cycle[i % len(cycle)] for i in range(count)]


def think_time(mean_s: float, rng: random.Random) -> float:
    """Seconds a user pauses before a change: exponential around ``mean_s`` (0: none).

    Random, so sessions drift apart as real users do, instead of all changing
    a filter in the same instant after each pause.
    """
    return rng.expovariate(1 / mean_s) if mean_s > 0 else 0.0


def start_server(data_dir: Path, log: Path, user_dir: Path) -> tuple[subprocess.Popen, str]:
    env = {"CMF_ATLAS_DATA": str(data_dir), "CMF_ATLAS_USER_DIR": str(user_dir)}
    try:
        return start_dashboard(env, log)
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its children so far."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for p in _descendants(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def machine_busy_seconds() -> float:
    """CPU time all cores spent busy since boot (from /proc/stat), in seconds."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and its children, from /proc."""
    total = 0
    for p in _descendants(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


async def sample_rss(pid: int, results: Results, stop: asyncio.Event) -> None:
    while not stop.is_set():
        results.rss.append(rss_bytes(pid))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.5)


async def settle(page, expected: tuple[int, int], timeout_s: float) -> None:
    await page.wait_for_function(SETTLED_JS, arg=list(expected), polling=50,
                                 timeout=timeout_s * 1000)


async def add_user_csv(page, url: str, tmp: Path, index: int, timeout_s: float) -> None:
    await page.goto(f"{url}/your_data", wait_until="domcontentloaded")
    path = tmp / f"bench-{index}.csv"
    path.write_text(USER_CSV.replace("Bench site", f"Session {index} site"), encoding="utf-8")
    selector = '[data-testid="stFileUploader"] input[type=file]'
    await page.wait_for_selector(selector, state="attached", timeout=timeout_s * 1000)
    await page.set_input_files(selector, str(path))
    add = page.get_by_role("button", name="Add 3 record(s) to the map for this session")
    await add.click(timeout=timeout_s * 1000)
    link = page.get_by_role("link", name="Open the map")
    await link.click(timeout=timeout_s * 1000)


def _loaded(results: Results, sessions: int) -> None:
    results.loaded += 1
    if results.loaded == sessions:
        results.all_loaded.set()


async def session(
    browser, url: str, index: int, sessions: int, total: int, changes: list[Change],
    results: Results, args: argparse.Namespace, tmp: Path,
) -> None:
    timeout_s, user_data = args.timeout, args.user_data
    rng = random.Random(index)  # reproducible pauses, different per session
    # Sessions arrive one after another, as people open a link, not in the same millisecond.
    await asyncio.sleep(index * args.ramp)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(timeout_s * 1000)
    page.on("pageerror", lambda exc: results.errors.append(f"session {index}: page error {exc}"))
    users = 3 if user_data else 0
    try:
        t0 = time.perf_counter()
        if user_data:
            await add_user_csv(page, url, tmp, index, timeout_s)
        else:
            await page.goto(url, wait_until="domcontentloaded")
        await settle(page, (total, users), 3 * timeout_s)
        results.load_times.append(time.perf_counter() - t0)
    except Exception as exc:
        results.errors.append(f"session {index}: load failed: {type(exc).__name__}")
        _loaded(results, sessions)
        await context.close()
        return
    # Every session changes filters at the same time as all the others.
    _loaded(results, sessions)
    await results.all_loaded.wait()
    sidebar = page.get_by_test_id("stSidebarUserContent")
    search = sidebar.get_by_role("textbox", name="Name contains")
    user_after = {c.name: users for c in changes}
    for change in changes:
        await asyncio.sleep(think_time(args.think, rng))
        try:
            if change.kind == "toggle":
                target = sidebar.get_by_text(change.arg, exact=True)
                await target.wait_for(timeout=timeout_s * 1000)
                t0 = time.perf_counter()
                await target.click()
            else:
                await search.fill(change.arg)
                t0 = time.perf_counter()
                await search.press("Enter")
            # The user's three sites match no curated name; a search hides them.
            user_after[change.name] = 0 if change.kind == "search" and change.arg else users
            await settle(page, (change.expected, user_after[change.name]), timeout_s)
            results.latencies.setdefault(change.kind, []).append(time.perf_counter() - t0)
        except Exception as exc:
            results.errors.append(f"session {index}: {change.name}: {type(exc).__name__}")
    if await page.get_by_test_id("stException").count():
        results.errors.append(f"session {index}: Streamlit exception on the page")
    await context.close()


class ProtocolClient:
    """One session spoken over Streamlit's own websocket protocol, without a browser.

    It sends what the browser sends (a ``rerun_script`` with the changed
    widget's value, and the hashes of the messages it already holds, so the
    server may answer with references as it does to a browser) and reads
    every message until ``script_finished``. The shown counts are read from
    the page's metrics, so a stale answer never counts.
    """

    def __init__(self, url: str, timeout_s: float):
        self.url, self.timeout_s = url, timeout_s
        self.ws = None
        self.page_hash = ""
        self.widget_ids: dict[str, str] = {}
        self.messages: dict[str, object] = {}
        self.metrics: dict[str, str] = {}
        self.exception = False

    async def connect(self) -> None:
        import websockets

        ws_url = self.url.replace("http://", "ws://", 1) + "/_stcore/stream"
        self.ws = await websockets.connect(
            ws_url, subprotocols=["streamlit"], origin=self.url, max_size=None,
            open_timeout=self.timeout_s,
        )

    async def rerun(self, widgets: list) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        state = msg.rerun_script
        state.page_script_hash = self.page_hash
        state.widget_states.widgets.extend(widgets)
        state.cached_message_hashes.extend(self.messages)
        self.metrics = {}
        await self.ws.send(msg.SerializeToString())
        await asyncio.wait_for(self._until_finished(), timeout=self.timeout_s)

    async def _until_finished(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await self.ws.recv())
            if msg.WhichOneof("type") == "ref_hash":
                msg = self.messages[msg.ref_hash]
            elif msg.hash:
                self.messages[msg.hash] = msg
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = msg.new_session.page_script_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._read_element(msg.delta.new_element)
            elif (kind == "script_finished"
                  and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN):
                return

    def _read_element(self, element) -> None:
        kind = element.WhichOneof("type")
        if kind == "exception":
            self.exception = True
        elif kind == "metric":
            self.metrics[element.metric.label] = element.metric.body
        elif kind in ("checkbox", "text_input"):
            widget_id = getattr(element, kind).id
            self.widget_ids[widget_id.rsplit("-", 1)[-1]] = widget_id

    def shown(self) -> int:
        return sum(int(self.metrics.get(label, -1)) for label in KINDS.values())

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def protocol_session(
    url: str, index: int, sessions: int, total: int, changes: list[Change],
    results: Results, args: argparse.Namespace,
) -> None:
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    rng = random.Random(index)  # reproducible pauses, different per session
    await asyncio.sleep(index * args.ramp)
    client = ProtocolClient(url, args.timeout)
    try:
        t0 = time.perf_counter()
        await client.connect()
        await client.rerun([])
        if client.shown() != total:
            raise ValueError(f"shows {client.shown()} records, expected {total}")
        results.load_times.append(time.perf_counter() - t0)
    except Exception as exc:
        results.errors.append(f"session {index}: load failed: {type(exc).__name__} {exc}")
        _loaded(results, sessions)
        await client.close()
        return
    _loaded(results, sessions)
    await results.all_loaded.wait()
    funds_on = True
    for change in changes:
        await asyncio.sleep(think_time(args.think, rng))
        try:
            if change.kind == "toggle":
                funds_on = not funds_on
                widget = WidgetState(id=client.widget_ids["layer_fund"], bool_value=funds_on)
            else:
                widget = WidgetState(id=client.widget_ids["search"], string_value=change.arg)
            t0 = time.perf_counter()
            await client.rerun([widget])
            elapsed = time.perf_counter() - t0
            if client.shown() != change.expected:
                raise ValueError(f"shows {client.shown()}, expected {change.expected}")
            results.latencies.setdefault(change.kind, []).append(elapsed)
        except Exception as exc:
            results.errors.append(f"session {index}: {change.name}: {type(exc).__name__} {exc}")
    if client.exception:
        results.errors.append(f"session {index}: Streamlit exception on the page")
    await client.close()


def _pct(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def run(args: argparse.Namespace) -> int:
    from playwright.async_api import async_playwright

    total, changes = plan_changes(args.data, args.changes)
    results = Results()
    tmp = Path(tempfile.mkdtemp(prefix="cmf-bench-"))
    proc = None
    if args.url:
        url = args.url.rstrip("/")
        if urlparse(url).hostname not in LOCAL_HOSTS:
            raise SystemExit(f"--url must be a localhost address, got {url}")
        pid = args.pid
    else:
        proc, url = start_server(args.data, tmp / "streamlit.log", tmp / "user_data")
        pid = proc.pid
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(pid, results, stop)) if pid else None
    await asyncio.sleep(1)
    baseline = results.rss[-1] if results.rss else 0
    started = time.perf_counter()
    try:
        async with contextlib.AsyncExitStack() as stack:
            if args.mode == "browser":
                pw = await stack.enter_async_context(async_playwright())
                browser = await pw.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                stack.push_async_callback(browser.close)
                tasks = [
                    session(browser, url, i, args.sessions, total, changes, results, args, tmp)
                    for i in range(args.sessions)
                ]
            else:
                tasks = [
                    protocol_session(url, i, args.sessions, total, changes, results, args)
                    for i in range(args.sessions)
                ]
            gathered = asyncio.gather(*tasks)
            deadline = time.monotonic() + args.budget
            try:
                await asyncio.wait_for(asyncio.shield(results.all_loaded.wait()),
                                       timeout=args.budget)
                t_changes = time.perf_counter()
                cpu0, busy0 = cpu_seconds(pid or 0), machine_busy_seconds()
                await asyncio.wait_for(gathered, timeout=max(1.0, deadline - time.monotonic()))
                changes_wall = time.perf_counter() - t_changes
                server_cpu = cpu_seconds(pid or 0) - cpu0
                machine_cpu = machine_busy_seconds() - busy0
            except TimeoutError:
                results.errors.append(f"the run exceeded its budget of {args.budget:.0f} s")
                changes_wall = server_cpu = machine_cpu = 0.0
                gathered.cancel()
        wall = time.perf_counter() - started
        await asyncio.sleep(5)
    finally:
        stop.set()
        if sampler:
            await sampler
        if proc:
            proc.terminate()
            proc.wait(timeout=10)

    every = [t for ts in results.latencies.values() for t in ts]
    planned = args.sessions * args.changes
    mb = 2**20
    how = "browser pages" if args.mode == "browser" else "protocol clients"
    print(f"CMF Atlas concurrency benchmark: {args.sessions} {how} x {args.changes} filter "
          f"changes{' with user data' if args.user_data else ''}, think time {args.think:g} s, "
          f"arrivals {args.ramp:g} s apart; {os.cpu_count()} CPU(s); {total} records in "
          f"{args.data}")
    print(f"  wall time       {wall:.1f} s ({changes_wall:.1f} s of concurrent changes)")
    if changes_wall and pid:
        print(f"  CPU during the changes: server {server_cpu:.1f} s "
              f"({100 * server_cpu / changes_wall:.0f}% of one core), whole machine "
              f"{machine_cpu:.1f} s of {changes_wall * (os.cpu_count() or 1):.1f} s available")
    print(f"  changes settled {len(every)} of {planned}")
    print(f"  errors          {len(results.errors)}")
    for err in results.errors[:10]:
        print(f"    - {err}")
    if results.load_times:
        print(f"  first load      p50 {_pct(results.load_times, 50):.2f} s   "
              f"p95 {_pct(results.load_times, 95):.2f} s")
    if every:
        print(f"  response time   p50 {_pct(every, 50):.2f} s   p95 {_pct(every, 95):.2f} s   "
              f"max {max(every):.2f} s")
        for kind, ts in sorted(results.latencies.items()):
            print(f"    {kind:<7} ({len(ts):>3})  p50 {_pct(ts, 50):.2f} s   "
                  f"p95 {_pct(ts, 95):.2f} s")
    if results.rss:
        peak = max(results.rss)
        print(f"  server RSS      before {baseline / mb:.0f} MB   peak {peak / mb:.0f} MB"
              f"   5 s after {results.rss[-1] / mb:.0f} MB")
    return 1 if results.errors else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["browser", "protocol"], default="browser",
                        help="real pages in headless Chromium, or websocket protocol clients")
    parser.add_argument("--sessions", type=int, default=25)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--data", type=Path, default=DATASET_DIR,
                        help="folder of YAML records (default datasets/)")
    parser.add_argument("--user-data", action="store_true",
                        help="each session first uploads and adds a small CSV of its own")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds for one change to settle before it counts as an error")
    parser.add_argument("--ramp", type=float, default=1.0,
                        help="seconds between one session's arrival and the next")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a session pauses before each change, drawn at random "
                        "(exponential) per change; 0: back to back")
    parser.add_argument("--budget", type=float, default=900.0,
                        help="seconds for the whole run")
    parser.add_argument("--url", help="use a running server on localhost instead of starting one")
    parser.add_argument("--pid", type=int, help="with --url: the server's pid, for its memory")
    args = parser.parse_args()
    if args.user_data and args.mode != "browser":
        parser.error("--user-data needs --mode browser (an upload goes through the page)")
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
