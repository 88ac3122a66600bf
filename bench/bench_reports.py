"""Report benchmark: the statistics dashboard of the whole city over one year, at 10 000 and 100 000 enrolments.

Prints one line per figure as ``name: value unit``, per database:

* ``reports_seed_<db>_<n>`` — ``flask seed-demo --scale n`` equivalent (``reports.scale.generate``): n enrolments,
  0.4·n trainees, their courses, sessions, attendance, test scores and certificates;
* ``reports_dashboard_<db>_<n>`` — median wall time of ``GET /reports/?year=…`` (the whole page: every figure and
  breakdown, split by sex, rendered) for an organizer of the city, warm, over 5 requests;
* ``reports_dashboard_<db>_ratio_100k_10k`` — the growth from 10 000 to 100 000 enrolments (goal ≤ 10, and the
  100 000 page ≤ 1 s);
* ``reports_dashboard_sqlite_<n>_cpu`` — the least CPU time of the same requests (SQLite runs in-process).

SQLite runs in a temporary file. PostgreSQL runs only when ``BENCH_DATABASE_URL`` (or else ``TEST_DATABASE_URL``) is
set — **that database is emptied** (drop_all/create_all): give it a throw-away database, e.g.
``BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bdg_bench``. Run from the repository root:
``python bench/bench_reports.py`` (``--quick``: 2 000 and 20 000). On a shared machine other processes' load
inflates wall-clock figures: the load average is printed first and last.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _label(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def bench(url: str, name: str, sizes: list[int]) -> None:
    """Seed each size in turn (a new run replaces the previous one) and time the dashboard after each."""
    from bdg_training import create_app
    from bdg_training.extensions import db

    results: dict[int, float] = {}
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
        db.engine.dispose()
    for n in sizes:
        results.update(_one(url, name, n))
    small, big = sizes[0], sizes[-1]
    for n in sizes:
        print(f"reports_dashboard_{name}_{_label(n)}: {results[n] * 1000:.0f} ms", flush=True)
    print(f"reports_dashboard_{name}_ratio_{_label(big)}_{_label(small)}: {results[big] / results[small]:.1f} x", flush=True)


def _one(url: str, name: str, n: int, repeats: int = 5) -> dict[int, float]:
    from bdg_training import create_app
    from bdg_training.auth.models import User
    from bdg_training.extensions import db
    from bdg_training.reports import scale
    from bdg_training.units.models import Unit

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    today = date.today()
    with app.app_context():
        started = time.perf_counter()
        scale.generate(n, today=today)
        db.session.commit()
        print(f"reports_seed_{name}_{_label(n)}: {time.perf_counter() - started:.1f} s", flush=True)
        city = db.session.scalar(db.select(Unit).where(Unit.kind == "thanh_pho", Unit.parent_id.is_(None)))
        user = db.session.scalar(db.select(User).where(User.username == "bench.thanhpho"))
        if user is None:
            user = User(username="bench.thanhpho", full_name="Đo hiệu năng", role="organizer", unit_id=city.id, password_hash="!")
            db.session.add(user)
            db.session.commit()
        user_id = user.get_id()
        db.session.remove()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
    times, cpu = [], []
    for _ in range(repeats + 1):  # the first request warms caches and is not counted
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(f"/reports/?year={today.year}")
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        if response.status_code != 200:
            raise SystemExit(f"GET /reports/ answered {response.status_code}")
    with app.app_context():
        db.engine.dispose()
    if name == "sqlite":  # SQLite runs in this process: its CPU time is the page's, and barely depends on the load
        print(f"reports_dashboard_{name}_{_label(n)}_cpu: {min(cpu[1:]) * 1000:.0f} ms", flush=True)
    return {n: statistics.median(times[1:])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 000 and 20 000 enrolments instead of 10 000 and 100 000")
    args = parser.parse_args()
    sizes = [2000, 20000] if args.quick else [10000, 100000]
    print(f"reports_loadavg_start: {os.getloadavg()[0]:.2f} load", flush=True)
    with tempfile.TemporaryDirectory(prefix="bdg-bench-reports-") as folder:
        bench(f"sqlite:///{Path(folder) / 'bench.db'}", "sqlite", sizes)
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if pg:
        from config import normalise_database_url

        bench(normalise_database_url(pg), "postgresql", sizes)
    print(f"reports_loadavg_end: {os.getloadavg()[0]:.2f} load", flush=True)


if __name__ == "__main__":
    main()
