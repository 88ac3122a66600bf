"""Demo data for QR check-in (idempotent).

A short running course of xã Cờ Đỏ, "DEMO-QR", with one session *today* open all day (00:00–23:59),
so QR check-in can be tried whatever the time: sign in as ``tochuc.codo`` on a computer, open
"Điểm danh QR" → the session's screen, and scan the code with a phone signed in as ``hocvien``
(who is confirmed in the course, with a few people of the running course). Running
``flask seed-demo`` again on another day moves the course and its session to that day.
"""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import select

from bdg_training.courses.models import Course, CourseSession
from bdg_training.database import utcnow
from bdg_training.enrollment.models import Enrollment, Trainee
from bdg_training.extensions import db

DEMO_CODE = "DEMO-QR"
DEMO_TITLE = "Sinh hoạt chuyên đề: thử điểm danh bằng mã QR"
OTHERS = 7  # people of the running course who also attend


def seed(today: date, units: dict, users: dict, courses: dict) -> dict[str, int]:
    unit = units.get("xa:Cờ Đỏ")
    running = courses.get("codo_running")
    if unit is None:
        return {}
    course = db.session.scalar(select(Course).where(Course.code == DEMO_CODE))
    if course is None:
        organizer = users.get("tochuc.codo")
        course = Course(
            code=DEMO_CODE,
            title=DEMO_TITLE,
            unit_id=unit.id,
            topic_id=running.topic_id if running is not None else None,
            venue="Hội trường UBND xã Cờ Đỏ",
            capacity=20,
            start_date=today,
            end_date=today,
            status="running",
            published_at=utcnow(),
            description="Lớp mẫu để thử điểm danh bằng mã QR: buổi học mở điểm danh cả ngày.",
            created_by_id=organizer.id if organizer is not None else None,
        )
        course.sessions.append(
            CourseSession(date=today, start_time=time(0, 0), end_time=time(23, 59, 59), subject="Thử điểm danh bằng mã QR (mở cả ngày)")
        )
        db.session.add(course)
        db.session.flush()
    elif course.start_date != today:
        course.start_date = course.end_date = today
        for session in course.sessions:
            session.date = today
        db.session.flush()

    people: list[Trainee] = []
    hocvien = users.get("hocvien")
    trainee = db.session.scalar(select(Trainee).where(Trainee.user_id == hocvien.id)) if hocvien is not None else None
    if trainee is not None:
        people.append(trainee)
    if running is not None:
        people += db.session.scalars(
            select(Trainee)
            .join(Enrollment, Enrollment.trainee_id == Trainee.id)
            .where(Enrollment.course_id == running.id, Enrollment.status == "confirmed")
            .order_by(Trainee.id)
            .limit(OTHERS)
        ).all()
    enrolled = set(db.session.scalars(select(Enrollment.trainee_id).where(Enrollment.course_id == course.id)))
    for person in people:
        if person.id not in enrolled:
            enrolled.add(person.id)
            db.session.add(
                Enrollment(
                    course_id=course.id,
                    trainee_id=person.id,
                    status="confirmed",
                    source="organizer",
                    registered_at=utcnow(),
                    decided_at=utcnow(),
                )
            )
    db.session.flush()
    return {"lớp thử điểm danh QR": 1}
