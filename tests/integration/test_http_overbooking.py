"""No overbooking over HTTP: 50 people register at the same instant for the 10 free seats of a course,
through the public guest form, against gunicorn (2 workers × 4 threads, ProductionConfig) and PostgreSQL —
exactly 10 get a seat and 40 are waitlisted in positions 1…40.

Needs PostgreSQL: ``TEST_DATABASE_URL`` names a server (CI sets it); the test creates a scratch database
``<that database's name>_overbook_<pid>`` there, and drops it afterwards. Skipped, with the reason, otherwise.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("TEST_DATABASE_URL")
PEOPLE = 50
SEATS = 10
GIVEN = ["Hân", "Thúy", "Ngọc", "Thảo", "Loan", "Diễm", "Duyên", "Nhung", "Trang", "Tú"]

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL: đặt TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test để chạy (CI đặt sẵn)"
)


@pytest.fixture
def scratch_database():
    import psycopg

    parts = urlsplit(PG_URL)
    name = f"{parts.path.lstrip('/') or 'postgres'}_overbook_{os.getpid()}"[-63:]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path="/" + name))
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _course(url: str) -> int:
    """The schema, and an open course with 10 seats, all free."""
    from bdg_training import create_app
    from bdg_training.courses.services import local_to_utc
    from bdg_training.extensions import db
    from tests.factories import Factory

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.create_all()
        make = Factory()
        today = date.today()
        course = make.course(
            status="open",
            capacity=SEATS,
            start_date=today + timedelta(days=20),
            reg_opens_at=local_to_utc(today - timedelta(days=2), clock(7)),
            reg_closes_at=local_to_utc(today + timedelta(days=10), clock(17)),
            commit=False,
        )
        db.session.commit()
        course_id = course.id
        db.session.remove()
        db.engine.dispose()
    return course_id


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """One person's HTTP client: keeps the session cookie, as a browser would."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for value in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, dict(response.headers), text
        finally:
            conn.close()


def test_50_parallel_http_registrations_for_10_free_seats(scratch_database, tmp_path):
    course_id = _course(scratch_database)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "PROXY_FIX"}}
    env.update(
        BDG_CONFIG="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=scratch_database,
        BASE_URL=f"http://127.0.0.1:{port}",
        MAIL_BACKEND="outbox-only",
        SIGNUP_LIMIT_PER_IP="1000 per hour",  # all 50 people come from 127.0.0.1 here
    )
    log = tmp_path / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--threads",
        "4",
        "--chdir",
        str(ROOT),
        "wsgi:app",
    ]
    with open(log, "wb") as handle:
        server = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(port, server, log)
            people = [Browser(port) for _ in range(PEOPLE)]
            forms = []
            for i, person in enumerate(people):  # each fetches the form: its own session and CSRF token
                status, _, html = person.request("GET", f"/register/{course_id}")
                assert status == 200
                token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
                forms.append(
                    urlencode(
                        {
                            "csrf_token": token,
                            "family_name": "Nguyễn",
                            "middle_name": "Thị",
                            "given_name": f"{GIVEN[i % 10]} {['An', 'Bình', 'Châu', 'Dung', 'Giang'][i // 10]}",
                            "sex": "nu",
                            "birth": (date(1980, 1, 1) + timedelta(days=97 * i)).strftime("%d/%m/%Y"),
                            "phone": f"09120{i:05d}",
                            "unit_id": "",
                            "password": "mat-khau-dang-ky-2026",
                            "confirm": "mat-khau-dang-ky-2026",
                            "consent": "y",
                        }
                    )
                )
            barrier = threading.Barrier(PEOPLE)
            outcomes: list[tuple[int, str]] = [(0, "")] * PEOPLE

            def register(i: int) -> None:
                barrier.wait(timeout=60)
                status, headers, _ = people[i].request("POST", f"/register/{course_id}", forms[i])
                outcomes[i] = (status, headers.get("Location", ""))

            threads = [threading.Thread(target=register, args=(i,)) for i in range(PEOPLE)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=300)
            elapsed = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=30)

    # Every registration went through (no error page, no 500): each lands on its confirmation.
    assert all(status == 302 and "/me/enrollments/" in location for status, location in outcomes), (outcomes, log.read_text()[-3000:])
    counts, positions = _placed(scratch_database, course_id)
    print(
        f"\n{PEOPLE} HTTP registrations in {elapsed:.1f} s for {SEATS} free seats: {counts}; waitlist positions {positions[:1]}…{positions[-1:]}"
    )
    assert counts == {"confirmed": SEATS, "waitlisted": PEOPLE - SEATS}
    assert positions == list(range(1, PEOPLE - SEATS + 1))


def _wait_healthy(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()
    raise AssertionError("gunicorn did not start:\n" + log.read_text())


def _placed(url: str, course_id: int) -> tuple[dict[str, int], list[int]]:
    import psycopg

    with psycopg.connect(url) as conn:
        counts = dict(
            conn.execute("SELECT status, count(*) FROM enrollments WHERE course_id = %s GROUP BY status", (course_id,)).fetchall()
        )
        positions = [
            row[0]
            for row in conn.execute(
                "SELECT waitlist_position FROM enrollments WHERE course_id = %s AND status = 'waitlisted' ORDER BY waitlist_position",
                (course_id,),
            )
        ]
    return counts, positions
