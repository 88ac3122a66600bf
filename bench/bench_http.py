"""HTTP benchmark: the app served by gunicorn on 127.0.0.1, as in production, under load.

For each database (SQLite always; PostgreSQL when ``BENCH_DATABASE_URL`` or else ``TEST_DATABASE_URL`` is set)
it builds a fresh database — migrated (``flask db upgrade``) and demo-seeded — starts gunicorn on a random free
port of 127.0.0.1 with ``ProductionConfig`` and a generated ``SECRET_KEY``, serving ``bench/wsgi_hello.py`` (the
real app plus two bare "hello" endpoints; the product gains no route), and loads these URLs in turn:

* ``/__bench_hello`` — the floor of the goal: a Flask view that returns "hello", in the real app, so it pays
  for everything the app does on every request (page-cache check, session, login, rate limiter, CSRF, security
  headers, the request log line) and for nothing else;
* ``/__bench_wsgi_hello`` — for reference, gunicorn alone: a WSGI callable beside the app, no Flask;
* ``/courses/catalogue`` — the public course catalogue, as an anonymous visitor gets it;
* ``/verify/<code>`` — the public verification page of a real issued certificate (what a QR code opens);
* the same two pages ``uncached``: with a cookie (as a logged-in user's browser sends), which the page cache
  (bdg_training/pagecache.py) never answers: what rendering them costs;
* ``/healthz`` — one trivial query, no template.

It prints ``name: value unit`` lines: requests per second of each, each page as a share of the Flask hello (goal
≥ 40 %) and of the WSGI hello.

Load: ``wrk`` (Debian package; ``make bench`` installs it when missing and root) or, without it, a bounded Python
generator (threads, one keep-alive ``http.client`` connection each). Both are bounded in time (``--rounds`` ×
``--duration`` per URL, after a short warm-up) and in count (``--max-requests`` for the Python one) and talk to loopback only.

PostgreSQL: a scratch database named after the configured one (``<name>_http_<pid>``) is created on that server
and dropped at the end; the configured database itself is not touched.

Run from the repository root: ``python bench/bench_http.py`` (``--rounds 3 --duration 3 --connections 8 --workers 1
--threads 2``). One gunicorn worker by default, not ``make serve``'s two: wrk holds its keep-alive connections for a
whole run and two workers split them at random (7–1 as often as 4–4), which swung every figure by up to 2× from one
run to the next; one worker is what each of N workers does, and the ratios — the goal — do not depend on N. Other
processes on the machine inflate the figures: the load average is printed first and last.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HELLO = "/__bench_hello"
WSGI_HELLO = "/__bench_wsgi_hello"
# Sent by the "uncached" targets: the page cache answers only requests without cookies.
BYPASS_COOKIE = "bench=uncached"
CATALOGUE = "/courses/catalogue"
GOAL_PERCENT = 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- databases -----------------------------------------------------------------------------------
def seed(url: str, folder: Path) -> str:
    """Migrate and demo-seed the database at ``url``; return the verify code of a valid issued certificate."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from bdg_training import create_app
    from bdg_training.certificates.models import Certificate
    from bdg_training.extensions import db

    app = create_app("development", SQLALCHEMY_DATABASE_URI=url, DEMO_CREDENTIALS_FILE=str(folder / "logins.txt"))
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["seed-demo", "--password", secrets.token_urlsafe(12)])
    if result.exit_code != 0:
        raise RuntimeError(result.output)
    with app.app_context():
        code = db.session.scalar(select(Certificate.verify_code).where(Certificate.status == "valid").order_by(Certificate.id).limit(1))
        db.session.remove()
        db.engine.dispose()
    if not code:
        raise RuntimeError("the demo data has no issued certificate")
    return code


class ScratchPostgres:
    """A throw-away database on the server of ``url``, named after ``url``'s database (dropped on exit)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        base = parts.path.lstrip("/") or "postgres"
        self.name = f"{base}_http_{os.getpid()}"[-63:]
        self.admin = url
        self.url = urlunsplit(parts._replace(path="/" + self.name))

    def __enter__(self) -> str:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return self.url

    def __exit__(self, *exc) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# --- gunicorn ------------------------------------------------------------------------------------
class Gunicorn:
    """gunicorn serving bench/wsgi_hello.py on 127.0.0.1:<free port>, ProductionConfig, a fresh SECRET_KEY."""

    def __init__(self, database_url: str, log: Path, workers: int, threads: int) -> None:
        self.port = free_port()
        self.log = log
        env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "PROXY_FIX", "FLASK_APP"}}
        env.update(
            BDG_CONFIG="production",
            SECRET_KEY=secrets.token_urlsafe(48),
            DATABASE_URL=database_url,
            BASE_URL=f"http://127.0.0.1:{self.port}",
            MAIL_BACKEND="outbox-only",
            PAGE_CACHE_VERSION_FILE=str(log.parent / f"page-cache-{log.stem}.version"),
            PYTHONPATH=os.pathsep.join([str(ROOT / "bench"), str(ROOT)]),
        )
        self.command = [
            sys.executable, "-m", "gunicorn",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(workers), "--threads", str(threads),
            "--chdir", str(ROOT), "--graceful-timeout", "5",
            "wsgi_hello:app",
        ]  # fmt: skip
        self.env = env
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        self.handle = open(self.log, "ab")  # noqa: SIM115 - closed in __exit__
        self.process = subprocess.Popen(self.command, env=self.env, stdout=self.handle, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped (exit {self.process.returncode}); see {self.log}")
            try:
                status, _ = get(self.port, "/healthz")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz within 60 s; see {self.log}")

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.handle.close()


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --- load ----------------------------------------------------------------------------------------
def wrk_load(port: int, path: str, duration: float, connections: int, headers: dict) -> tuple[float, int]:
    """(requests per second, non-2xx responses) measured by wrk."""
    extra = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    out = subprocess.run(
        ["wrk", "-t", "1", "-c", str(connections), "-d", f"{max(1, round(duration))}s", *extra, f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, timeout=duration + 60, check=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return rate, (int(bad.group(1)) if bad else 0) + (sum(int(g) for g in errors.groups()) if errors else 0)


def python_load(port: int, path: str, duration: float, connections: int, max_requests: int, headers: dict) -> tuple[float, int]:
    """(requests per second, failed requests): ``connections`` threads, one keep-alive connection each,
    until ``duration`` seconds have passed or ``max_requests`` were sent in all."""
    per_thread = max(1, max_requests // connections)
    done = [0] * connections
    failed = [0] * connections
    start = time.perf_counter()
    deadline = start + duration

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            while done[i] + failed[i] < per_thread and time.perf_counter() < deadline:
                try:
                    conn.request("GET", path, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    if response.status == 200:
                        done[i] += 1
                    else:
                        failed[i] += 1
                    if response.will_close:
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                except (OSError, http.client.HTTPException):
                    failed[i] += 1
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + 30)
    elapsed = time.perf_counter() - start
    return sum(done) / elapsed, sum(failed)


def measure(port: int, path: str, headers: dict, args, *, warm: bool) -> tuple[float, int]:
    load = (
        (lambda seconds: wrk_load(port, path, seconds, args.connections, headers))
        if args.tool == "wrk"
        else (lambda seconds: python_load(port, path, seconds, args.connections, args.max_requests, headers))
    )
    if warm:
        load(args.warmup)
    return load(args.duration)


# --- one database --------------------------------------------------------------------------------
def bench(name: str, url: str, folder: Path, args) -> None:
    code = seed(url, folder)
    with Gunicorn(url, folder / f"gunicorn-{name}.log", args.workers, args.threads) as server:
        verify = f"/verify/{code}"
        uncached = {"Cookie": BYPASS_COOKIE}
        targets = {  # label: (path, request headers)
            "hello": (HELLO, {}),
            "wsgi_hello": (WSGI_HELLO, {}),
            "catalogue": (CATALOGUE, {}),
            "catalogue_uncached": (CATALOGUE, uncached),
            "verify": (verify, {}),
            "verify_uncached": (verify, uncached),
            "healthz": ("/healthz", {}),
        }
        for label, (path, headers) in targets.items():  # every page answers, and with what it should
            status, body = get(server.port, path, headers)
            assert status == 200, f"{path}: HTTP {status}"
            assert not label.startswith("verify") or "Giấy chứng nhận hợp lệ".encode() in body, "the verification page does not show a valid certificate"
            assert not label.startswith("catalogue") or "Lớp tập huấn đang mở đăng ký".encode() in body
        # Rounds of every URL in turn, the median of each: load from elsewhere on the machine drifts, and
        # interleaving spreads it over all the URLs instead of penalising whichever ran at the wrong moment.
        samples: dict[str, list[float]] = {label: [] for label in targets}
        for round_ in range(args.rounds):
            for label, (path, headers) in targets.items():
                rate, errors = measure(server.port, path, headers, args, warm=round_ == 0)
                if errors:
                    raise RuntimeError(f"{path}: {errors} failed requests under load; see {server.log}")
                samples[label].append(rate)
        rates = {label: statistics.median(values) for label, values in samples.items()}
    print(f"http_{name}_hello_flask: {rates['hello']:.0f} req/s", flush=True)
    print(f"http_{name}_hello_wsgi: {rates['wsgi_hello']:.0f} req/s", flush=True)
    for label in ("catalogue", "verify", "catalogue_uncached", "verify_uncached", "healthz"):
        print(f"http_{name}_{label}: {rates[label]:.0f} req/s", flush=True)
        print(f"http_{name}_{label}_vs_hello_flask: {100 * rates[label] / rates['hello']:.1f} %", flush=True)
        print(f"http_{name}_{label}_vs_hello_wsgi: {100 * rates[label] / rates['wsgi_hello']:.1f} %", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds of load per URL and round (after the warm-up)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of all the URLs; the median of each is printed")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of load per URL before measuring")
    parser.add_argument("--connections", type=int, default=8, help="concurrent keep-alive connections")
    parser.add_argument("--max-requests", type=int, default=50_000, help="cap per URL (Python generator)")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (see above why one)")
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker (make serve's default)")
    args = parser.parse_args()
    if args.tool == "auto":
        args.tool = "wrk" if shutil.which("wrk") else "python"
    print(f"# gunicorn {args.workers} worker(s) × {args.threads} threads, ProductionConfig; load: {args.tool}, {args.connections} connections, "
          f"{args.rounds} × {args.duration:g} s per URL (median); goal: pages ≥ {GOAL_PERCENT} % of the Flask hello", flush=True)  # fmt: skip
    print(f"loadavg_before: {os.getloadavg()[0]:.2f} load", flush=True)
    with tempfile.TemporaryDirectory(prefix="bdg-bench-http-") as tmp:
        folder = Path(tmp)
        bench("sqlite", f"sqlite:///{folder / 'bench.db'}", folder, args)
        pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
        if pg:
            with ScratchPostgres(pg) as url:
                bench("postgresql", url, folder, args)
        else:
            print("# PostgreSQL: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL)", flush=True)
    print(f"loadavg_after: {os.getloadavg()[0]:.2f} load", flush=True)


if __name__ == "__main__":
    main()
