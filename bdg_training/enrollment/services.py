"""Enrolment services: trainees, accounts, registration with waiting list, approval, withdrawal,
attendance, import, duplicates and merge. They load → call rules → change → ``flush()``; the
caller commits once.

Concurrency: every change to a course's list starts with :func:`lock_course`, which takes a row
lock on the course on PostgreSQL (``SELECT … FOR UPDATE``) before anything is counted. On SQLite
writing transactions begin with ``BEGIN IMMEDIATE`` (every non-GET request, and code inside
``serialized_writes()``), which serializes them the same way. So "count the confirmed seats,
then insert" cannot overbook.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from flask_login import current_user
from sqlalchemy import and_, delete, exists, false, func, or_, select, true, update
from sqlalchemy.orm import aliased, selectinload

from bdg_training.access import _scope_root, subtree_select
from bdg_training.audit.services import diff, record
from bdg_training.auth import services as auth_services
from bdg_training.auth.models import User, new_session_token
from bdg_training.courses import rules as course_rules
from bdg_training.courses.models import Course, CourseSession
from bdg_training.database import as_utc
from bdg_training.enrollment import importer, rules
from bdg_training.enrollment.models import Attendance, Enrollment, ImportBatch, Trainee
from bdg_training.ethnicity import CODE_LIST
from bdg_training.extensions import db
from bdg_training.notifications.services import notify_enrollment  # notifications (issue 9): mails join this transaction
from bdg_training.rules_base import RuleViolation
from bdg_training.text import fold
from bdg_training.vn import normalize_phone, validate_personal_id

TRAINEE_FIELDS = (
    "family_name",
    "middle_name",
    "given_name",
    "full_name",
    "sex",
    "birth_date",
    "birth_year",
    "ethnicity_code",
    "personal_id",
    "cmnd",
    "phone",
    "email",
    "work_unit",
    "position",
    "target_group",
)


from bdg_training.clock import local_today  # noqa: E402,F401 - re-exported


# --------------------------------------------------------------------------------------------
# Scope
# --------------------------------------------------------------------------------------------
def trainee_scope(user=None):
    """WHERE clause: trainees a staff user may see — those of a unit in their subtree, and those
    enrolled in a course of a unit in their subtree. Everything for an admin, nothing otherwise."""
    who = user if user is not None else current_user
    root = _scope_root(who)
    if root is True:
        return true()
    if root is None:
        return false()
    tree = subtree_select(root)  # one CTE, used twice
    by_course = (
        select(Enrollment.id)
        .join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.trainee_id == Trainee.id, Course.unit_id.in_(tree))
        .exists()
    )
    return or_(Trainee.unit_id.in_(tree), by_course)


def trainee_in_scope(trainee_id: int, user=None) -> bool:
    return db.session.scalar(select(Trainee.id).where(Trainee.id == trainee_id, trainee_scope(user))) is not None


# --------------------------------------------------------------------------------------------
# Trainees
# --------------------------------------------------------------------------------------------
def _snapshot(trainee: Trainee) -> dict:
    values = {name: getattr(trainee, name) for name in TRAINEE_FIELDS}
    values["unit_id"] = trainee.unit_id
    for secret in ("personal_id", "cmnd"):  # the audit trail keeps masked numbers only
        if values[secret]:
            values[secret] = "…" + values[secret][-4:]
    return {key: value.isoformat() if isinstance(value, date) else value for key, value in values.items()}


def _check_unique(clean: rules.CleanTrainee, exclude_id: int | None = None) -> None:
    if not clean.personal_id:
        return
    query = select(Trainee.id).where(Trainee.personal_id == clean.personal_id)
    if exclude_id is not None:
        query = query.where(Trainee.id != exclude_id)
    if db.session.scalar(query) is not None:
        RuleViolation.single(
            "personal_id",
            "Số định danh cá nhân này đã có trong hệ thống. Nếu đó là bạn, hãy đăng nhập; nếu không, vui lòng liên hệ đơn vị tổ chức.",
        )


def _apply(trainee: Trainee, clean: rules.CleanTrainee) -> None:
    for name, value in clean.as_dict().items():
        setattr(trainee, name, value)
    trainee.ethnicity_code_list = CODE_LIST if clean.ethnicity_code else None
    trainee.refresh_keys()


def create_trainee(actor, clean: rules.CleanTrainee, *, unit_id: int | None = None, user: User | None = None, consent_at: datetime | None = None) -> Trainee:
    """A new trainee from validated data (:func:`rules.clean_trainee`); the personal ID must be new."""
    _check_unique(clean)
    trainee = Trainee(unit_id=unit_id, user=user, consent_at=consent_at, created_by_id=getattr(actor, "id", None))
    _apply(trainee, clean)
    db.session.add(trainee)
    db.session.flush()
    record(actor, "trainee.create", trainee, f"Thêm học viên {trainee.full_name}")
    return trainee


def update_trainee(actor, trainee: Trainee, clean: rules.CleanTrainee, *, unit_id: int | None) -> Trainee:
    _check_unique(clean, exclude_id=trainee.id)
    before = _snapshot(trainee)
    _apply(trainee, clean)
    trainee.unit_id = unit_id
    if trainee.user is not None:
        trainee.user.full_name = trainee.full_name
    db.session.flush()
    record(actor, "trainee.update", trainee, f"Sửa hồ sơ học viên {trainee.full_name}", changes=diff(before, _snapshot(trainee)))
    return trainee


def username_for_phone(phone_e164: str) -> str:
    """Trainee accounts log in with their phone number in national form: +84912345678 → 0912345678."""
    return "0" + phone_e164[3:]


def sign_up(clean: rules.CleanTrainee, *, password: str, unit_id: int | None, now: datetime) -> tuple[User, Trainee]:
    """Self sign-up: a trainee account (login = the phone number) and its trainee record, in one
    step. The privacy notice was accepted (``consent_at = now``). Raises :class:`RuleViolation`
    keyed by form field."""
    if not clean.phone:
        RuleViolation.single("phone", "Vui lòng nhập số điện thoại: đó là tên đăng nhập của bạn.")
    _check_unique(clean)
    try:
        user = auth_services.create_user(
            None,
            username=username_for_phone(clean.phone),
            full_name=clean.full_name,
            role="trainee",
            unit_id=None,
            password=password,
            email=clean.email,
        )
    except RuleViolation as exc:
        errors = RuleViolation()
        for key, messages in exc.errors.items():
            for message in messages:
                if key == "username":
                    errors.add("phone", "Số điện thoại này đã có tài khoản; vui lòng đăng nhập.")
                else:
                    errors.add(key, message)
        raise errors from None
    trainee = create_trainee(user, clean, unit_id=unit_id, user=user, consent_at=now)
    return user, trainee


# --------------------------------------------------------------------------------------------
# Seats: lock, count, decide
# --------------------------------------------------------------------------------------------
def lock_course(course_id: int) -> Course:
    """Load the course with a row lock (PostgreSQL ``FOR UPDATE``; SQLite is already serialized)
    and fresh values: every seat decision of the course waits here for the one before."""
    course = db.session.execute(
        select(Course).where(Course.id == course_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if course is None:
        RuleViolation.single("", "Không tìm thấy lớp.")
    return course


def seat_counts(course_id: int) -> tuple[int, int | None]:
    """(confirmed count, highest waitlist position) of a course, read after the lock."""
    confirmed = db.session.scalar(
        select(func.count(Enrollment.id)).where(Enrollment.course_id == course_id, Enrollment.status == rules.CONFIRMED)
    )
    max_position = db.session.scalar(
        select(func.max(Enrollment.waitlist_position)).where(Enrollment.course_id == course_id, Enrollment.status == rules.WAITLISTED)
    )
    return confirmed or 0, max_position


def status_counts(course_ids) -> dict[int, dict[str, int]]:
    """{course_id: {status: count}} in one query."""
    ids = list(course_ids)
    counts: dict[int, dict[str, int]] = {cid: {} for cid in ids}
    if ids:
        rows = db.session.execute(
            select(Enrollment.course_id, Enrollment.status, func.count(Enrollment.id))
            .where(Enrollment.course_id.in_(ids))
            .group_by(Enrollment.course_id, Enrollment.status)
        )
        for course_id, status, n in rows:
            counts[course_id][status] = n
    return counts


def _existing(course_id: int, trainee_id: int) -> Enrollment | None:
    return db.session.execute(
        select(Enrollment).where(Enrollment.course_id == course_id, Enrollment.trainee_id == trainee_id).execution_options(populate_existing=True)
    ).scalar_one_or_none()


def _place(course: Course, trainee: Trainee, existing: Enrollment | None, *, needs_approval: bool, source: str, actor, now: datetime) -> Enrollment:
    confirmed, max_position = seat_counts(course.id)
    status, position = rules.decide_new_enrollment(course.capacity, confirmed, needs_approval, max_position)
    enrollment = existing or Enrollment(course_id=course.id, trainee_id=trainee.id)
    enrollment.status, enrollment.waitlist_position, enrollment.source = status, position, source
    enrollment.registered_at, enrollment.withdrawn_at = now, None
    if status == rules.PENDING:
        enrollment.decided_at, enrollment.decided_by_id = None, None
    else:
        enrollment.decided_at, enrollment.decided_by_id = now, getattr(actor, "id", None) if source != rules.SOURCE_SELF else None
    if existing is None:
        db.session.add(enrollment)
    db.session.flush()
    enrollment.course = course
    return enrollment


def _placement_text(enrollment: Enrollment) -> str:
    if enrollment.status == rules.WAITLISTED:
        return f"danh sách chờ, vị trí {enrollment.waitlist_position}"
    return rules.status_label(enrollment.status).lower()


def register(actor, course_id: int, trainee: Trainee, *, now: datetime) -> Enrollment:
    """A trainee registers themself for an open course, inside its registration window.

    Pending when the course needs approval; otherwise confirmed while seats are free, then
    waitlisted with the next position. A withdrawn registration is reactivated (at the end of
    the line). Raises :class:`RuleViolation` (key "") when registration is closed or the trainee
    is already on the list.
    """
    course = lock_course(course_id)
    course_rules.check_registration_open(course.status, as_utc(course.reg_opens_at), as_utc(course.reg_closes_at), now)
    existing = _existing(course.id, trainee.id)
    rules.check_new_registration(existing.status if existing else None)
    enrollment = _place(course, trainee, existing, needs_approval=course.needs_approval, source=rules.SOURCE_SELF, actor=actor, now=now)
    record(actor, "enrollment.register", enrollment, f"{trainee.full_name} đăng ký lớp {course.code}: {_placement_text(enrollment)}", unit_id=course.unit_id)
    notify_enrollment(enrollment)  # notifications: received / confirmed / waitlisted
    return enrollment


def enrol_by_organizer(actor, course_id: int, trainee: Trainee, *, now: datetime, source: str = rules.SOURCE_ORGANIZER) -> Enrollment:
    """An organizer puts a trainee on a course's list (no approval step: the organizer decides).
    Seats and waitlist as for :func:`register`; allowed in draft/open/closed/running courses."""
    course = lock_course(course_id)
    existing = _existing(course.id, trainee.id)
    rules.check_organizer_enrollment(existing.status if existing else None, course.status)
    enrollment = _place(course, trainee, existing, needs_approval=False, source=source, actor=actor, now=now)
    record(actor, "enrollment.enrol", enrollment, f"Ghi danh {trainee.full_name} vào lớp {course.code}: {_placement_text(enrollment)}", unit_id=course.unit_id)
    notify_enrollment(enrollment)  # notifications: confirmed / waitlisted
    return enrollment


def rebalance_course(course: Course, actor, now: datetime) -> list[Enrollment]:
    """Fill free seats from the head of the waiting list and renumber the rest 1..n.

    Call it after anything that may free seats: a withdrawal, a capacity increase (the courses
    blueprint calls it after saving a course), an approval batch. Finished and cancelled courses
    are history and are left alone. Returns the promoted enrolments (each audited).
    """
    course = lock_course(course.id)
    if course.status in course_rules.TERMINAL_STATUSES:
        return []
    confirmed, _ = seat_counts(course.id)
    waiting = db.session.scalars(
        select(Enrollment)
        .where(Enrollment.course_id == course.id, Enrollment.status == rules.WAITLISTED)
        .options(selectinload(Enrollment.trainee))
        .execution_options(populate_existing=True)
    ).all()
    by_id = {e.id: e for e in waiting}
    plan = rules.rebalance(course.capacity, confirmed, [(e.id, e.waitlist_position or 0) for e in waiting])
    promoted = []
    for enrollment_id in plan.promote:
        enrollment = by_id[enrollment_id]
        enrollment.status, enrollment.waitlist_position = rules.CONFIRMED, None
        enrollment.decided_at, enrollment.decided_by_id = now, getattr(actor, "id", None)
        promoted.append(enrollment)
    for enrollment_id, position in plan.positions:
        by_id[enrollment_id].waitlist_position = position
    db.session.flush()
    for enrollment in promoted:
        record(
            actor,
            "enrollment.promote",
            enrollment,
            f"{enrollment.trainee.full_name} được chuyển từ danh sách chờ vào lớp {course.code}",
            unit_id=course.unit_id,
        )
        notify_enrollment(enrollment, "enrollment_promoted")  # notifications: one mail per promotion
    return promoted


def withdraw(actor, enrollment: Enrollment, *, now: datetime, reason: str | None = None) -> list[Enrollment]:
    """Withdraw an enrolment (by the trainee or an organizer); promote from the waiting list when
    a seat frees up, and renumber the line. Returns the promoted enrolments."""
    course = lock_course(enrollment.course_id)
    db.session.refresh(enrollment)
    rules.check_withdrawal(enrollment.status, course_status=course.status)
    before = enrollment.status
    enrollment.status, enrollment.waitlist_position, enrollment.withdrawn_at = rules.WITHDRAWN, None, now
    if reason:
        enrollment.note = reason
    db.session.flush()
    who = "tự rút" if getattr(actor, "id", None) is not None and actor.id == enrollment.trainee.user_id else "được rút"
    record(
        actor,
        "enrollment.withdraw",
        enrollment,
        f"{enrollment.trainee.full_name} {who} khỏi lớp {course.code}",
        unit_id=course.unit_id,
        changes={"status": [before, rules.WITHDRAWN]},
    )
    return rebalance_course(course, actor, now)


def decide(actor, course: Course, enrollment_ids, *, approve: bool, now: datetime, note: str | None = None) -> dict[str, int]:
    """Approve or reject pending registrations, in registration order (so the earliest get the
    seats). An approved registration is confirmed while seats are free, then waitlisted
    (:func:`rules.approval_outcome`). All or nothing: any selected enrolment that is not pending
    refuses the batch. Returns counts by resulting status."""
    course = lock_course(course.id)
    ids = sorted({int(i) for i in enrollment_ids})
    if not ids:
        RuleViolation.single("", "Chưa chọn học viên nào.")
    enrollments = db.session.scalars(
        select(Enrollment)
        .where(Enrollment.course_id == course.id, Enrollment.id.in_(ids))
        .options(selectinload(Enrollment.trainee))
        .order_by(Enrollment.registered_at, Enrollment.id)
        .execution_options(populate_existing=True)
    ).all()
    errors = RuleViolation()
    if len(enrollments) != len(ids):
        errors.add("", "Có ghi danh không thuộc lớp này.")
    for enrollment in enrollments:
        try:
            rules.check_approval(enrollment.status)
        except RuleViolation as exc:
            errors.add("", f"{enrollment.trainee.full_name}: {exc}")
    errors.raise_if_any()
    confirmed, max_position = seat_counts(course.id)
    result: dict[str, int] = defaultdict(int)
    for enrollment in enrollments:
        if approve:
            status, position = rules.approval_outcome(course.capacity, confirmed, max_position)
            if status == rules.CONFIRMED:
                confirmed += 1
            else:
                max_position = position
        else:
            status, position = rules.REJECTED, None
        enrollment.status, enrollment.waitlist_position = status, position
        enrollment.decided_at, enrollment.decided_by_id = now, getattr(actor, "id", None)
        if note:
            enrollment.note = note
        result[status] += 1
        db.session.flush()
        record(
            actor,
            "enrollment.approve" if approve else "enrollment.reject",
            enrollment,
            f"{'Duyệt' if approve else 'Từ chối'} đăng ký của {enrollment.trainee.full_name} (lớp {course.code}): {_placement_text(enrollment)}",
            unit_id=course.unit_id,
        )
        notify_enrollment(enrollment, reason=None if approve else note)  # notifications: confirmed / waitlisted / rejected
    return dict(result)


# --------------------------------------------------------------------------------------------
# Roster and attendance
# --------------------------------------------------------------------------------------------
@dataclass
class RosterRow:
    enrollment: Enrollment
    trainee: Trainee
    summary: rules.AttendanceSummary | None  # confirmed enrolments only


def held_sessions(course: Course, today: date) -> list[CourseSession]:
    return [s for s in course.sessions if s.date <= today]


def attendance_map(course_id: int) -> dict[tuple[int, int], str]:
    """{(enrollment_id, session_id): status} for a whole course, in one query."""
    rows = db.session.execute(
        select(Attendance.enrollment_id, Attendance.session_id, Attendance.status)
        .join(Enrollment, Enrollment.id == Attendance.enrollment_id)
        .where(Enrollment.course_id == course_id)
    )
    return {(e, s): status for e, s, status in rows}


def roster(course: Course, *, today: date, statuses=None) -> list[RosterRow]:
    """The class list, sorted the Vietnamese way (tên → tên đệm → họ, then date of birth), with
    each confirmed trainee's attendance over the sessions held so far. A fixed number of queries,
    whatever the size of the class."""
    query = select(Enrollment).where(Enrollment.course_id == course.id).options(selectinload(Enrollment.trainee))
    if statuses:
        query = query.where(Enrollment.status.in_(list(statuses)))
    enrollments = db.session.scalars(query).all()
    held = [s.id for s in held_sessions(course, today)]
    marks = attendance_map(course.id) if held else {}
    rows = []
    for enrollment in enrollments:
        summary = None
        if enrollment.status == rules.CONFIRMED:
            summary = rules.attendance_summary(marks.get((enrollment.id, sid)) for sid in held)
        rows.append(RosterRow(enrollment, enrollment.trainee, summary))
    rows.sort(key=lambda row: (row.trainee.name_key(), row.enrollment.id))
    return rows


def waitlist(course: Course) -> list[Enrollment]:
    return list(
        db.session.scalars(
            select(Enrollment)
            .where(Enrollment.course_id == course.id, Enrollment.status == rules.WAITLISTED)
            .options(selectinload(Enrollment.trainee))
            .order_by(Enrollment.waitlist_position, Enrollment.id)
        )
    )


def _check_attendance_allowed(course: Course) -> None:
    if not course_rules.can_take_attendance(course.status):
        RuleViolation.single("", f"Chỉ điểm danh khi lớp đang diễn ra hoặc đã kết thúc (lớp hiện: {course.status_label.lower()}).")


def save_attendance(actor, course: Course, marks: dict[tuple[int, int], str | None], *, today: date, now: datetime) -> int:
    """Record attendance for (enrollment, session) pairs of one course: "present", "absent",
    "excused", or ``None`` to clear a mark. Only confirmed enrolments and sessions held so far
    (date ≤ today). Returns how many marks changed (audited as one event)."""
    _check_attendance_allowed(course)
    held = {s.id for s in held_sessions(course, today)}
    confirmed = set(
        db.session.scalars(select(Enrollment.id).where(Enrollment.course_id == course.id, Enrollment.status == rules.CONFIRMED))
    )
    errors = RuleViolation()
    for (enrollment_id, session_id), status in marks.items():
        if session_id not in held:
            errors.add("", "Chỉ điểm danh được các buổi học đã diễn ra.")
        if enrollment_id not in confirmed:
            errors.add("", "Chỉ điểm danh học viên đã được xác nhận trong lớp.")
        if status is not None and status not in rules.ATTENDANCE_STATUSES:
            errors.add("", f"Trạng thái điểm danh không hợp lệ: “{status}”.")
        if errors:
            break
    errors.raise_if_any()
    current = {
        (a.enrollment_id, a.session_id): a
        for a in db.session.scalars(
            select(Attendance).join(Enrollment, Enrollment.id == Attendance.enrollment_id).where(Enrollment.course_id == course.id)
        )
    }
    changed = 0
    for key, status in marks.items():
        row = current.get(key)
        if status is None:
            if row is not None:
                db.session.delete(row)
                changed += 1
        elif row is None:
            db.session.add(Attendance(enrollment_id=key[0], session_id=key[1], status=status, recorded_by_id=getattr(actor, "id", None), recorded_at=now))
            changed += 1
        elif row.status != status:
            row.status, row.recorded_by_id, row.recorded_at = status, getattr(actor, "id", None), now
            changed += 1
    db.session.flush()
    if changed:
        record(actor, "attendance.record", course, f"Điểm danh lớp {course.code}: {changed} thay đổi", object_type="courses", object_id=course.id, unit_id=course.unit_id)
    return changed


def mark_all_present(actor, course: Course, session: CourseSession, *, today: date, now: datetime) -> int:
    """"Có mặt đủ": every confirmed trainee present at one held session."""
    if session.course_id != course.id:
        RuleViolation.single("", "Buổi học không thuộc lớp này.")
    confirmed = db.session.scalars(select(Enrollment.id).where(Enrollment.course_id == course.id, Enrollment.status == rules.CONFIRMED)).all()
    return save_attendance(actor, course, {(eid, session.id): rules.PRESENT for eid in confirmed}, today=today, now=now)


# --------------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------------
def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def search_trainees(q: str, *, user=None, limit: int = 30) -> list[Trainee]:
    """Find trainees for an organizer: by name (folded: "hoà", "hòa" and "hoa" find each other),
    within their scope; or by an exact personal ID, CMND or phone number, anywhere (whoever typed
    the whole number already knows the person; only the name is shown)."""
    text = (q or "").strip()
    if not text:
        return []
    conditions = []
    digits = _digits(text)
    if digits and len(digits) >= 9 and len(digits) == len(text.replace(" ", "").replace(".", "").replace("+", "").replace("-", "")):
        exact = [Trainee.cmnd == digits]
        try:
            exact.append(Trainee.personal_id == validate_personal_id(digits))
        except ValueError:
            pass
        try:
            exact.append(Trainee.phone == normalize_phone(text))
        except ValueError:
            pass
        conditions.append(or_(*exact))
    key = fold(text)
    if key and not digits:
        name_match = and_(*[Trainee.name_fold.contains(word, autoescape=True) for word in key.split()])
        conditions.append(and_(name_match, trainee_scope(user)))
    if not conditions:
        return []
    return list(db.session.scalars(select(Trainee).where(or_(*conditions)).order_by(Trainee.sort_key, Trainee.id).limit(limit)))


def list_trainees_query(q: str = "", *, user=None):
    """The staff list of trainees (scoped), sorted tên → tên đệm → họ, filtered by a folded name
    or a number (ID, CMND, phone)."""
    query = select(Trainee).where(trainee_scope(user)).order_by(Trainee.sort_key, Trainee.id)
    text = (q or "").strip()
    if text:
        digits = _digits(text)
        if digits and not fold(text).replace(" ", "").replace(digits, "").strip("+.-"):
            phone_like = digits[1:] if digits.startswith("0") else digits
            query = query.where(
                or_(Trainee.personal_id.contains(digits), Trainee.cmnd.contains(digits), Trainee.phone.contains(phone_like))
            )
        else:
            for word in fold(text).split():
                query = query.where(Trainee.name_fold.contains(word, autoescape=True))
    return query


# --------------------------------------------------------------------------------------------
# Duplicates and merge
# --------------------------------------------------------------------------------------------
def duplicate_groups(limit: int = 100) -> list[list[Trainee]]:
    """Likely duplicates (DOMAIN R14): the same folded name + date of birth (or year) + sex, or the
    same identity number (a personal ID equal to another record's CMND, or two equal CMNDs)."""
    key_rows = db.session.execute(
        select(Trainee.name_fold, Trainee.birth_year, Trainee.birth_date, Trainee.sex)
        .where(Trainee.birth_year.is_not(None))
        .group_by(Trainee.name_fold, Trainee.birth_year, Trainee.birth_date, Trainee.sex)
        .having(func.count(Trainee.id) > 1)
        .limit(limit)
    ).all()
    other = aliased(Trainee)
    id_pairs = db.session.execute(
        select(Trainee.id, other.id)
        .join(other, and_(other.id > Trainee.id, or_(other.cmnd == Trainee.personal_id, other.personal_id == Trainee.cmnd, other.cmnd == Trainee.cmnd)))
        .where(or_(Trainee.personal_id.is_not(None), Trainee.cmnd.is_not(None)))
        .limit(limit)
    ).all()
    conditions = [
        and_(
            Trainee.name_fold == name,
            Trainee.birth_year == year,
            Trainee.birth_date.is_(None) if birth is None else Trainee.birth_date == birth,
            Trainee.sex == sex,
        )
        for name, year, birth, sex in key_rows
    ]
    ids = {i for pair in id_pairs for i in pair}
    if ids:
        conditions.append(Trainee.id.in_(ids))
    if not conditions:
        return []
    trainees = db.session.scalars(
        select(Trainee).where(or_(*conditions)).options(selectinload(Trainee.enrollments).selectinload(Enrollment.course), selectinload(Trainee.user))
    ).all()
    by_id = {t.id: t for t in trainees}
    groups: list[list[Trainee]] = []
    keyed: dict[tuple, list[Trainee]] = defaultdict(list)
    for trainee in trainees:
        if trainee.birth_year is not None:
            keyed[(trainee.name_fold, trainee.birth_year, trainee.birth_date, trainee.sex)].append(trainee)
    groups.extend(g for g in keyed.values() if len(g) > 1)
    grouped = {t.id for g in groups for t in g}
    for a, b in id_pairs:
        if a in by_id and b in by_id and not ({a, b} <= grouped):
            groups.append([by_id[a], by_id[b]])
    for group in groups:
        group.sort(key=lambda t: t.id)
    groups.sort(key=lambda g: g[0].name_key())
    return groups


_FILLABLE = ("birth_date", "birth_year", "ethnicity_code", "ethnicity_code_list", "cmnd", "phone", "email", "work_unit", "unit_id", "position", "target_group")


def _refuse_losing_results(loser: Enrollment) -> None:
    """A duplicate enrolment is deleted in a merge: never when it holds test results or a certificate."""
    from bdg_training.assessments.models import Attempt
    from bdg_training.certificates.models import Certificate

    if db.session.scalar(select(Attempt.id).where(Attempt.enrollment_id == loser.id).limit(1)) or db.session.scalar(
        select(Certificate.id).where(Certificate.enrollment_id == loser.id).limit(1)
    ):
        RuleViolation.single(
            "",
            f"Cả hai hồ sơ cùng ghi danh lớp {loser.course.code} và ghi danh sẽ bị bỏ đã có bài kiểm tra hoặc giấy chứng nhận; "
            "hãy rút hoặc xử lý ghi danh đó trước khi gộp.",
        )


def _move_certificates(drop: Trainee, keep: Trainee) -> None:
    """Certificates follow their holder; their printed snapshot never changes."""
    from bdg_training.certificates.models import Certificate

    db.session.execute(update(Certificate).where(Certificate.trainee_id == drop.id).values(trainee_id=keep.id))


def merge_trainees(actor, keep: Trainee, drop: Trainee, *, now: datetime) -> Trainee:
    """Merge ``drop`` into ``keep`` (admin; audited), keeping every enrolment:

    - each enrolment of ``drop`` moves to ``keep``; where both were in the same course, the better
      one survives (:func:`rules.merge_survivor`) and takes over the other's attendance marks;
    - empty fields of ``keep`` are filled from ``drop`` (personal ID included); ``keep``'s own
      values are never overwritten;
    - ``drop``'s account moves to ``keep`` if ``keep`` has none, else it is locked;
    - ``drop`` is deleted; the audit event keeps what it held (IDs masked) and where things went.
    """
    if keep.id == drop.id:
        RuleViolation.single("", "Không thể gộp một học viên với chính mình.")
    if keep.sex != drop.sex:
        RuleViolation.single("", "Hai hồ sơ khác giới tính; không thể gộp.")
    snapshot = _snapshot(drop) | {"id": drop.id}
    kept_enrollments = {e.course_id: e for e in keep.enrollments}
    moved, merged_into = [], []
    touched_courses: set[int] = set()
    for enrollment in list(drop.enrollments):
        other = kept_enrollments.get(enrollment.course_id)
        if other is None:
            enrollment.trainee = keep
            moved.append(enrollment.id)
            continue
        survivor_id = rules.merge_survivor(
            (other.id, other.status, other.waitlist_position), (enrollment.id, enrollment.status, enrollment.waitlist_position)
        )
        survivor, loser = (other, enrollment) if survivor_id == other.id else (enrollment, other)
        _refuse_losing_results(loser)
        marked = {a.session_id for a in survivor.attendances}
        for attendance in list(loser.attendances):
            if attendance.session_id not in marked:
                attendance.enrollment = survivor
        db.session.flush()
        merged_into.append({"course_id": enrollment.course_id, "kept": survivor.id, "removed": loser.id, "removed_status": loser.status})
        touched_courses.add(enrollment.course_id)
        db.session.delete(loser)
        db.session.flush()
        if survivor is enrollment:
            enrollment.trainee = keep
    db.session.flush()
    _move_certificates(drop, keep)
    filled = {}
    if drop.personal_id and not keep.personal_id:
        pid, drop.personal_id = drop.personal_id, None
        db.session.flush()
        keep.personal_id = pid
        filled["personal_id"] = "…" + pid[-4:]
    for name in _FILLABLE:
        if getattr(keep, name) in (None, "") and getattr(drop, name) not in (None, ""):
            setattr(keep, name, getattr(drop, name))
            filled[name] = str(getattr(drop, name)) if name != "cmnd" else "…" + drop.cmnd[-4:]
    if keep.birth_date is not None:
        keep.birth_year = keep.birth_date.year
    drop_user = drop.user
    if drop_user is not None:
        drop.user_id = None
        db.session.flush()
        if keep.user_id is None:
            keep.user_id = drop_user.id
            filled["user"] = drop_user.username
        else:
            drop_user.active = False
            drop_user.session_token = new_session_token()
            record(actor, "user.deactivate", drop_user, f"Khóa tài khoản {drop_user.username} (hồ sơ học viên đã được gộp)")
    db.session.flush()
    db.session.expire(drop, ["enrollments"])
    db.session.delete(drop)
    db.session.flush()
    record(
        actor,
        "trainee.merge",
        keep,
        f"Gộp hồ sơ học viên #{snapshot['id']} ({snapshot['full_name']}) vào #{keep.id} ({keep.full_name})",
        changes={"removed": snapshot, "moved_enrollments": moved, "merged_enrollments": merged_into, "filled": filled},
    )
    for course_id in touched_courses:
        rebalance_course(db.session.get(Course, course_id), actor, now)
    return keep


# --------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------
def purge_stale_batches(now: datetime, user_id: int, course_id: int) -> None:
    """Forget uploads older than a day, and the user's earlier upload for the same course."""
    from datetime import timedelta

    db.session.execute(
        delete(ImportBatch).where(
            or_(ImportBatch.created_at < now - timedelta(days=1), and_(ImportBatch.user_id == user_id, ImportBatch.course_id == course_id))
        )
    )


def store_batch(actor, course: Course, filename: str, table: importer.RawTable, *, now: datetime) -> ImportBatch:
    """Keep an uploaded table until the organizer confirms it (one pending upload per user and course)."""
    purge_stale_batches(now, actor.id, course.id)
    batch = ImportBatch(
        course_id=course.id,
        user_id=actor.id,
        filename=filename[:255],
        headers=[table.headers, table.keys],
        rows=[[line, cells] for line, cells in table.rows],
        encoding=importer.detect_encoding(table).encoding,
        convert=False,
        created_at=now,
    )
    db.session.add(batch)
    db.session.flush()
    return batch


def batch_table(batch: ImportBatch) -> importer.RawTable:
    headers, keys = batch.headers
    return importer.RawTable(headers=headers, keys=keys, rows=[[line, cells] for line, cells in batch.rows])


def import_lookup(course: Course, table: importer.RawTable, today: date, convert: str | None) -> importer.Lookup:
    """What the database knows about the people in ``table`` (three queries)."""
    pids, names = set(), set()
    for _, cells in table.rows:
        data, _ = importer.row_input(table.keys, cells, convert)
        if data.personal_id:
            pid = importer.clean_text(str(data.personal_id)).replace(" ", "")
            pids.add(pid)
        name = importer.clean_text(data.full_name) or rules.compose_full_name(data.family_name, data.middle_name, data.given_name)
        if name:
            names.add(fold(name))
    lookup = importer.Lookup()
    found: list[Trainee] = []
    if pids:
        found += db.session.scalars(select(Trainee).where(Trainee.personal_id.in_(pids))).all()
    if names:
        found += db.session.scalars(select(Trainee).where(Trainee.name_fold.in_(names), Trainee.birth_year.is_not(None))).all()
    for trainee in found:
        existing = importer.Existing(trainee.id, trainee.full_name, trainee.sex, trainee.birth_date, trainee.birth_year, trainee.personal_id)
        if trainee.personal_id:
            lookup.by_personal_id[trainee.personal_id] = existing
        key = rules.duplicate_key(trainee.full_name, trainee.birth_date, trainee.birth_year, trainee.sex)
        bucket = lookup.by_duplicate_key.setdefault(key, [])
        if all(e.id != trainee.id for e in bucket):
            bucket.append(existing)
    if found:
        lookup.enrolled_trainee_ids = set(
            db.session.scalars(
                select(Enrollment.trainee_id).where(
                    Enrollment.course_id == course.id,
                    Enrollment.trainee_id.in_({t.id for t in found}),
                    Enrollment.status.in_(list(rules.ACTIVE_STATUSES)),
                )
            )
        )
    return lookup


def preview_batch(batch: ImportBatch, *, today: date) -> importer.Preview:
    table = batch_table(batch)
    convert = batch.encoding if batch.convert else None
    return importer.check_rows(table, import_lookup(batch.course, table, today, convert), today, convert=convert)


def commit_import(actor, batch: ImportBatch, *, today: date, now: datetime) -> dict[str, int]:
    """Create the new trainees and enrol everyone of a checked upload — all or nothing.

    The rows are checked again inside the locked transaction (someone may have enrolled the
    same people meanwhile); any error refuses the whole file. A legacy-encoded file is refused
    unless the user chose to convert it. Returns counts (new, existing, confirmed, waitlisted).
    """
    course = lock_course(batch.course_id)
    if batch.encoding and not batch.convert:
        RuleViolation.single("", "Tệp dùng bảng mã cũ; hãy chọn chuyển đổi sang Unicode trước khi nhập.")
    preview = preview_batch(batch, today=today)
    if not preview.ok:
        RuleViolation.single("", f"Còn {len(preview.bad_rows)} dòng lỗi; chưa nhập dòng nào. Hãy sửa tệp và tải lên lại.")
    rules.check_organizer_enrollment(None, course.status)
    counts: dict[str, int] = defaultdict(int)
    created_ids, enrollment_ids = [], []
    existing_trainees = {
        t.id: t for t in db.session.scalars(select(Trainee).where(Trainee.id.in_({r.existing_id for r in preview.rows if r.existing_id})))
    }
    confirmed, max_position = seat_counts(course.id)
    current = {
        e.trainee_id: e for e in db.session.scalars(select(Enrollment).where(Enrollment.course_id == course.id, Enrollment.trainee_id.in_(list(existing_trainees))))
    }
    for row in preview.rows:
        if row.existing_id is not None:
            trainee = existing_trainees[row.existing_id]
            counts["existing"] += 1
        else:
            _check_unique(row.trainee)
            trainee = Trainee(unit_id=None, created_by_id=actor.id)
            _apply(trainee, row.trainee)
            db.session.add(trainee)
            db.session.flush()
            created_ids.append(trainee.id)
            counts["new"] += 1
        status, position = rules.decide_new_enrollment(course.capacity, confirmed, False, max_position)
        if status == rules.CONFIRMED:
            confirmed += 1
        else:
            max_position = position
        enrollment = current.get(trainee.id) or Enrollment(course_id=course.id, trainee_id=trainee.id)
        enrollment.status, enrollment.waitlist_position, enrollment.source = status, position, rules.SOURCE_IMPORT
        enrollment.registered_at, enrollment.decided_at, enrollment.decided_by_id, enrollment.withdrawn_at = now, now, actor.id, None
        db.session.add(enrollment)
        counts[status] += 1
        db.session.flush()
        enrollment_ids.append(enrollment.id)
        notify_enrollment(enrollment)  # notifications: confirmed / waitlisted
    record(
        actor,
        "enrollment.import",
        course,
        f"Nhập danh sách lớp {course.code} từ tệp {batch.filename}: {len(preview.rows)} học viên ({counts['new']} mới)",
        object_type="courses",
        object_id=course.id,
        unit_id=course.unit_id,
        changes={"created_trainee_ids": created_ids, "enrollment_ids": enrollment_ids, "converted_from": batch.encoding if batch.convert else None},
    )
    db.session.delete(batch)
    db.session.flush()
    return dict(counts)


# --------------------------------------------------------------------------------------------
# Plans: actual figures
# --------------------------------------------------------------------------------------------
def plans_actuals(plan_ids) -> dict[int, dict]:
    """Actual people trained under each plan, in one grouped query: persons (not participations)
    with a confirmed enrolment in one of the plan's courses who attended (present) at least one
    session, and how many of them are women. A person on three courses of a plan counts once;
    ``female_pct`` (0–100, one decimal) is ``None`` when nobody was trained yet.
    Returns ``{plan_id: {"trainees": n, "women": w, "female_pct": p}}`` for every id given."""
    ids = list(plan_ids)
    result = {plan_id: {"trainees": 0, "women": 0, "female_pct": None} for plan_id in ids}
    if not ids:
        return result
    attended = (
        select(Course.plan_id.label("plan_id"), Enrollment.trainee_id.label("trainee_id"))
        .join(Course, Course.id == Enrollment.course_id)
        .where(
            Course.plan_id.in_(ids),
            Enrollment.status == rules.CONFIRMED,
            exists().where(Attendance.enrollment_id == Enrollment.id, Attendance.status == rules.PRESENT),
        )
        .distinct()
        .subquery()
    )
    rows = db.session.execute(
        select(attended.c.plan_id, func.count(Trainee.id), func.count(Trainee.id).filter(Trainee.sex == rules.FEMALE))
        .join(Trainee, Trainee.id == attended.c.trainee_id)
        .group_by(attended.c.plan_id)
    )
    for plan_id, total, women in rows:
        result[plan_id] = {"trainees": total, "women": women, "female_pct": round(100 * women / total, 1) if total else None}
    return result


def plan_actuals(plan_id: int) -> dict:
    """:func:`plans_actuals` of one plan."""
    return plans_actuals([plan_id])[plan_id]
