"""Start the dashboard as its own server process on a free local port.

For the browser tests and the concurrency benchmark, which both need a real
``streamlit run`` to talk to: one place that picks the port, passes the data
folders through the environment, and waits until the server answers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: The server's allocator settings (as ``make run`` sets them): two malloc arenas, not
#: one per script thread, so memory freed after a large rerun is reused by the next
#: (at 1,000,000 records resident memory otherwise grew 100–170 MB per filter change).
SERVER_ENV: dict[str, str] = {"MALLOC_ARENA_MAX": "2"}


def start_dashboard(
    env: Mapping[str, str], log: Path, timeout_s: float = 60
) -> tuple[subprocess.Popen, str]:
    """Run ``streamlit run dashboard/app.py`` on 127.0.0.1; return it and its URL once healthy.

    ``env`` is added to this process's environment (``CMF_ATLAS_DATA``,
    ``CMF_ATLAS_USER_DIR`` ...); the server's output goes to ``log``.

    Raises
    ------
    RuntimeError
        If the server exits, or does not answer its health check within
        ``timeout_s`` (it is then stopped); the message names the log.
    """
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard/app.py",
             "--server.port", str(port), "--server.address", "127.0.0.1"],
            cwd=ROOT, env={**SERVER_ENV, **os.environ, **env}, stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"streamlit did not become healthy in {timeout_s:g} s; see {log}")
