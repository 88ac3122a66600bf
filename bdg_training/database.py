"""What every feature's models build on: the declarative Base, time helpers, mixins."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

# Stable constraint names, so migrations can drop and alter them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    # Timestamps are always timezone-aware.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: DateTime(timezone=True)},
    )


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --- SQLite transactions --------------------------------------------------------------------
# pysqlite's own transaction handling starts transactions late and cannot take the write lock
# up front. We switch it off and emit BEGIN ourselves (the recipe in SQLAlchemy's SQLite
# docs), so a unit of work that writes can start with BEGIN IMMEDIATE: it takes SQLite's
# write lock before its first read, which serializes check-then-insert work (seat checks,
# certificate numbers) exactly as a row lock does on PostgreSQL. Requests that can change
# data (any method but GET/HEAD/OPTIONS) and code inside ``serialized_writes()`` do this;
# reads stay concurrent thanks to WAL.

_write_intent: ContextVar[bool] = ContextVar("bdg_write_intent", default=False)


@contextmanager
def serialized_writes() -> Iterator[None]:
    """Within this block, new SQLite transactions begin IMMEDIATE (CLI, jobs, tests)."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def _wants_write_lock() -> bool:
    if _write_intent.get():
        return True
    from flask import has_request_context, request

    return has_request_context() and request.method not in {"GET", "HEAD", "OPTIONS"}


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, connection_record):  # pragma: no cover - driver hook
    """Foreign keys on, wait for locks, WAL for file databases, our own BEGIN."""
    if not _is_sqlite(dbapi_connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    if cursor.execute("PRAGMA database_list").fetchone()[2]:  # a file, not :memory:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA mmap_size=268435456")  # read through the page cache: ~15 % faster report scans
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):  # pragma: no cover - driver hook
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write_lock() else "BEGIN")
