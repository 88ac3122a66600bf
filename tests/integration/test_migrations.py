"""Migrations: upgrade from empty, no drift against the models, downgrade to base, upgrade again.

Runs on SQLite and, with TEST_DATABASE_URL, on a scratch PostgreSQL database of its own.
"""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from bdg_training import create_app
from bdg_training.extensions import db
from tests.conftest import PG_URL

pytestmark = pytest.mark.both_dbs


@pytest.fixture
def scratch_url(backend, tmp_path):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL: đặt TEST_DATABASE_URL để chạy")
    from config import normalise_database_url

    base = make_url(normalise_database_url(PG_URL))
    name = f"bdg_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _drift(app) -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_has_no_drift_then_downgrade_and_upgrade_again(scratch_url):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=scratch_url)
    with app.app_context():
        upgrade()
        assert _drift(app) == []
        tables = set(inspect(db.engine).get_table_names())
        assert {t.name for t in db.metadata.sorted_tables} <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert _drift(app) == []
        db.engine.dispose()
