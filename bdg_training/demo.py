"""Demo data for Cần Thơ: each feature's seeder, in dependency order (idempotent)."""

from __future__ import annotations

from datetime import date

from bdg_training.auth import demo as auth_demo
from bdg_training.units import demo as units_demo


def demo_usernames() -> list[str]:
    return [username for username, *_ in auth_demo.DEMO_USERS]


def seed_all(*, today: date, passwords: dict[str, str]) -> dict[str, int]:
    """Run every seeder; returns counts for the summary line. The caller commits."""
    units = units_demo.seed(today)
    users = auth_demo.seed(units, passwords)
    return {"đơn vị": len(units), "người dùng": len(users)}
