"""Checking in: only confirmed trainees of the course, only inside the session's window, only once."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bdg_training.audit.models import AuditEvent
from bdg_training.checkin import services
from bdg_training.database import serialized_writes
from bdg_training.enrollment.models import Attendance, Enrollment, Trainee
from bdg_training.extensions import db
from bdg_training.rules_base import RuleViolation
from tests.conftest import fresh

DAY = date(2026, 12, 7)
DURING = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam; the session runs 07:30–11:00


@pytest.fixture
def klass(make):
    unit = make.unit("Cờ Đỏ")
    course = make.course(unit, status="running", start_date=DAY, sessions=[(DAY, "07:30", "11:00"), (DAY, "13:30", "16:30")])
    trainee = make.trainee("Thạch Thị Sa Rươl")
    enrollment = make.enrollment(course, trainee, status="confirmed")
    return {
        "unit": unit,
        "course": course,
        "session": course.sessions[0],
        "afternoon": course.sessions[1],
        "trainee": trainee,
        "enrollment": enrollment,
    }


def _present(session) -> int:
    return db.session.scalar(select(func.count(Attendance.id)).where(Attendance.session_id == session.id, Attendance.status == "present"))


def test_a_confirmed_trainee_is_marked_present_once_and_audited(klass, make):
    user = make.user("trainee")
    first = services.check_in(user, klass["session"], klass["trainee"], now=DURING, method="qr")
    again = services.check_in(user, klass["session"], klass["trainee"], now=DURING + timedelta(minutes=5), method="qr")
    db.session.commit()
    assert (first.already, again.already) == (False, True)
    assert _present(klass["session"]) == 1
    assert services.arrivals(klass["session"]) == (1, 1)
    assert _present(klass["afternoon"]) == 0  # the other session is untouched
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "checkin.qr"))
    assert event.unit_id == klass["unit"].id and "Thạch Thị Sa Rươl" in event.summary
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action.like("checkin.%"))) == 1


def test_an_absence_entered_on_the_grid_becomes_present_when_the_person_arrives(klass, make):
    db.session.add(Attendance(enrollment_id=klass["enrollment"].id, session_id=klass["session"].id, status="absent"))
    db.session.commit()
    result = services.check_in(make.user("organizer", unit=klass["unit"]), klass["session"], klass["trainee"], now=DURING, method="scan")
    db.session.commit()
    assert not result.already and result.attendance.status == "present"
    assert db.session.scalar(select(func.count(Attendance.id))) == 1


@pytest.mark.parametrize(
    "moment, message",
    [
        (datetime(2026, 12, 6, 23, 59, tzinfo=UTC), "Chưa đến giờ điểm danh: mở từ 07:00 ngày 07/12/2026"),  # 06:59 in Vietnam
        (datetime(2026, 12, 7, 4, 1, tzinfo=UTC), "kết thúc lúc 11:00 ngày 07/12/2026"),  # 11:01
        (datetime(2026, 12, 8, 2, 0, tzinfo=UTC), "kết thúc"),
    ],
)
def test_outside_the_window_a_check_in_is_refused(klass, moment, message):
    with pytest.raises(RuleViolation, match=message):
        services.check_in(None, klass["session"], klass["trainee"], now=moment, method="qr")
    assert _present(klass["session"]) == 0


def test_the_window_opens_half_an_hour_before_the_start(klass):
    services.check_in(None, klass["session"], klass["trainee"], now=datetime(2026, 12, 7, 0, 0, tzinfo=UTC), method="qr")  # 07:00


def test_a_trainee_of_another_course_or_not_confirmed_is_refused(klass, make):
    other_course = make.course(klass["unit"], status="running", start_date=DAY)
    stranger = make.trainee("Lê Văn Khách", sex="nam")
    make.enrollment(other_course, stranger, status="confirmed")
    waiting = make.trainee("Trần Thị Chờ")
    make.enrollment(klass["course"], waiting, status="waitlisted", waitlist_position=1)
    for trainee in (stranger, waiting):
        with pytest.raises(RuleViolation, match="không có tên trong danh sách chính thức"):
            services.check_in(None, klass["session"], trainee, now=DURING, method="qr")
    with pytest.raises(RuleViolation, match="không gắn với học viên"):
        services.check_in(None, klass["session"], None, now=DURING, method="qr")
    assert _present(klass["session"]) == 0


@pytest.mark.parametrize("status", ["open", "closed", "cancelled"])
def test_a_course_that_does_not_take_attendance_refuses(klass, status):
    klass["course"].status = status
    db.session.commit()
    with pytest.raises(RuleViolation, match="chưa điểm danh được"):
        services.check_in(None, klass["session"], klass["trainee"], now=DURING, method="qr")


@pytest.mark.both_dbs
def test_parallel_replays_of_one_check_in_count_once(app, klass):
    session_id, trainee_id = klass["session"].id, klass["trainee"].id
    db.session.close()
    barrier = threading.Barrier(8)
    outcomes: list = []

    def scan() -> None:
        with app.app_context(), serialized_writes():
            try:
                barrier.wait(timeout=10)
                result = services.check_in(
                    None, services.load_session(session_id), db.session.get(Trainee, trainee_id), now=DURING, method="qr"
                )
                db.session.commit()
                outcomes.append(result.already)
            except BaseException as exc:  # noqa: BLE001 - reported below
                db.session.rollback()
                outcomes.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=scan) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes, key=str) == [False] + [True] * 7
    fresh()
    assert _present(klass["session"]) == 1
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "checkin.qr")) == 1


def test_personal_codes_identify_the_trainee_and_forgeries_are_refused(app, klass):
    code = services.personal_code(klass["trainee"].id)
    assert services.trainee_from_code(code).id == klass["trainee"].id
    assert services.trainee_from_code(f"https://x.vn/checkin/t/{code}").id == klass["trainee"].id
    with pytest.raises(RuleViolation):
        services.trainee_from_code(code[:-2] + "xx")
    with pytest.raises(RuleViolation, match="Không tìm thấy"):
        services.trainee_from_code(services.personal_code(999999))


def test_open_sessions_for_a_scanned_trainee_are_todays_in_scope(app, klass, make, monkeypatch):
    organizer = make.user("organizer", unit=klass["unit"])
    outsider = make.user("organizer", unit=make.unit("Vĩnh Thạnh"))
    assert [s.id for s in services.open_sessions_for(klass["trainee"], now=DURING, actor=organizer)] == [klass["session"].id]
    assert services.open_sessions_for(klass["trainee"], now=DURING, actor=outsider) == []
    assert services.open_sessions_for(klass["trainee"], now=DURING + timedelta(hours=12), actor=organizer) == []
    assert db.session.scalar(select(func.count(Enrollment.id))) == 1
