"""Demo data for notifications (idempotent).

- Every demo trainee without an e-mail address gets one at ``example.com`` (reserved for examples,
  RFC 2606: a demo mail can never reach a real person), so the mails can be followed.
- The enrolments of the open demo courses get the mails their registration would have queued
  (confirmed, waitlisted with position, received, rejected): the outbox and the development
  mailbox have something to show. Withdrawing a confirmed trainee of xã Cờ Đỏ's full open course
  then queues the "promoted" mail for the head of the waiting list.

Templates are not seeded: the Vietnamese defaults live in ``defaults.py`` and apply until an admin
edits one.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bdg_training.enrollment.models import Enrollment, Trainee
from bdg_training.extensions import db
from bdg_training.notifications.models import OutboxMessage
from bdg_training.notifications.services import notify_enrollment
from bdg_training.text import fold

DEMO_DOMAIN = "example.com"
OPEN_COURSES = ("codo_open", "vt_open")


def demo_address(trainee: Trainee) -> str:
    slug = ".".join(fold(trainee.full_name).split()) or "hocvien"
    return f"{slug}.{trainee.id}@{DEMO_DOMAIN}"


def seed(courses: dict) -> dict[str, int]:
    """Returns counts for the summary line. The caller commits."""
    for trainee in db.session.scalars(select(Trainee).where(Trainee.email.is_(None))):
        trainee.email = demo_address(trainee)
    db.session.flush()
    for key in OPEN_COURSES:
        course = courses.get(key)
        if course is None:
            continue
        enrollments = db.session.scalars(
            select(Enrollment)
            .where(Enrollment.course_id == course.id, Enrollment.status.in_(("pending", "confirmed", "waitlisted", "rejected")))
            .options(selectinload(Enrollment.trainee).selectinload(Trainee.user))
            .order_by(Enrollment.registered_at, Enrollment.id)
        ).all()
        for enrollment in enrollments:
            notify_enrollment(enrollment, reason=enrollment.note if enrollment.status == "rejected" else None)
    db.session.flush()
    return {"thư trong hộp thư đi": db.session.scalar(select(func.count(OutboxMessage.id)))}
