"""Region scale (issue 16): the load test at two sizes in one run, and its aims judged.

Runs ``bench/load.py`` on two kept databases — ``--small`` (default ``bench_100k``) and
``--large`` (``bench_1m``), built beforehand with ``load.py --db NAME --keep --probe-only
--no-probe --cases N`` — with the recommended PostgreSQL settings, in rounds ordered
small, large, then large, small (a drift of the machine during the run weighs on both
sizes alike), each pass its in-process probe then 20 users for 60 s. Then prints, per
round and on the medians of the rounds:

- 0 errors, and p95 < 300 ms at the large size;
- p95 at the large size ≤ 1.5 × p95 at the small size (the ratio of the medians, and of
  each round, whose two passes ran minutes apart);
- every probe request under 100 ms alone at the large size (the median of the rounds'
  medians), with the statements of the small size, request by request.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres SECRET_KEY=bench \\
        .venv/bin/python bench/scale.py [--rounds 2] [--workers 3] [--small DB] [--large DB]

Exit code 0 when every aim is met, 1 otherwise (2: a database or its manifest missing).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
P95_MS = 300  # issue 16: p95 under 300 ms at 1 M dossiers
RATIO = 1.5  # p95 at 1 M ≤ 1.5 × p95 at 100 k
PROBE_MS = 100  # every probe request under 100 ms alone at 1 M


def run_pass(db: str, workers: int, extra: list[str]) -> dict:
    """One ``load.py`` pass on a kept database; its figures (the ``--json`` file)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = Path(f.name)
    cmd = [
        sys.executable,
        str(ROOT / "bench/load.py"),
        "--reuse",
        db,
        "--settings",
        "recommended",
        "--workers",
        str(workers),
        "--json",
        str(out),
        *extra,
    ]
    print(f"\n##### {db}: {' '.join(cmd[2:])}", flush=True)
    done = subprocess.run(cmd, cwd=ROOT)
    try:
        figures = json.loads(out.read_text() or "{}").get("recommended")
    finally:
        out.unlink(missing_ok=True)
    if done.returncode not in (0, 1) or not figures:
        raise SystemExit(f"load.py on {db} failed (exit {done.returncode})")
    return figures


def rounds_order(small: str, large: str, rounds: int) -> list[tuple[int, str]]:
    """(round, database): small then large, then large then small, and so on."""
    order = []
    for r in range(rounds):
        pair = (small, large) if r % 2 == 0 else (large, small)
        order += [(r, db) for db in pair]
    return order


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def judge(small: str, large: str, runs: dict) -> bool:
    """The aims on the runs ``{(round, db): figures}``, printed; True when all are met."""
    rounds = sorted({r for r, _db in runs})
    print(f"\n=== Region scale: {small} against {large}, {len(rounds)} round(s) ===")
    print(f"  {'round':>5}  {'p95 small':>10}  {'p95 large':>10}  {'ratio':>6}  errors (large)")
    for r in rounds:
        s, g = runs[(r, small)]["load"], runs[(r, large)]["load"]
        print(
            f"  {r + 1:>5}  {s['p95']:>8.0f} ms  {g['p95']:>8.0f} ms  "
            f"{g['p95'] / s['p95']:>5.2f}×  {g['errors']}"
        )
    p95_small = statistics.median(runs[(r, small)]["load"]["p95"] for r in rounds)
    p95_large = statistics.median(runs[(r, large)]["load"]["p95"] for r in rounds)
    errors = sum(runs[(r, large)]["load"]["errors"] for r in rounds)
    ratio = p95_large / p95_small
    print(f"  median  {p95_small:>8.0f} ms  {p95_large:>8.0f} ms  {ratio:>5.2f}×  {errors}")

    urls = list(runs[(rounds[0], large)]["probe"])
    print(f"\n  probe at {large}, ms (median of the rounds) and statements (small / large):")
    slowest, same = 0.0, True
    for url in urls:
        ms = statistics.median(runs[(r, large)]["probe"][url][2] for r in rounds)
        counts_small = {runs[(r, small)]["probe"][url][1] for r in rounds}
        counts_large = {runs[(r, large)]["probe"][url][1] for r in rounds}
        statuses = {runs[(r, db)]["probe"][url][0] for r in rounds for db in (small, large)}
        alike = counts_small == counts_large and len(counts_large) == 1 and statuses == {200}
        same = same and alike
        slowest = max(slowest, ms)
        print(
            f"    {ms:7.1f} ms  {'/'.join(map(str, sorted(counts_small)))} / "
            f"{'/'.join(map(str, sorted(counts_large)))}{'' if alike else '  ≠'}  {url}"
        )

    aims = [
        (f"0 errors at {large}", errors == 0),
        (f"p95 < {P95_MS} ms at {large} ({p95_large:.0f} ms)", p95_large < P95_MS),
        (f"p95 {large} ≤ {RATIO} × p95 {small} ({ratio:.2f}×)", ratio <= RATIO),
        (
            f"every probe under {PROBE_MS} ms alone at {large} (max {slowest:.0f} ms)",
            slowest < PROBE_MS,
        ),
        ("the same statements at both sizes, request by request", same),
    ]
    print("\n  aims:")
    for label, ok in aims:
        print(f"    {verdict(ok):>7}  {label}")
    return all(ok for _label, ok in aims)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", default="bench_100k")
    ap.add_argument("--large", default="bench_1m")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--duration", type=float, default=60)
    args = ap.parse_args()
    for db in (args.small, args.large):
        if not Path(f"/tmp/{db}.json").exists():
            print(f"no manifest /tmp/{db}.json: build it with load.py --db {db} --keep ...")
            return 2
    extra = ["--users", str(args.users), "--duration", str(args.duration)]
    os.environ.setdefault("SECRET_KEY", "bench")
    runs = {
        (r, db): run_pass(db, args.workers, extra)
        for r, db in rounds_order(args.small, args.large, args.rounds)
    }
    return 0 if judge(args.small, args.large, runs) else 1


if __name__ == "__main__":
    sys.exit(main())
