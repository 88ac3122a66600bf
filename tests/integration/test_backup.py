"""`flask backup` copies a live SQLite database; the copy restores every row."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import func, select

from bdg_training.extensions import db
from bdg_training.units.models import Unit


@pytest.fixture
def sqlite_only(app):
    if db.engine.url.get_backend_name() != "sqlite":
        pytest.skip("flask backup is for SQLite")


def test_backup_while_writing_restores_every_row(app, make, tmp_path, sqlite_only):
    for i in range(50):
        make.unit(f"Đơn vị {i}", commit=False)
    db.session.commit()
    stop = threading.Event()

    def writer():
        with app.app_context():
            i = 0
            while not stop.is_set() and i < 200:
                db.session.add(Unit(kind="khac", name=f"Đang ghi {i}"))
                db.session.commit()
                i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "copy.db")])
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(tmp_path / "copy.db")
    names = {row[0] for row in copy.execute("SELECT name FROM units")}
    assert {f"Đơn vị {i}" for i in range(50)} <= names
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("PRAGMA foreign_key_check").fetchall() == []
    # the copy is a complete database: every table the app has is there
    tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {t.name for t in db.metadata.sorted_tables} <= tables
    live = db.session.scalar(select(func.count(Unit.id)))
    assert 50 <= len(names) <= live


@pytest.mark.both_dbs
def test_backup_refuses_postgresql_and_points_to_pg_dump(app):
    if db.engine.url.get_backend_name() == "sqlite":
        pytest.skip("the PostgreSQL half of this test")
    result = app.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code != 0 and "pg_dump" in result.output
