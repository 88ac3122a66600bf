"""Certificate services: eligibility review, overrides, issuing with register numbers, the frozen snapshot,
revocation, reissue, duplicates, the register book, verification, templates and issuer settings.

They load → call rules → change → ``flush()``; the caller commits once.

Concurrency: issuing starts with :func:`lock_course` (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite writing
transactions already begin IMMEDIATE), so "does this enrolment hold a valid certificate? no → issue" cannot run
twice at once for a course. Numbers come from :func:`allocate_sequences`, which bumps the counter row of
(issuer, year) with ``UPDATE … RETURNING`` in the same transaction: a second issuer waits on that row, and a
rolled-back issue leaves no gap. A partial unique index backs "one valid certificate per enrolment".
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from flask import current_app
from sqlalchemy import func, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from bdg_training.access import in_scope, scope_filter, scope_unit_ids
from bdg_training.assessments.services import close_expired_attempts
from bdg_training.audit.services import diff, record
from bdg_training.certificates import rules
from bdg_training.certificates.models import (
    Certificate,
    CertificateCounter,
    CertificateJob,
    CertificateOverride,
    CertificateTemplate,
    IssuerSettings,
)
from bdg_training.courses.models import Course, CourseSession
from bdg_training.enrollment.models import Attendance, Enrollment, Trainee
from bdg_training.extensions import db
from bdg_training.notifications.services import notify_certificate_issued  # notifications (issue 9): mails join this transaction
from bdg_training.rules_base import RuleViolation
from bdg_training.text import nfc
from bdg_training.units.models import Signer, Unit
from bdg_training.vn import format_date, place_date_line

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"


from bdg_training.clock import DEFAULT_TZ, local_date, local_tz  # noqa: E402,F401 - re-exported


# --------------------------------------------------------------------------------------------
# Scope
# --------------------------------------------------------------------------------------------
def course_scope(user=None):
    """WHERE clause: courses whose certificates a staff user may see — organised by, or issued by, a unit of
    their subtree (everything for an admin, nothing for a trainee)."""
    ids = scope_unit_ids(user)
    if ids is None:
        return true()
    return or_(Course.unit_id.in_(ids), Course.issuing_unit_id.in_(ids))


def course_in_scope(course: Course, user=None) -> bool:
    return in_scope(course.unit_id, user) or (course.issuing_unit_id is not None and in_scope(course.issuing_unit_id, user))


def certificate_in_scope(certificate: Certificate, user=None) -> bool:
    """A certificate belongs to its issuer's register and to the course's unit: either in scope will do."""
    return in_scope(certificate.issuing_unit_id, user) or in_scope(certificate.course.unit_id, user)


# --------------------------------------------------------------------------------------------
# Eligibility review (a fixed number of queries for a whole class)
# --------------------------------------------------------------------------------------------
@dataclass
class ReviewRow:
    """One trainee of the class with everything the signer decides on."""

    enrollment: Enrollment
    trainee: Trainee
    held: int
    attended: int
    post_score: Decimal | None
    eligibility: rules.Eligibility
    override: CertificateOverride | None = None
    certificates: list[Certificate] = field(default_factory=list)  # newest first

    @property
    def valid_certificate(self) -> Certificate | None:
        return next((c for c in self.certificates if c.status == "valid"), None)

    @property
    def can_issue(self) -> bool:
        return rules.may_issue(self.eligibility, self.override is not None)

    @property
    def can_override(self) -> bool:
        return self.override is None and rules.can_override(self.eligibility)


def _held_session_count(course_id: int, today: date) -> int:
    return (
        db.session.scalar(select(func.count(CourseSession.id)).where(CourseSession.course_id == course_id, CourseSession.date <= today))
        or 0
    )


def _attended_counts(course_id: int, today: date) -> dict[int, int]:
    """{enrollment_id: sessions held so far at which the trainee was present}. Only ``present`` counts as
    attended (enrollment.rules.attendance_summary): excused is not attendance."""
    rows = db.session.execute(
        select(Attendance.enrollment_id, func.count(Attendance.id))
        .join(CourseSession, CourseSession.id == Attendance.session_id)
        .where(CourseSession.course_id == course_id, CourseSession.date <= today, Attendance.status == "present")
        .group_by(Attendance.enrollment_id)
    )
    return dict(rows.all())


def _post_scores(course_id: int) -> dict[int, Decimal]:
    """{enrollment_id: post-test score on 10} for the class, from the assessments feature (one query): the
    completed post-test attempt (online, or a paper score typed by an organizer)."""
    try:
        from bdg_training.assessments.models import Attempt
    except ImportError:  # the assessments feature is not installed: nobody has a post-test score
        return {}
    rows = db.session.execute(
        select(Attempt.enrollment_id, Attempt.score)
        .join(Enrollment, Enrollment.id == Attempt.enrollment_id)
        .where(Enrollment.course_id == course_id, Attempt.kind == "post", Attempt.status == "completed", Attempt.score.is_not(None))
    )
    return {enrollment_id: Decimal(str(score)) for enrollment_id, score in rows}


def review(course: Course, *, today: date, enrollment_ids: Iterable[int] | None = None) -> list[ReviewRow]:
    """Every trainee of the course (withdrawn and rejected enrolments only when they hold a certificate), in
    class-list order, with each failed condition. Seven queries whatever the size of the class."""
    query = select(Enrollment).where(Enrollment.course_id == course.id).options(selectinload(Enrollment.trainee).selectinload(Trainee.unit))
    if enrollment_ids is not None:
        query = query.where(Enrollment.id.in_(list(enrollment_ids)))
    enrollments = db.session.scalars(query).all()
    held = _held_session_count(course.id, today)
    attended = _attended_counts(course.id, today)
    scores = _post_scores(course.id)
    overrides = {
        o.enrollment_id: o
        for o in db.session.scalars(
            select(CertificateOverride)
            .join(Enrollment, Enrollment.id == CertificateOverride.enrollment_id)
            .where(Enrollment.course_id == course.id)
            .options(joinedload(CertificateOverride.created_by))
        )
    }
    by_enrollment: dict[int, list[Certificate]] = defaultdict(list)
    for certificate in db.session.scalars(
        select(Certificate).where(Certificate.course_id == course.id).order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    ):
        by_enrollment[certificate.enrollment_id].append(certificate)
    rows = []
    for enrollment in enrollments:
        certificates = by_enrollment.get(enrollment.id, [])
        if enrollment.status in ("withdrawn", "rejected") and not certificates:
            continue
        eligibility = rules.check_eligibility(
            enrollment_status=enrollment.status,
            held_sessions=held,
            attended_sessions=min(attended.get(enrollment.id, 0), held),
            min_attendance_pct=course.min_attendance_pct,
            post_score=scores.get(enrollment.id),
            pass_mark=course.pass_mark,
            has_valid_certificate=any(c.status == "valid" for c in certificates),
        )
        rows.append(
            ReviewRow(
                enrollment=enrollment,
                trainee=enrollment.trainee,
                held=held,
                attended=min(attended.get(enrollment.id, 0), held),
                post_score=scores.get(enrollment.id),
                eligibility=eligibility,
                override=overrides.get(enrollment.id),
                certificates=certificates,
            )
        )
    rows.sort(key=lambda row: (row.trainee.name_key(), row.enrollment.id))
    return rows


def review_counts(rows: Sequence[ReviewRow]) -> dict[str, int]:
    return {
        "all": len(rows),
        "eligible": sum(1 for r in rows if r.can_issue),
        "ineligible": sum(1 for r in rows if not r.can_issue and r.valid_certificate is None),
        "issued": sum(1 for r in rows if r.valid_certificate is not None),
    }


# --------------------------------------------------------------------------------------------
# Overrides
# --------------------------------------------------------------------------------------------
def set_override(actor, enrollment: Enrollment, reason: str, *, today: date) -> CertificateOverride:
    """Record a signer's override (xét đặc cách) for one trainee, with the reason; audited."""
    lock_course(enrollment.course_id)
    rows = review(enrollment.course, today=today, enrollment_ids=[enrollment.id])
    if not rows:
        RuleViolation.single("", "Học viên không còn trong danh sách lớp.")
    row = rows[0]
    if row.override is not None:
        RuleViolation.single("", "Học viên đã được xét đặc cách.")
    reason = nfc((reason or "").strip())
    rules.check_override(row.eligibility, reason)
    override = CertificateOverride(enrollment_id=enrollment.id, reason=reason, created_by_id=getattr(actor, "id", None))
    db.session.add(override)
    db.session.flush()
    record(
        actor,
        "certificate.override",
        override,
        f"Xét đặc cách cấp giấy chứng nhận cho {row.trainee.full_name} (lớp {enrollment.course.code}): {reason}",
        unit_id=enrollment.course.unit_id,
        changes={"reasons": row.eligibility.reasons, "override_reason": reason},
    )
    return override


def remove_override(actor, override: CertificateOverride) -> None:
    enrollment = override.enrollment
    record(
        actor,
        "certificate.override_remove",
        override,
        f"Bỏ xét đặc cách của {enrollment.trainee.full_name} (lớp {enrollment.course.code})",
        unit_id=enrollment.course.unit_id,
        changes={"override_reason": [override.reason, None]},
    )
    db.session.delete(override)
    db.session.flush()


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------
def lock_course(course_id: int) -> Course:
    """The course with a row lock (PostgreSQL ``FOR UPDATE``; SQLite writers are already serialized)."""
    course = db.session.execute(
        select(Course).where(Course.id == course_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if course is None:
        RuleViolation.single("", "Không tìm thấy lớp.")
    return course


def allocate_sequences(issuing_unit_id: int, year: int, count: int = 1) -> int:
    """Reserve ``count`` consecutive sequence numbers of (issuer, year); returns the first.

    Inside the caller's transaction: the counter row is created if missing (``INSERT … ON CONFLICT DO
    NOTHING``, so two first issues of a year do not collide) and bumped with ``UPDATE … SET last_seq =
    last_seq + count … RETURNING last_seq``, which locks the row until commit. Numbers are never reused and,
    because a rollback undoes the bump too, have no gaps.
    """
    if count < 1:
        raise ValueError("count must be ≥ 1")
    table = CertificateCounter.__table__
    dialect = db.session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        db.session.execute(
            dialect_insert(table)
            .values(issuing_unit_id=issuing_unit_id, year=year, last_seq=0)
            .on_conflict_do_nothing(index_elements=["issuing_unit_id", "year"])
        )
    else:  # pragma: no cover - other databases: insert in a savepoint and ignore the duplicate
        exists = db.session.scalar(select(table.c.last_seq).where(table.c.issuing_unit_id == issuing_unit_id, table.c.year == year))
        if exists is None:
            try:
                with db.session.begin_nested():
                    db.session.execute(insert(table).values(issuing_unit_id=issuing_unit_id, year=year, last_seq=0))
            except IntegrityError:
                pass
    last = db.session.execute(
        update(table)
        .where(table.c.issuing_unit_id == issuing_unit_id, table.c.year == year)
        .values(last_seq=table.c.last_seq + count)
        .returning(table.c.last_seq)
    ).scalar_one()
    return last - count + 1


def new_verify_code() -> str:
    """22 URL-safe random characters (128 bits): unguessable, fits ``rules.is_valid_verify_code_format``."""
    return secrets.token_urlsafe(16)


def verify_url(code: str) -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/verify/{code}"


# --------------------------------------------------------------------------------------------
# Issuing
# --------------------------------------------------------------------------------------------
@dataclass
class IssueContext:
    """What every certificate of one issue shares: issuer, settings, signer block, template, date."""

    course: Course
    issuer: Unit
    settings: IssuerSettings
    signer_lines: list[str]
    template: CertificateTemplate | None
    issue_date: date
    year: int


def settings_for(unit_id: int | None) -> IssuerSettings | None:
    if unit_id is None:
        return None
    return db.session.scalar(select(IssuerSettings).where(IssuerSettings.unit_id == unit_id))


def _issue_context(course: Course, *, now: datetime, issuer_id: int | None = None, check_course: bool = True) -> IssueContext:
    """Check that the course can issue now and gather the shared parts; ``RuleViolation`` with every problem."""
    errors = RuleViolation()
    today = local_date(now)
    if check_course:
        try:
            rules.check_course_issuable(course.status, course.end_date, today)
        except RuleViolation as exc:
            for message in exc.messages:
                errors.add("", message)
    issuer_id = issuer_id or course.issuing_unit_id
    issuer = db.session.get(Unit, issuer_id) if issuer_id else None
    settings = settings_for(issuer_id)
    if issuer is None:
        errors.add("", "Lớp chưa chọn đơn vị cấp giấy chứng nhận.")
    elif settings is None:
        errors.add("", f"Đơn vị cấp {issuer.label()} chưa được cấu hình in giấy chứng nhận (quản trị viên: mục Đơn vị cấp GCN).")
    elif not issuer.short_code:
        errors.add("", f"Đơn vị cấp {issuer.label()} chưa có mã viết tắt để ghi số giấy chứng nhận.")
    signer_lines: list[str] = []
    signer = db.session.get(Signer, course.signer_id) if course.signer_id else None
    if signer is None:
        errors.add("", "Lớp chưa chọn người ký giấy chứng nhận.")
    else:
        if not signer.is_active_on(today):
            errors.add("", f"Người ký {signer.full_name} không còn hiệu lực vào ngày {format_date(today)}.")
        try:
            signer_lines = rules.signer_block(signer.authority_prefix, signer.on_behalf_title or "", signer.title, signer.full_name)
        except RuleViolation as exc:
            errors.add("", "Thông tin người ký chưa đúng: " + "; ".join(exc.messages))
    errors.raise_if_any()
    return IssueContext(
        course=course,
        issuer=issuer,
        settings=settings,
        signer_lines=signer_lines,
        template=settings.template,
        issue_date=today,
        year=today.year,
    )


def issue_problems(course: Course, *, now: datetime) -> list[str]:
    """Why certificates of this course cannot be issued now ([] when they can): shown on the review page."""
    try:
        _issue_context(course, now=now)
    except RuleViolation as exc:
        return exc.messages
    return []


def format_certificate_number(ctx: IssueContext, sequence: int) -> str:
    try:
        return rules.format_number(ctx.settings.number_pattern, sequence, ctx.year, ctx.issuer.short_code)
    except RuleViolation as exc:
        raise RuleViolation({"": ["Không tạo được số giấy chứng nhận: " + "; ".join(exc.messages)]}) from None


def build_snapshot(ctx: IssueContext, trainee: Trainee, *, number: str, verify_code: str) -> dict:
    """Every printed field, frozen at issue time (keys of ``certificates.render``), plus the facts the register
    and the verification page show (sex, course dates, issue date, issuer)."""
    from bdg_training.certificates.render import course_dates_line

    course = ctx.course
    try:
        salutation = rules.salutation(trainee.sex)
    except ValueError:
        RuleViolation.single("", f"Chưa rõ giới tính của {trainee.full_name}: không ghi được Ông/Bà.")
    work_unit = trainee.work_unit or (trainee.unit.label() if trainee.unit else "")
    return {
        "governing_body": ctx.settings.governing_body,
        "issuing_body": ctx.settings.issuing_body,
        "number": number,
        "salutation": salutation,
        "full_name": nfc(trainee.full_name),
        "date_of_birth": trainee.birth_display,
        "work_unit": nfc(work_unit or ""),
        "address": "",
        "course_title": nfc(course.title),
        "topic": nfc(course.topic.name) if course.topic else "",
        "course_dates": course_dates_line(course.start_date, course.end_date),
        "venue": nfc(course.venue or ""),
        "hours": rules.format_hours(course.hours),
        "result_line": ctx.settings.result_line or "Đã hoàn thành khóa tập huấn",
        "place_date_line": place_date_line(ctx.settings.place_name, ctx.issue_date),
        "signer_lines": list(ctx.signer_lines),
        "verify_url": verify_url(verify_code),
        "verify_code": verify_code,
        "copy_marker": "",
        "revoked_marker": "",
        # Not printed by the default template: the register and the verification page read them.
        "sex": trainee.sex,
        "course_code": course.code,
        "course_start": course.start_date.isoformat(),
        "course_end": course.end_date.isoformat(),
        "issue_date": ctx.issue_date.isoformat(),
        "issuer_name": ctx.issuer.label(ctx.issue_date),
    }


def _new_certificate(
    actor, ctx: IssueContext, enrollment: Enrollment, *, sequence: int, now: datetime, snapshot: dict | None = None, **values
) -> Certificate:
    number = format_certificate_number(ctx, sequence)
    code = new_verify_code()
    if snapshot is None:
        snapshot = build_snapshot(ctx, enrollment.trainee, number=number, verify_code=code)
    else:
        snapshot = {
            **snapshot,
            "number": number,
            "verify_code": code,
            "verify_url": verify_url(code),
            "issue_date": ctx.issue_date.isoformat(),
        }
    certificate = Certificate(
        enrollment_id=enrollment.id,
        course_id=enrollment.course_id,
        trainee_id=enrollment.trainee_id,
        issuing_unit_id=ctx.issuer.id,
        year=ctx.year,
        sequence=sequence,
        number=number,
        verify_code=code,
        issued_at=now,
        issued_by_id=getattr(actor, "id", None),
        snapshot=snapshot,
        template_version_id=values.pop("template_version_id", ctx.template.id if ctx.template else None),
        status="valid",
        **values,
    )
    db.session.add(certificate)
    return certificate


def _issue_rows(actor, ctx: IssueContext, rows: Sequence[ReviewRow], *, now: datetime) -> list[Certificate]:
    if not rows:
        return []
    first = allocate_sequences(ctx.issuer.id, ctx.year, len(rows))
    certificates = []
    for offset, row in enumerate(rows):
        override = row.override.reason if (row.override is not None and not row.eligibility.eligible) else None
        certificates.append(
            _new_certificate(actor, ctx, row.enrollment, sequence=first + offset, now=now, kind="original", override_reason=override)
        )
    db.session.flush()
    for certificate, row in zip(certificates, rows, strict=True):
        summary = f"Cấp giấy chứng nhận số {certificate.number} cho {row.trainee.full_name} (lớp {ctx.course.code})"
        if certificate.override_reason:
            summary += f" — xét đặc cách: {certificate.override_reason}"
        record(actor, "certificate.issue", certificate, summary, changes={"number": certificate.number, "kind": "original"})
        notify_certificate_issued(certificate)  # notifications: number + verification link, never the PDF
    return certificates


def issue_one(actor, enrollment_id: int, *, now: datetime) -> Certificate:
    """Issue the certificate of one trainee (eligible, or overridden) in the caller's transaction."""
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None:
        RuleViolation.single("", "Không tìm thấy học viên trong lớp.")
    course = lock_course(enrollment.course_id)
    close_expired_attempts(course, now)  # an attempt that ran out of time counts with what was saved
    ctx = _issue_context(course, now=now)
    rows = review(course, today=ctx.issue_date, enrollment_ids=[enrollment.id])
    if not rows:
        RuleViolation.single("", "Học viên không còn trong danh sách lớp.")
    row = rows[0]
    if not row.can_issue:
        raise RuleViolation({"": list(row.eligibility.reasons)})
    return _issue_rows(actor, ctx, [row], now=now)[0]


def issue_all(actor, course_id: int, *, now: datetime) -> list[Certificate]:
    """Issue certificates to every trainee of the course who may have one and has none, numbered in class-list
    order, in one transaction (one counter update for the whole class)."""
    course = lock_course(course_id)
    close_expired_attempts(course, now)  # an attempt that ran out of time counts with what was saved
    ctx = _issue_context(course, now=now)
    rows = [row for row in review(course, today=ctx.issue_date) if row.can_issue]
    if not rows:
        RuleViolation.single("", "Không có học viên nào đủ điều kiện mà chưa được cấp giấy chứng nhận.")
    return _issue_rows(actor, ctx, rows, now=now)


def issue_selected(actor, course_id: int, enrollment_ids: Iterable[int], *, now: datetime) -> list[Certificate]:
    """Issue certificates to those of the given trainees who may have one (the others are skipped), in one
    transaction, numbered in class-list order."""
    course = lock_course(course_id)
    close_expired_attempts(course, now)  # an attempt that ran out of time counts with what was saved
    ctx = _issue_context(course, now=now)
    rows = [row for row in review(course, today=ctx.issue_date, enrollment_ids=list(enrollment_ids)) if row.can_issue]
    return _issue_rows(actor, ctx, rows, now=now)


# --------------------------------------------------------------------------------------------
# Lifecycle: revoke, reissue, duplicate
# --------------------------------------------------------------------------------------------
def revoke(actor, certificate: Certificate, *, reason: str, note: str = "", now: datetime) -> Certificate:
    """Thu hồi: the certificate stays in the register with its reason; its number is never reused."""
    note = nfc((note or "").strip())
    rules.check_revoke(certificate.status, reason, note)
    certificate.status = "revoked"
    certificate.revoked_at = now
    certificate.revoked_by_id = getattr(actor, "id", None)
    certificate.revocation_reason = reason
    certificate.revocation_note = note or None
    db.session.flush()
    record(
        actor,
        "certificate.revoke",
        certificate,
        f"Thu hồi giấy chứng nhận số {certificate.number} của {certificate.holder_name}: {certificate.revocation_label}",
        changes={"status": ["valid", "revoked"], "reason": reason, "note": note},
    )
    return certificate


def _lock_certificate(certificate: Certificate) -> Certificate:
    """Re-read the certificate under the course lock, so two signers cannot both replace it."""
    lock_course(certificate.course_id)
    return db.session.execute(
        select(Certificate).where(Certificate.id == certificate.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def reissue(actor, certificate: Certificate, *, reason: str, now: datetime) -> Certificate:
    """Cấp lại do sai sót: a new certificate with a new number and a snapshot rebuilt from today's (corrected)
    data; the old one becomes ``replaced`` and the new one points to it. Same issuer as the original."""
    reason = nfc((reason or "").strip())
    certificate = _lock_certificate(certificate)
    rules.check_reissue(certificate.status, reason)
    ctx = _issue_context(certificate.course, now=now, issuer_id=certificate.issuing_unit_id, check_course=False)
    certificate.status = "replaced"
    db.session.flush()  # the old one stops being "valid" before the new one is inserted (unique index)
    sequence = allocate_sequences(ctx.issuer.id, ctx.year)
    new = _new_certificate(
        actor,
        ctx,
        certificate.enrollment,
        sequence=sequence,
        now=now,
        kind="reissue",
        replaces_id=certificate.id,
        reason=reason,
        override_reason=certificate.override_reason,
    )
    db.session.flush()
    record(
        actor,
        "certificate.reissue",
        new,
        f"Cấp lại giấy chứng nhận số {new.number} thay số {certificate.number} ({new.holder_name}): {reason}",
        changes={"replaces": certificate.number, "number": new.number, "reason": reason},
    )
    notify_certificate_issued(new)  # notifications: the new number and verification link
    return new


def duplicate(actor, certificate: Certificate, *, note: str = "", now: datetime) -> Certificate:
    """Bản sao do mất/hỏng (TT 03/2023: equally valid): the same printed data marked "BẢN SAO", its own
    record, number and verification code; the lost one becomes ``replaced`` (a found original then verifies
    as replaced, pointing at the copy). Printed with the same template version as the original."""
    note = nfc((note or "").strip())
    certificate = _lock_certificate(certificate)
    rules.check_duplicate(certificate.status)
    settings = settings_for(certificate.issuing_unit_id)
    issuer = db.session.get(Unit, certificate.issuing_unit_id)
    if settings is None:
        RuleViolation.single("", "Đơn vị cấp chưa được cấu hình in giấy chứng nhận.")
    today = local_date(now)
    ctx = IssueContext(
        course=certificate.course, issuer=issuer, settings=settings, signer_lines=[], template=None, issue_date=today, year=today.year
    )
    certificate.status = "replaced"
    db.session.flush()
    sequence = allocate_sequences(issuer.id, ctx.year)
    snapshot = {**certificate.snapshot, "copy_marker": rules.COPY_MARKER, "copy_of": certificate.number, "revoked_marker": ""}
    new = _new_certificate(
        actor,
        ctx,
        certificate.enrollment,
        sequence=sequence,
        now=now,
        snapshot=snapshot,
        kind="duplicate",
        replaces_id=certificate.id,
        reason=note or None,
        override_reason=certificate.override_reason,
        template_version_id=certificate.template_version_id,
    )
    db.session.flush()  # the copy keeps the original's printed date line; its own issue date goes to the register
    record(
        actor,
        "certificate.duplicate",
        new,
        f"Cấp bản sao số {new.number} của giấy chứng nhận số {certificate.number} ({new.holder_name})" + (f": {note}" if note else ""),
        changes={"copy_of": certificate.number, "number": new.number, "note": note},
    )
    notify_certificate_issued(new)  # notifications: the copy's number and verification link
    return new


def successor(certificate: Certificate) -> Certificate | None:
    """The certificate that replaced this one (reissue or duplicate), if any."""
    return db.session.scalar(select(Certificate).where(Certificate.replaces_id == certificate.id).order_by(Certificate.id.desc()).limit(1))


# --------------------------------------------------------------------------------------------
# Printing
# --------------------------------------------------------------------------------------------
def print_snapshot(certificate: Certificate) -> dict:
    """The stored snapshot, plus the void marker when the certificate is no longer valid."""
    return {**certificate.snapshot, "revoked_marker": rules.void_marker(certificate.status)}


def certificate_pdf(certificate: Certificate) -> bytes:
    """One certificate as printed at issue: its snapshot with its template version (none = default)."""
    from bdg_training.certificates import render

    template = certificate.template_version
    return render.render_one(
        print_snapshot(certificate),
        template_source=template.html if template else None,
        css=template.css if template else None,
    )


def pdf_filename(certificate: Certificate) -> str:
    from bdg_training.certificates.render import zip_member_name

    return zip_member_name(certificate.snapshot)


def course_certificates(course_id: int, *, statuses=("valid",)) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.course_id == course_id, Certificate.status.in_(list(statuses)))
            .order_by(Certificate.year, Certificate.sequence)
        )
    )


def create_job(actor, course: Course, certificate_ids: Sequence[int]) -> CertificateJob:
    """A background print of these certificates (the caller commits, then starts it with ``jobs.start``)."""
    if not certificate_ids:
        RuleViolation.single("", "Không có giấy chứng nhận nào để in.")
    job = CertificateJob(
        course_id=course.id,
        requested_by_id=getattr(actor, "id", None),
        certificate_ids=[int(i) for i in certificate_ids],
        status="queued",
        done=0,
        total=len(certificate_ids),
    )
    db.session.add(job)
    db.session.flush()
    record(actor, "certificate.print", job, f"In {len(certificate_ids)} giấy chứng nhận của lớp {course.code}", unit_id=course.unit_id)
    return job


# --------------------------------------------------------------------------------------------
# Verification (public)
# --------------------------------------------------------------------------------------------
@dataclass
class Verification:
    state: str  # valid | revoked | replaced | unknown
    certificate: Certificate | None = None
    successor: Certificate | None = None

    def public_dict(self) -> dict:
        """What anyone may know about a certificate: no ID number, no date of birth, no address."""
        if self.certificate is None:
            return {"status": "unknown"}
        c, s = self.certificate, self.certificate.snapshot
        data = {
            "status": self.state,
            "status_label": rules.STATUSES.get(self.state, self.state),
            "number": c.number,
            "holder": s.get("full_name", ""),
            "course": s.get("course_title", ""),
            "course_dates": s.get("course_dates", ""),
            "course_start": s.get("course_start"),
            "course_end": s.get("course_end"),
            "issuer": s.get("issuing_body", ""),
            "governing_body": s.get("governing_body", ""),
            "issued_on": s.get("issue_date") or local_date(c.issued_at).isoformat(),
            "kind": c.kind,
            "is_copy": c.kind == "duplicate",
        }
        if self.state == "revoked":
            data["revoked_on"] = local_date(c.revoked_at).isoformat()
        if self.successor is not None:
            data["replaced_by"] = {"number": self.successor.number, "verify_code": self.successor.verify_code}
        return data


def verify(code: str) -> Verification:
    """Look a verification code up. A malformed code is ``unknown`` without touching the database."""
    if not rules.is_valid_verify_code_format(code):
        return Verification("unknown")
    certificate = db.session.scalar(select(Certificate).where(Certificate.verify_code == code))
    if certificate is None:
        return Verification("unknown")
    return Verification(certificate.status, certificate, successor(certificate) if certificate.status == "replaced" else None)


# --------------------------------------------------------------------------------------------
# Register book (sổ cấp giấy chứng nhận)
# --------------------------------------------------------------------------------------------
def register_books(user=None) -> list[tuple[Unit, int, int]]:
    """(issuer, year, count) of every register the user may read, newest year first."""
    rows = db.session.execute(
        select(Certificate.issuing_unit_id, Certificate.year, func.count(Certificate.id))
        .where(scope_filter(Certificate.issuing_unit_id, user))
        .group_by(Certificate.issuing_unit_id, Certificate.year)
    ).all()
    units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_({r[0] for r in rows})))} if rows else {}
    books = [(units[unit_id], year, count) for unit_id, year, count in rows]
    books.sort(key=lambda b: (-b[1], b[0].name))
    return books


def register_query(issuer_id: int, year: int):
    return (
        select(Certificate)
        .where(Certificate.issuing_unit_id == issuer_id, Certificate.year == year)
        .options(joinedload(Certificate.replaces), selectinload(Certificate.replaced_by), joinedload(Certificate.revoked_by))
        .order_by(Certificate.sequence)
    )


def register_remarks(certificate: Certificate) -> list[str]:
    """The remarks column: what this number is (reissue, copy), what happened to it (revoked, replaced),
    and any override. DOMAIN.md §3.4: a voided number stays with its reason."""
    remarks = []
    if certificate.kind == "reissue" and certificate.replaces is not None:
        remarks.append(
            f"Cấp lại do sai sót, thay số {certificate.replaces.number}" + (f": {certificate.reason}" if certificate.reason else "")
        )
    elif certificate.kind == "duplicate" and certificate.replaces is not None:
        remarks.append(
            f"Bản sao (mất/hỏng) của số {certificate.replaces.number}" + (f": {certificate.reason}" if certificate.reason else "")
        )
    if certificate.status == "revoked":
        remarks.append(f"Thu hồi ngày {format_date(local_date(certificate.revoked_at))}: {certificate.revocation_label}")
    elif certificate.status == "replaced" and certificate.replaced_by:
        remarks.append(f"Đã được thay thế bởi số {certificate.replaced_by[-1].number}")
    if certificate.override_reason:
        remarks.append(f"Xét đặc cách: {certificate.override_reason}")
    return remarks


@dataclass
class RegisterRow:
    certificate: Certificate
    remarks: list[str]

    @property
    def snapshot(self) -> dict:
        return self.certificate.snapshot

    @property
    def sex_label(self) -> str:
        return {"nam": "Nam", "nu": "Nữ"}.get(self.snapshot.get("sex", ""), self.snapshot.get("sex", ""))

    @property
    def course_line(self) -> str:
        s = self.snapshot
        return f"{s.get('course_title', '')} ({s.get('course_dates', '')})"

    @property
    def issue_date(self) -> date:
        iso = self.snapshot.get("issue_date")
        return date.fromisoformat(iso) if iso else local_date(self.certificate.issued_at)


def register_rows(certificates: Iterable[Certificate]) -> list[RegisterRow]:
    return [RegisterRow(c, register_remarks(c)) for c in certificates]


def register_gaps(issuer_id: int, year: int) -> list[int]:
    """Sequence numbers missing between 1 and the counter (there should be none: a check the page shows)."""
    last = (
        db.session.scalar(
            select(CertificateCounter.last_seq).where(CertificateCounter.issuing_unit_id == issuer_id, CertificateCounter.year == year)
        )
        or 0
    )
    used = set(db.session.scalars(select(Certificate.sequence).where(Certificate.issuing_unit_id == issuer_id, Certificate.year == year)))
    return [n for n in range(1, last + 1) if n not in used]


REGISTER_HEADERS = ("STT", "Số GCN", "Họ và tên", "Giới tính", "Ngày sinh", "Lớp tập huấn", "Ngày cấp", "Trạng thái", "Ghi chú")


def register_xlsx(issuer: Unit, year: int, rows: Sequence[RegisterRow]) -> bytes:
    from io import BytesIO

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"So GCN {year}"
    sheet.append([f"SỔ CẤP GIẤY CHỨNG NHẬN NĂM {year}"])
    sheet.append([issuer.label()])
    sheet.append([])
    sheet.append(list(REGISTER_HEADERS))
    sheet["A1"].font = Font(bold=True, size=14)
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for row in rows:
        c, s = row.certificate, row.snapshot
        sheet.append(
            [
                c.sequence,
                c.number,
                s.get("full_name", ""),
                row.sex_label,
                s.get("date_of_birth", ""),
                row.course_line,
                row.issue_date,
                c.status_label,
                "; ".join(row.remarks),
            ]
        )
        sheet.cell(row=sheet.max_row, column=7).number_format = "DD/MM/YYYY"
    for letter, width in zip("ABCDEFGHI", (6, 22, 28, 9, 12, 50, 12, 16, 50), strict=True):
        sheet.column_dimensions[letter].width = width
    for line in sheet.iter_rows(min_row=5):
        for cell in line:
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    sheet.freeze_panes = "A5"
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# "My certificates"
# --------------------------------------------------------------------------------------------
def certificates_of_trainee(trainee_id: int) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate).where(Certificate.trainee_id == trainee_id).order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


def trainee_of(user) -> Trainee | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Trainee).where(Trainee.user_id == user.id))


# --------------------------------------------------------------------------------------------
# Issuer settings and templates (admin)
# --------------------------------------------------------------------------------------------
SETTINGS_FIELDS = ("governing_body", "issuing_body", "place_name", "number_pattern", "result_line")


def save_settings(actor, unit: Unit, **values) -> IssuerSettings:
    """Create or update an issuer's settings; the number pattern is validated (``rules.validate_pattern``)."""
    values = {k: nfc((values.get(k) or "").strip()) for k in SETTINGS_FIELDS}
    errors = RuleViolation()
    for key, label in (("governing_body", "cơ quan chủ quản"), ("issuing_body", "cơ quan cấp"), ("place_name", "địa danh")):
        if not values[key]:
            errors.add(key, f"Vui lòng nhập {label}.")
    values["number_pattern"] = values["number_pattern"] or rules.DEFAULT_NUMBER_PATTERN
    try:
        rules.validate_pattern(values["number_pattern"])
    except RuleViolation as exc:
        for message in exc.errors.get("pattern", exc.messages):
            errors.add("number_pattern", message)
    if not unit.short_code:
        errors.add("", f"{unit.label()} chưa có mã viết tắt (dùng trong số giấy chứng nhận): cập nhật ở mục Đơn vị trước.")
    errors.raise_if_any()
    values["result_line"] = values["result_line"] or "Đã hoàn thành khóa tập huấn"
    settings = settings_for(unit.id)
    before = {k: getattr(settings, k) for k in SETTINGS_FIELDS} if settings else {}
    if settings is None:
        settings = IssuerSettings(unit_id=unit.id)
        db.session.add(settings)
    for key, value in values.items():
        setattr(settings, key, value)
    settings.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    record(
        actor,
        "certificate.settings",
        settings,
        f"Cấu hình in giấy chứng nhận của {unit.label()}",
        unit_id=unit.id,
        changes=diff(before, values),
    )
    return settings


def sample_number(settings: IssuerSettings, unit: Unit, year: int) -> str:
    try:
        return rules.format_number(settings.number_pattern, 7, year, unit.short_code or "")
    except RuleViolation:
        return ""


def default_template_source() -> tuple[str, str]:
    """The built-in template (markup of one page, variable ``c``) and its stylesheet: the editor's start."""
    from bdg_training.certificates.render import DEFAULT_CSS, DEFAULT_TEMPLATE

    html = (TEMPLATES_DIR / DEFAULT_TEMPLATE).read_text(encoding="utf-8")
    css = (STATIC_DIR / DEFAULT_CSS).read_text(encoding="utf-8")
    return html, css


def template_versions(unit_id: int) -> list[tuple[CertificateTemplate, int]]:
    """Every saved version of an issuer's template, newest first, with how many certificates use it."""
    used = dict(
        db.session.execute(
            select(Certificate.template_version_id, func.count(Certificate.id))
            .join(CertificateTemplate, CertificateTemplate.id == Certificate.template_version_id)
            .where(CertificateTemplate.unit_id == unit_id)
            .group_by(Certificate.template_version_id)
        ).all()
    )
    versions = db.session.scalars(
        select(CertificateTemplate)
        .where(CertificateTemplate.unit_id == unit_id)
        .options(joinedload(CertificateTemplate.created_by))
        .order_by(CertificateTemplate.version.desc())
    ).all()
    return [(v, used.get(v.id, 0)) for v in versions]


def preview_snapshot(settings: IssuerSettings | None, unit: Unit | None, *, today: date) -> dict:
    """A realistic snapshot with the issuer's own header lines and a name full of tone marks."""
    from bdg_training.certificates.render import sample_snapshot

    overrides = {"full_name": "Nguyễn Thị Ẫặữự Đoàn", "verify_url": verify_url("XemTruocMauGCN0001"), "verify_code": "XemTruocMauGCN0001"}
    if settings is not None and unit is not None:
        overrides.update(
            governing_body=settings.governing_body,
            issuing_body=settings.issuing_body,
            place_date_line=place_date_line(settings.place_name, today),
            number=sample_number(settings, unit, today.year) or "07/2026/GCN-MAU",
            result_line=settings.result_line,
        )
    return sample_snapshot(**overrides)


def render_preview(settings: IssuerSettings | None, unit: Unit | None, html: str, css: str, *, today: date) -> bytes:
    """The admin's edited template rendered (sandboxed) with a sample snapshot; ``RuleViolation`` on error."""
    from bdg_training import pdf
    from bdg_training.certificates import render

    try:
        return render.render_custom(html, css, preview_snapshot(settings, unit, today=today))
    except render.TemplateError as exc:
        RuleViolation.single("html", str(exc))
    except pdf.PageCountError:
        RuleViolation.single("html", "Mẫu dài hơn một trang A4: hãy rút gọn nội dung hoặc cỡ chữ.")
    except (pdf.PdfError, render.SnapshotError) as exc:
        RuleViolation.single("css", f"Không dựng được PDF: {exc}")


def save_template(actor, unit: Unit, *, html: str, css: str, note: str = "", today: date) -> CertificateTemplate:
    """Save an edit as the issuer's next template version (after a trial render) and make it active."""
    settings = settings_for(unit.id)
    if settings is None:
        RuleViolation.single("", "Hãy lưu cấu hình đơn vị cấp trước khi sửa mẫu.")
    html = (html or "").replace("\r\n", "\n")
    css = (css or "").replace("\r\n", "\n")
    render_preview(settings, unit, html, css, today=today)
    last = db.session.scalar(select(func.max(CertificateTemplate.version)).where(CertificateTemplate.unit_id == unit.id)) or 0
    template = CertificateTemplate(
        unit_id=unit.id, version=last + 1, html=html, css=css, note=nfc(note.strip()) or None, created_by_id=getattr(actor, "id", None)
    )
    db.session.add(template)
    db.session.flush()
    previous = settings.template_id
    settings.template_id = template.id
    db.session.flush()
    record(
        actor,
        "certificate.template_save",
        template,
        f"Lưu mẫu giấy chứng nhận phiên bản {template.version} của {unit.label()}" + (f": {template.note}" if template.note else ""),
        unit_id=unit.id,
        changes={"template_id": [previous, template.id]},
    )
    return template


def activate_template(actor, unit: Unit, template: CertificateTemplate | None) -> None:
    """Make a saved version (or the built-in default, ``None``) the one new certificates use."""
    settings = settings_for(unit.id)
    if settings is None:
        RuleViolation.single("", "Đơn vị chưa được cấu hình in giấy chứng nhận.")
    if template is not None and template.unit_id != unit.id:
        RuleViolation.single("", "Phiên bản mẫu không thuộc đơn vị này.")
    previous = settings.template_id
    settings.template_id = template.id if template else None
    db.session.flush()
    label = f"phiên bản {template.version}" if template else "mẫu mặc định"
    record(
        actor,
        "certificate.template_activate",
        settings,
        f"Dùng {label} cho giấy chứng nhận của {unit.label()}",
        unit_id=unit.id,
        changes={"template_id": [previous, settings.template_id]},
    )
