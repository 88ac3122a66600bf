"""Consistent copies of an SQLite database, taken while the application keeps running."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def sqlite_backup(source: str, destination: str, *, pages_per_step: int = 256) -> int:
    """Copy ``source`` to ``destination`` with SQLite's online backup API; returns the page count.

    The copy is a consistent snapshot even while other connections write (the backup restarts
    on changes made through other connections; WAL readers are never blocked). The destination is
    written to a temporary file first and renamed, so a failed backup never leaves a half file.
    """
    target = Path(destination)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst, pages=pages_per_step)
        pages = dst.execute("PRAGMA page_count").fetchone()[0]
        if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise RuntimeError("Bản sao lưu không toàn vẹn (integrity_check)")
    finally:
        dst.close()
        src.close()
    os.replace(partial, target)
    return pages
