"""Fixtures shared by every test.

- ``app``: the application on a real database file, schema built once per backend, rows wiped
  after each test. It keeps an app context pushed so tests can use ``db.session`` and services.
- The test client runs every request in a fresh context (``IsolatedClient``), exactly as a
  server would: its own app context, session and ``g``; tests see its writes after ``fresh()``.
- Database-sensitive tests carry ``@pytest.mark.both_dbs``: they run on SQLite and, when
  ``TEST_DATABASE_URL`` points at a PostgreSQL database, on PostgreSQL too (otherwise that half
  is skipped with the reason). ``TEST_BACKENDS=sqlite,postgresql`` runs every test on both.
"""

from __future__ import annotations

import contextvars
import os
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from bdg_training import create_app
from bdg_training.extensions import db
from tests.factories import Factory

PG_URL = os.environ.get("TEST_DATABASE_URL")
ALL_BACKENDS = [b.strip() for b in os.environ.get("TEST_BACKENDS", "sqlite").split(",") if b.strip()]


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        if metafunc.definition.get_closest_marker("both_dbs"):
            backends = ["sqlite", "postgresql"]
        else:
            backends = ALL_BACKENDS
        metafunc.parametrize("backend", backends, scope="session")


class IsolatedClient(FlaskClient):
    """Each request runs in an empty contextvars context: no app context, ``g`` or session leaks
    from the test (or from the previous request) into it."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


_APPS: dict[str, object] = {}


def _database_url(backend: str, tmp_path_factory) -> str:
    if backend == "postgresql":
        if not PG_URL:
            pytest.skip("PostgreSQL: đặt TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test để chạy")
        return PG_URL
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"


@pytest.fixture(scope="session")
def base_app(backend, tmp_path_factory):
    if backend not in _APPS:
        url = _database_url(backend, tmp_path_factory)
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
        app.test_client_class = IsolatedClient
        with app.app_context():
            db.drop_all()
            db.create_all()
        _APPS[backend] = app
    return _APPS[backend]


def _wipe(app) -> None:
    with app.app_context():
        db.session.remove()
        tables = list(reversed(db.metadata.sorted_tables))
        engine = db.engine
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            raw = engine.raw_connection()  # autocommit pysqlite: PRAGMAs outside any transaction
            try:
                cursor = raw.cursor()
                cursor.execute("PRAGMA foreign_keys=OFF")
                cursor.execute("BEGIN IMMEDIATE")
                for table in tables:
                    cursor.execute(f'DELETE FROM "{table.name}"')
                if cursor.execute("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'").fetchone():
                    cursor.execute("DELETE FROM sqlite_sequence")
                cursor.execute("COMMIT")
                cursor.execute("PRAGMA foreign_keys=ON")
            finally:
                raw.close()
        db.session.remove()


@pytest.fixture
def app(base_app):
    base_app.config.update(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=True)
    from bdg_training.extensions import limiter

    limiter.reset()
    ctx = base_app.app_context()
    ctx.push()
    try:
        yield base_app
    finally:
        db.session.rollback()
        ctx.pop()
        _wipe(base_app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(app) -> Factory:
    return Factory()


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def fresh() -> None:
    """End the test's own transaction so it sees what requests committed."""
    db.session.rollback()
    db.session.expire_all()


def login(client, user) -> None:
    """Sign ``user`` in on ``client`` (the session cookie Flask-Login would set)."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def csrf_token(client, url: str) -> str:
    """The CSRF token a real browser would post, read from a page's form."""
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, f"no CSRF token on {url}"
    return match.group(1)


class QueryCounter:
    """Counts the SQL statements sent to the database (for "no N+1" tests)."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _on_execute(self, conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")):
            self.statements.append(statement)

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._on_execute)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """``with count_queries() as q: client.get(...)`` then ``q.count``."""
    return lambda: QueryCounter(db.engine)
