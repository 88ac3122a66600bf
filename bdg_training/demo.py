"""Demo data for Cần Thơ: each feature's seeder, in dependency order (idempotent)."""

from __future__ import annotations

from datetime import date

from bdg_training.assessments import demo as assessments_demo
from bdg_training.auth import demo as auth_demo
from bdg_training.certificates import demo as certificates_demo
from bdg_training.checkin import demo as checkin_demo
from bdg_training.courses import demo as courses_demo
from bdg_training.enrollment import demo as enrollment_demo
from bdg_training.notifications import demo as notifications_demo
from bdg_training.units import demo as units_demo


def demo_usernames() -> list[str]:
    return [username for username, *_ in auth_demo.DEMO_USERS]


def seed_all(*, today: date, passwords: dict[str, str]) -> dict[str, int]:
    """Run every seeder; returns counts for the summary line. The caller commits."""
    units = units_demo.seed(today)
    users = auth_demo.seed(units, passwords)
    courses = courses_demo.seed(today, units, users)
    enrolment = enrollment_demo.seed(today, units, users, courses)
    assessments = assessments_demo.seed(today, units, users, courses)
    certificates = certificates_demo.seed(today, units, users, courses)
    checkin = checkin_demo.seed(today, units, users, courses)
    notifications = notifications_demo.seed(courses)
    return {"đơn vị": len(units), "người dùng": len(users), "lớp tập huấn": len(courses), **enrolment, **assessments, **certificates, **checkin, **notifications}
