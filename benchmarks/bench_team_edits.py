"""Team editing under contention: N editors make M edits each on the same few records.

Run: ``.venv/bin/python benchmarks/bench_team_edits.py [--editors 25] [--edits 20]``

Starts a throwaway PostgreSQL cluster on a free port of 127.0.0.1 (removed at
the end), migrates it, imports the curated datasets, creates one account per
editor (argon2id) and signs each in through ``cmf_app``, so every editor
works under the database's ``cmf_editor`` role on a connection of its own,
in a thread of its own.

Each edit appends a unique token (``bench-e07-i13``) to the ``aliases`` of one
of ``--records`` hot records (chosen at random, seeded), through
:func:`geodata.db.records.save_record` with the version the editor read.
On :class:`~geodata.db.records.ConflictError` the editor does what a user
would: re-reads the record, reapplies the same change on the new version and
saves again (at most ``--max-retries`` times).

Measured:

- lost updates: tokens of saves reported successful that are missing from
  the final records, or missing from the history entry of that save; and a
  record whose final version is not its first version plus its successful
  saves. Must be 0;
- errors other than the conflict (any other exception, or an edit that ran
  out of retries). Must be 0;
- latency of each save call (p50/p95) and of each edit including its
  retries (p50/p95), and the conflicts met.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg

from geodata.db import accounts
from geodata.db.cluster import LocalCluster, free_port
from geodata.db.migrate import migrate
from geodata.db.records import ConflictError, history, read_record, save_record
from geodata.db.transfer import import_datasets

SOURCE = {"publisher": "CMF Atlas benchmark", "title": "Concurrent edit"}
HOT_RECORDS = ("fund-foshan-cmf-innovative-industries", "zone-mianyang",
               "cluster-shunde-cmf-innovation-industry-park", "org-cetc-28th-institute")


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--editors", type=int, default=25)
    p.add_argument("--edits", type=int, default=20, help="edits per editor")
    p.add_argument("--records", type=int, default=3, help="hot records the edits aim at")
    p.add_argument("--max-retries", type=int, default=200)
    p.add_argument("--seed", type=int, default=15)
    p.add_argument("--budget", type=float, default=900, help="seconds before giving up")
    args = p.parse_args(argv)
    cluster = LocalCluster(Path(tempfile.mkdtemp(prefix="cmf-bench-pg-")), free_port())
    started = time.monotonic()
    try:
        cluster.initialise()
        cluster.start()
        return _run(cluster, args, started)
    finally:
        cluster.remove()


def _run(cluster: LocalCluster, args: argparse.Namespace, started: float) -> int:
    with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE cmf_atlas")
    app_password = secrets.token_urlsafe(18)
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        migrate(conn)
        import_datasets(conn)
        accounts.enable_app_login(conn, app_password)
        names = [f"editor{n:02d}" for n in range(args.editors)]
        passwords = {n: secrets.token_urlsafe(16) for n in names}
        for n in names:
            accounts.add_user(conn, n, "editor", passwords[n])
        hot = [r for r in HOT_RECORDS if conn.execute(
            "SELECT 1 FROM records WHERE id = %s", (r,)).fetchone()][: args.records]
        first = {r: read_record(conn, r)[1] for r in hot}
    app_dsn = (f"host=127.0.0.1 port={cluster.port} dbname=cmf_atlas "
               f"user={accounts.APP_ROLE} password={app_password}")
    lock = threading.Lock()
    saved: list[tuple[str, str, int]] = []  # (record, token, version)
    save_ms: list[float] = []
    edit_ms: list[float] = []
    errors: Counter[str] = Counter()
    conflicts = 0
    deadline = started + args.budget
    barrier = threading.Barrier(args.editors)

    def editor(n: int) -> None:
        nonlocal conflicts
        rng = random.Random(args.seed * 1000 + n)
        name = names[n]
        try:
            conn = psycopg.connect(app_dsn, autocommit=True)
            account = accounts.sign_in(conn, name, passwords[name])
            accounts.start_session(conn, account)
        except Exception as exc:  # every failure is counted, not raised
            with lock:
                errors[f"connect: {type(exc).__name__}: {exc}"] += 1
            barrier.abort()
            return
        with conn:
            try:
                barrier.wait(timeout=120)
            except threading.BrokenBarrierError:
                return
            for i in range(args.edits):
                rid, token = rng.choice(hot), f"bench-e{n:02d}-i{i:02d}"
                t_edit = time.perf_counter()
                for _attempt in range(args.max_retries + 1):
                    if time.monotonic() > deadline:
                        with lock:
                            errors["budget exhausted"] += 1
                        return
                    try:
                        doc, version, _ = read_record(conn, rid)
                        t_save = time.perf_counter()
                        new = save_record(conn, rid, {"aliases": [*doc.get("aliases", []),
                                                                  token]},
                                          expected_version=version, source=SOURCE, who=name)
                        with lock:
                            save_ms.append((time.perf_counter() - t_save) * 1000)
                            saved.append((rid, token, new))
                        break
                    except ConflictError:
                        with lock:
                            save_ms.append((time.perf_counter() - t_save) * 1000)
                            conflicts += 1
                    except Exception as exc:  # counted: must be zero
                        with lock:
                            errors[f"{type(exc).__name__}: {exc}"] += 1
                        break
                else:
                    with lock:
                        errors["out of retries"] += 1
                with lock:
                    edit_ms.append((time.perf_counter() - t_edit) * 1000)

    t0 = time.monotonic()
    threads = [threading.Thread(target=editor, args=(n,)) for n in range(args.editors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic()))
    wall = time.monotonic() - t0
    lost = _lost_updates(cluster, hot, first, saved)
    attempted = args.editors * args.edits
    print(f"editors {args.editors} x edits {args.edits} = {attempted} edits on {len(hot)} "
          f"records ({', '.join(hot)}); CPUs: {_cpus()}")
    print(f"successful saves: {len(saved)}; conflicts met and retried: {conflicts}; "
          f"wall time {wall:.1f} s ({len(saved) / wall:.1f} saves/s)")
    print(f"lost updates: {lost}")
    print(f"errors other than the conflict: {sum(errors.values())}"
          + "".join(f"\n  {n} x {e}" for e, n in errors.most_common(5)))
    if save_ms:
        print(f"save call latency: p50 {_pct(save_ms, 0.5):.0f} ms, "
              f"p95 {_pct(save_ms, 0.95):.0f} ms, mean {statistics.fmean(save_ms):.0f} ms "
              f"({len(save_ms)} calls)")
    if edit_ms:
        print(f"edit latency incl. re-read and retries: p50 {_pct(edit_ms, 0.5):.0f} ms, "
              f"p95 {_pct(edit_ms, 0.95):.0f} ms, max {max(edit_ms):.0f} ms")
    ok = lost == 0 and not errors and len(saved) == attempted
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


def _lost_updates(cluster: LocalCluster, hot: list[str], first: dict[str, int],
                  saved: list[tuple[str, str, int]]) -> int:
    lost = 0
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        for rid in hot:
            doc, version, _ = read_record(conn, rid)
            mine = [(token, v) for r, token, v in saved if r == rid]
            final = doc.get("aliases", [])
            lost += sum(1 for token, _ in mine if final.count(token) != 1)
            by_version = {c.version: c for c in history(conn, rid)}
            for token, v in mine:
                entry = by_version.get(v)
                if entry is None or token not in entry.new_values.get("aliases", []):
                    lost += 1
            if version != first[rid] + len(mine):
                lost += abs(version - first[rid] - len(mine))
    return lost


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
