"""QR check-in: codes, QR images, and marking a trainee present at a session.

Two ways in, one rule (:func:`check_in`):

- the trainee scans the session's rotating QR code with their phone (``method="qr"``; the trainee
  is the signed-in user, never anyone named by the code);
- the organizer scans the trainee's personal code (``method="scan"``).

Either way the course must allow attendance (running, or finished for late corrections), the
session must be inside its check-in window, and the trainee must be *confirmed* in the course.
A second check-in changes nothing (Attendance is unique per enrolment × session; the enrolment
row is locked on PostgreSQL, writes are serialized on SQLite, and a unique-key race is caught in
a SAVEPOINT). An earlier "absent"/"excused" from the grid becomes "present" — the person is here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import segno
from flask import current_app, url_for
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from bdg_training.audit.services import record
from bdg_training.checkin import rules
from bdg_training.courses import rules as course_rules
from bdg_training.courses.models import Course, CourseSession
from bdg_training.courses.services import local_tz
from bdg_training.enrollment.models import Attendance, Enrollment, Trainee
from bdg_training.extensions import db
from bdg_training.rules_base import RuleViolation

PRESENT = "present"
CONFIRMED = "confirmed"


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def base_url() -> str:
    return current_app.config.get("BASE_URL", "").rstrip("/")


# --- codes -------------------------------------------------------------------------------------
def session_code(session_id: int, now: datetime) -> str:
    return rules.session_token(_secret(), session_id, rules.window_index(now))


def session_code_url(session_id: int, now: datetime) -> str:
    """What the screen's QR code encodes: ``BASE_URL/checkin/c/<code>``."""
    return base_url() + url_for("checkin.scan_code", token=session_code(session_id, now))


def verify_session_code(token: str, now: datetime) -> int:
    return rules.verify_session_token(_secret(), token, now=now)


def personal_code(trainee_id: int) -> str:
    return rules.trainee_token(_secret(), trainee_id)


def personal_code_url(trainee_id: int) -> str:
    return base_url() + url_for("checkin.personal", token=personal_code(trainee_id))


def trainee_from_code(scanned: str) -> Trainee:
    """The trainee of a scanned personal code (the URL or the bare code); RuleViolation otherwise."""
    try:
        trainee_id = rules.verify_trainee_token(_secret(), rules.extract_token(scanned))
    except rules.TokenError as exc:
        RuleViolation.single("code", str(exc))
    trainee = db.session.get(Trainee, trainee_id)
    if trainee is None:
        RuleViolation.single("code", "Không tìm thấy học viên của mã này.")
    return trainee


def qr_data_uri(text: str, *, scale: int = 8) -> str:
    """An SVG QR code as a ``data:`` URI (allowed by the CSP's ``img-src 'self' data:``)."""
    return segno.make(text, error="m", micro=False).svg_data_uri(scale=scale, border=3, dark="#000", light="#fff")


# --- sessions ----------------------------------------------------------------------------------
def load_session(session_id: int) -> CourseSession | None:
    return db.session.scalar(
        select(CourseSession).where(CourseSession.id == session_id).options(joinedload(CourseSession.course).joinedload(Course.unit))
    )


def window_of(session: CourseSession) -> rules.Window:
    return rules.checkin_window(session.date, session.start_time, session.end_time, local_tz())


@dataclass(frozen=True)
class ScreenState:
    state: str  # before | open | after | closed (course does not take attendance)
    message: str
    present: int
    confirmed: int
    window: int
    expires_in: float
    url: str | None
    qr: str | None

    def as_json(self) -> dict:
        return {
            "state": self.state,
            "message": self.message,
            "present": self.present,
            "confirmed": self.confirmed,
            "window": self.window,
            "expires_in": round(self.expires_in, 1),
            "url": self.url,
            "qr": self.qr,
        }


def arrivals(session: CourseSession) -> tuple[int, int]:
    """(present at this session, confirmed in the course) — two counts, whatever the class size."""
    present = db.session.scalar(
        select(func.count(Attendance.id))
        .join(Enrollment, Enrollment.id == Attendance.enrollment_id)
        .where(Attendance.session_id == session.id, Attendance.status == PRESENT, Enrollment.status == CONFIRMED)
    )
    confirmed = db.session.scalar(
        select(func.count(Enrollment.id)).where(Enrollment.course_id == session.course_id, Enrollment.status == CONFIRMED)
    )
    return present or 0, confirmed or 0


def screen_state(session: CourseSession, now: datetime) -> ScreenState:
    """What the organizer's screen shows now: the current code (only while check-in is possible)
    and the live counts."""
    tz = local_tz()
    window = window_of(session)
    present, confirmed = arrivals(session)
    state = window.state(now)
    url = qr = None
    if not course_rules.can_take_attendance(session.course.status):
        state = "closed"
        message = f"Lớp đang ở trạng thái “{session.course.status_label}”: chỉ điểm danh khi lớp đang diễn ra."
    elif state == "before":
        message = f"Mã QR sẽ hiện từ {window.opens.astimezone(tz):%H:%M} ngày {window.opens.astimezone(tz):%d/%m/%Y}."
    elif state == "after":
        message = "Buổi học đã kết thúc; sửa điểm danh trên bảng điểm danh của lớp."
    else:
        url = session_code_url(session.id, now)
        qr = qr_data_uri(url)
        message = "Đăng nhập trên điện thoại và quét mã để điểm danh."
    return ScreenState(state, message, present, confirmed, rules.window_index(now), rules.window_ends_in(now), url, qr)


def recent_arrivals(session: CourseSession, limit: int = 10) -> list[tuple[Trainee, datetime]]:
    rows = db.session.execute(
        select(Trainee, Attendance.recorded_at)
        .join(Enrollment, Enrollment.trainee_id == Trainee.id)
        .join(Attendance, Attendance.enrollment_id == Enrollment.id)
        .where(Attendance.session_id == session.id, Attendance.status == PRESENT)
        .order_by(Attendance.recorded_at.desc(), Attendance.id.desc())
        .limit(limit)
    )
    return [(trainee, at) for trainee, at in rows]


def trainee_of_user(user) -> Trainee | None:
    if user is None or getattr(user, "id", None) is None:
        return None
    return db.session.scalar(select(Trainee).where(Trainee.user_id == user.id))


# --- check-in ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckinResult:
    attendance: Attendance
    already: bool


def _enrollment(session: CourseSession, trainee: Trainee, *, lock: bool) -> Enrollment | None:
    query = select(Enrollment).where(Enrollment.course_id == session.course_id, Enrollment.trainee_id == trainee.id)
    if lock and db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return db.session.scalar(query)


def check_in_problems(session: CourseSession, trainee: Trainee | None, *, now: datetime, by_organizer: bool = False) -> RuleViolation:
    """Every reason this check-in would be refused (empty when it would pass)."""
    errors = RuleViolation()
    course = session.course
    if trainee is None:
        errors.add("", "Chỉ học viên mới tự điểm danh bằng mã QR; tài khoản này không gắn với học viên nào.")
        return errors
    if not course_rules.can_take_attendance(course.status):
        errors.add("", f"Lớp “{course.title}” đang ở trạng thái “{course.status_label}”, chưa điểm danh được.")
    try:
        rules.check_window(window_of(session), now, local_tz())
    except RuleViolation as exc:
        for message in exc.messages:
            errors.add("", message)
    enrollment = _enrollment(session, trainee, lock=False)
    if enrollment is None or enrollment.status != CONFIRMED:
        who = f"Học viên {trainee.full_name}" if by_organizer else "Bạn"
        errors.add("", f"{who} không có tên trong danh sách chính thức của lớp “{course.title}”.")
    return errors


def check_in(actor, session: CourseSession, trainee: Trainee | None, *, now: datetime, method: str) -> CheckinResult:
    """Mark ``trainee`` present at ``session`` (see the module docstring); audited.

    ``method``: "qr" (the trainee scanned the screen; ``actor`` is the trainee's user) or "scan"
    (the organizer scanned the trainee's personal code). Raises :class:`RuleViolation`.
    """
    check_in_problems(session, trainee, now=now, by_organizer=method == "scan").raise_if_any()
    enrollment = _enrollment(session, trainee, lock=True)  # serializes this person's check-ins on PostgreSQL
    if enrollment is None or enrollment.status != CONFIRMED:  # changed since the check
        RuleViolation.single("", f"Không có tên trong danh sách chính thức của lớp “{session.course.title}”.")
    attendance = db.session.scalar(select(Attendance).where(Attendance.enrollment_id == enrollment.id, Attendance.session_id == session.id))
    if attendance is not None and attendance.status == PRESENT:
        return CheckinResult(attendance, already=True)
    before = attendance.status if attendance is not None else None
    if attendance is None:
        attendance = Attendance(
            enrollment_id=enrollment.id, session_id=session.id, status=PRESENT, recorded_by_id=getattr(actor, "id", None), recorded_at=now
        )
        try:
            with db.session.begin_nested():
                db.session.add(attendance)
        except IntegrityError:
            # The same person checked in at the same instant in another request: theirs counts.
            existing = db.session.scalar(
                select(Attendance).where(Attendance.enrollment_id == enrollment.id, Attendance.session_id == session.id)
            )
            return CheckinResult(existing, already=True)
    else:
        attendance.status, attendance.recorded_by_id, attendance.recorded_at = PRESENT, getattr(actor, "id", None), now
        db.session.flush()
    how = "quét mã QR của buổi học" if method == "qr" else "cán bộ quét mã cá nhân"
    record(
        actor,
        f"checkin.{method}",
        attendance,
        f"Điểm danh có mặt {trainee.full_name} — lớp {session.course.code}, buổi {session.date:%d/%m/%Y} {session.start_time:%H:%M} ({how})",
        unit_id=session.course.unit_id,
        changes={"status": [before, PRESENT], "session_id": [None, session.id], "enrollment_id": [None, enrollment.id]},
    )
    return CheckinResult(attendance, already=False)


def attendance_of(session: CourseSession, trainee: Trainee | None) -> Attendance | None:
    if trainee is None:
        return None
    return db.session.scalar(
        select(Attendance)
        .join(Enrollment, Enrollment.id == Attendance.enrollment_id)
        .where(Attendance.session_id == session.id, Enrollment.trainee_id == trainee.id)
    )


def open_sessions_for(trainee: Trainee, *, now: datetime, actor) -> list[CourseSession]:
    """Sessions the organizer could check ``trainee`` into right now: in the organizer's scope,
    the trainee confirmed, the course taking attendance, inside the window (today's only)."""
    from bdg_training.access import scope_filter
    from bdg_training.courses.services import local_today

    today = local_today(now)
    sessions = db.session.scalars(
        select(CourseSession)
        .join(Course, Course.id == CourseSession.course_id)
        .join(Enrollment, Enrollment.course_id == Course.id)
        .where(
            Enrollment.trainee_id == trainee.id,
            Enrollment.status == CONFIRMED,
            CourseSession.date == today,
            scope_filter(Course.unit_id, actor),
        )
        .options(joinedload(CourseSession.course).joinedload(Course.unit))
        .order_by(CourseSession.start_time)
    ).all()
    return [s for s in sessions if course_rules.can_take_attendance(s.course.status) and window_of(s).state(now) == "open"]


def sessions_for_screen(*, actor, first, last) -> list[CourseSession]:
    """Sessions between ``first`` and ``last`` (local dates) of courses in scope that are not
    drafts or cancelled, for the check-in index."""
    from bdg_training.access import scope_filter

    return list(
        db.session.scalars(
            select(CourseSession)
            .join(Course, Course.id == CourseSession.course_id)
            .where(
                CourseSession.date >= first,
                CourseSession.date <= last,
                Course.status.notin_((course_rules.DRAFT, course_rules.CANCELLED)),
                scope_filter(Course.unit_id, actor),
            )
            .options(joinedload(CourseSession.course).joinedload(Course.unit))
            .order_by(CourseSession.date, CourseSession.start_time, CourseSession.id)
            .limit(200)
        )
    )
