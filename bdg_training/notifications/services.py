"""Queuing notifications (the outbox), the admin's templates, and users' preferences.

How a feature sends a mail: inside its own service function, after the change, call

    notify(event, to_trainee=trainee, context={...}, dedupe_key="...", course=course)

or one of the event helpers below (:func:`notify_enrollment`, :func:`queue_course_reminders`,
:func:`notify_pretest_open`, :func:`notify_certificate_issued`). The message row joins the
caller's session and transaction: it commits with the change, and a rolled-back change leaves
no row. Delivery happens later (:mod:`bdg_training.notifications.outbox`).

Templates are Jinja rendered in a :class:`~jinja2.sandbox.SandboxedEnvironment` as plain text
(no autoescape: the result is never put into HTML without escaping — the HTML alternative is
built by :func:`rules.text_to_html`, which escapes everything). A broken custom template never
breaks the caller: rendering falls back to the built-in default.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from flask import current_app
from jinja2 import ChainableUndefined, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.routing import BuildError

from bdg_training.audit.services import diff, record
from bdg_training.database import as_utc, utcnow
from bdg_training.extensions import db
from bdg_training.notifications import rules
from bdg_training.notifications.defaults import DEFAULT_TEMPLATES, SAMPLE_CONTEXT
from bdg_training.notifications.delivery import Attachment
from bdg_training.notifications.models import NotificationPreference, NotificationTemplate, OutboxMessage
from bdg_training.rules_base import RuleViolation

log = logging.getLogger(__name__)

_ENV_OPTIONS = {"autoescape": False, "trim_blocks": True, "lstrip_blocks": True, "keep_trailing_newline": True}
_ENV = SandboxedEnvironment(undefined=ChainableUndefined, **_ENV_OPTIONS)  # a missing value renders empty
_STRICT_ENV = SandboxedEnvironment(undefined=StrictUndefined, **_ENV_OPTIONS)

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


# --------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------
def _check_event(event: str) -> rules.EventInfo:
    info = rules.EVENTS.get(event)
    if info is None:
        raise ValueError(f"unknown notification event: {event!r}")
    return info


def template_for(event: str) -> tuple[str, str, NotificationTemplate | None]:
    """(subject, body, the admin's row or ``None`` when the default is in use)."""
    _check_event(event)
    row = db.session.scalar(select(NotificationTemplate).where(NotificationTemplate.event == event))
    if row is not None:
        return row.subject, row.body, row
    subject, body = DEFAULT_TEMPLATES[event]
    return subject, body, None


def all_templates() -> list[tuple[rules.EventInfo, NotificationTemplate | None]]:
    rows = {t.event: t for t in db.session.scalars(select(NotificationTemplate))}
    return [(info, rows.get(code)) for code, info in rules.EVENTS.items()]


def render(subject: str, body: str, context: Mapping, *, strict: bool = False) -> tuple[str, str]:
    """Render a subject and body (raises :class:`jinja2.TemplateError`, incl. sandbox violations)."""
    env = _STRICT_ENV if strict else _ENV
    rendered_subject = rules.clean_subject(env.from_string(subject).render(context))
    rendered_body = env.from_string(body).render(context).replace("\r\n", "\n").strip() + "\n"
    return rendered_subject, rendered_body


def template_errors(subject: str, body: str, event: str) -> dict[str, list[str]]:
    """Why a template cannot be saved: Jinja syntax, a forbidden operation, a variable the event
    does not have (checked by rendering the sample data strictly), or an empty subject/body."""
    errors: dict[str, list[str]] = {}
    for field, text in (("subject", subject), ("body", body)):
        if not (text or "").strip():
            errors.setdefault(field, []).append("Không được để trống.")
            continue
        try:
            _STRICT_ENV.from_string(text).render(sample_context(event))
        except TemplateError as exc:
            line = f" (dòng {exc.lineno})" if getattr(exc, "lineno", None) else ""
            errors.setdefault(field, []).append(f"Mẫu không hợp lệ{line}: {exc.message or exc}")
        except Exception as exc:  # noqa: BLE001 - e.g. the sandbox's range limit (OverflowError), 1 // 0
            errors.setdefault(field, []).append(f"Mẫu không hợp lệ: {type(exc).__name__}: {exc}")
    if len((subject or "").strip()) > 300:
        errors.setdefault("subject", []).append("Tiêu đề không được dài quá 300 ký tự.")
    return errors


def sample_context(event: str) -> dict:
    """The preview's data: made-up but realistic, with the real site name and address."""
    context = dict(SAMPLE_CONTEXT)
    context["site"] = site_context()
    context["links"] = {"my_courses": _link("enrollment.my_courses", "enrollment.mine"), "preferences": _link("notifications.preferences")}
    return context


def preview(subject: str, body: str, event: str) -> tuple[str, str]:
    """Render with the sample data (raises :class:`RuleViolation` with the template errors)."""
    errors = template_errors(subject, body, event)
    if errors:
        raise RuleViolation(errors)
    return render(subject, body, sample_context(event), strict=True)


def save_template(actor, event: str, *, subject: str, body: str) -> NotificationTemplate:
    """Store the admin's version of ``event``'s mail (validated, audited)."""
    _check_event(event)
    subject = (subject or "").replace("\r\n", "\n").strip()
    body = (body or "").replace("\r\n", "\n").strip() + "\n"
    errors = template_errors(subject, body, event)
    if errors:
        raise RuleViolation(errors)
    old_subject, old_body, row = template_for(event)
    if row is None:
        row = NotificationTemplate(event=event, subject=subject, body=body, updated_by_id=getattr(actor, "id", None))
        db.session.add(row)
    else:
        row.subject, row.body, row.updated_by_id = subject, body, getattr(actor, "id", None)
    db.session.flush()
    record(
        actor,
        "notification_template.update",
        row,
        f"Sửa mẫu thư “{rules.event_label(event)}”",
        changes=diff({"subject": old_subject, "body": old_body}, {"subject": subject, "body": body}),
    )
    return row


def reset_template(actor, event: str) -> None:
    """Go back to the built-in default (deletes the admin's row; audited)."""
    _, _, row = template_for(event)
    if row is None:
        return
    record(actor, "notification_template.reset", row, f"Khôi phục mẫu thư mặc định “{rules.event_label(event)}”")
    db.session.delete(row)
    db.session.flush()


# --------------------------------------------------------------------------------------------
# Preferences
# --------------------------------------------------------------------------------------------
def preferences_for(user_id: int | None) -> dict[str, bool]:
    if user_id is None:
        return {}
    rows = db.session.execute(
        select(NotificationPreference.event, NotificationPreference.enabled).where(NotificationPreference.user_id == user_id)
    )
    return {event: enabled for event, enabled in rows}


def set_preferences(actor, user, choices: Mapping[str, bool]) -> dict[str, list[bool]]:
    """Save a user's choices for the optional events (mandatory ones are ignored); audited.
    Returns what changed, ``{event: [before, after]}``."""
    current = preferences_for(user.id)
    rows = {p.event: p for p in db.session.scalars(select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    changed: dict[str, list[bool]] = {}
    for event in rules.OPTIONAL_EVENTS:
        if event not in choices:
            continue
        wanted = bool(choices[event])
        before = current.get(event, True)
        if wanted == before:
            continue
        changed[event] = [before, wanted]
        if event in rows:
            rows[event].enabled = wanted
        else:
            db.session.add(NotificationPreference(user_id=user.id, event=event, enabled=wanted))
    if changed:
        db.session.flush()
        summary = ", ".join(f"{'bật' if after else 'tắt'} “{rules.event_label(e)}”" for e, (_, after) in changed.items())
        record(
            actor,
            "notification_preference.update",
            user,
            f"Thông báo của {user.username}: {summary}",
            object_type="users",
            unit_id=None,
            changes=changed,
        )
    return changed


# --------------------------------------------------------------------------------------------
# Context helpers
# --------------------------------------------------------------------------------------------
def base_url() -> str:
    return current_app.config.get("BASE_URL", "").rstrip("/")


def _path(endpoint: str, **values) -> str | None:
    if endpoint not in current_app.view_functions:
        return None
    try:
        return current_app.url_map.bind("localhost").build(endpoint, values)
    except BuildError:
        return None


def _link(*endpoints: str, **values) -> str:
    """Absolute link (``BASE_URL`` + path) to the first endpoint that exists; the home page else."""
    for endpoint in endpoints:
        path = _path(endpoint, **values)
        if path:
            return base_url() + path
    return base_url() + "/"


def absolute_url(path: str) -> str:
    return base_url() + (path if path.startswith("/") else "/" + path)


def site_context() -> dict:
    return {"name": current_app.config.get("APP_NAME", ""), "url": base_url() + "/"}


def _fmt(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def session_line(session, course=None) -> str:
    """ "Thứ Hai 07/12/2026, 07:30–11:00: Luật Bình đẳng giới (Hội trường …)"."""
    line = f"{WEEKDAYS[session.date.weekday()]} {_fmt(session.date)}, {session.start_time:%H:%M}–{session.end_time:%H:%M}"
    if session.subject:
        line += f": {session.subject}"
    venue = session.venue or (course.venue if course is not None else "") or ""
    if venue:
        line += f" ({venue})"
    return line


def course_context(course) -> dict:
    if course.start_date == course.end_date:
        dates = f"ngày {_fmt(course.start_date)}"
    else:
        dates = f"từ ngày {_fmt(course.start_date)} đến ngày {_fmt(course.end_date)}"
    return {
        "title": course.title,
        "code": course.code,
        "dates": dates,
        "start": _fmt(course.start_date),
        "end": _fmt(course.end_date),
        "venue": course.venue or "(đơn vị tổ chức sẽ thông báo)",
        "unit": course.unit.label() if course.unit is not None else "",
        "sessions": [
            {
                "date": _fmt(s.date),
                "start": f"{s.start_time:%H:%M}",
                "end": f"{s.end_time:%H:%M}",
                "subject": s.subject or "",
                "venue": s.venue or course.venue or "",
                "line": session_line(s, course),
            }
            for s in course.sessions
        ],
    }


def _links() -> dict:
    return {"my_courses": _link("enrollment.my_courses", "enrollment.mine"), "preferences": _link("notifications.preferences")}


# --------------------------------------------------------------------------------------------
# notify
# --------------------------------------------------------------------------------------------
def _recipient(to_user, to_trainee) -> tuple[str | None, str | None, object | None]:
    """(address, name, user whose preferences apply). A trainee's own address comes first, then
    that of their login; a user's address otherwise."""
    user = to_user if to_user is not None else getattr(to_trainee, "user", None)
    candidates = []
    if to_trainee is not None:
        candidates.append(getattr(to_trainee, "email", None))
    if user is not None:
        candidates.append(getattr(user, "email", None))
    address = next((a.strip() for a in candidates if a and a.strip()), None)
    name = getattr(to_trainee, "full_name", None) or getattr(user, "full_name", None)
    return address, name, user


def already_queued(dedupe_key: str) -> bool:
    return db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None


def notify(
    event: str,
    *,
    to_user=None,
    to_trainee=None,
    context: Mapping | None = None,
    dedupe_key: str,
    course=None,
    attachments: Sequence[Attachment] = (),
    channel: str = "email",
) -> OutboxMessage | None:
    """Queue ``event`` for one recipient in the *current* session/transaction.

    Returns the new :class:`OutboxMessage`, or ``None`` when nothing was queued: the recipient has
    no (valid) address, turned this optional event off, or a message with ``dedupe_key`` exists
    already (the same event never queues twice — also under concurrency: the insert runs in a
    SAVEPOINT, so a duplicate key never spoils the caller's transaction).
    """
    info = _check_event(event)
    if to_user is None and to_trainee is None:
        raise ValueError("notify() needs to_user or to_trainee")
    address, name, user = _recipient(to_user, to_trainee)
    if not rules.is_valid_address(address):
        log.info("notify %s: bỏ qua, người nhận không có địa chỉ email hợp lệ (%s)", event, dedupe_key)
        return None
    if info.optional and user is not None and not rules.is_enabled(event, preferences_for(user.id)):
        return None
    dedupe_key = dedupe_key[:200]
    if already_queued(dedupe_key):
        return None

    full_context = {"recipient_name": name or address, "site": site_context(), "links": _links(), **(context or {})}
    subject, body, row = template_for(event)
    try:
        rendered_subject, rendered_body = render(subject, body, full_context)
    except Exception:  # noqa: BLE001 - an admin's broken template must never break the caller
        if row is None:
            raise
        log.exception("notify %s: mẫu thư tùy chỉnh lỗi, dùng mẫu mặc định", event)
        rendered_subject, rendered_body = render(*DEFAULT_TEMPLATES[event], full_context)

    message = OutboxMessage(
        event=event,
        channel=channel,
        to_address=address,
        to_name=(name or "")[:200] or None,
        user_id=getattr(user, "id", None),
        trainee_id=getattr(to_trainee, "id", None),
        course_id=getattr(course, "id", None),
        unit_id=getattr(course, "unit_id", None),
        subject=rendered_subject,
        body_text=rendered_body,
        body_html=rules.text_to_html(rendered_body),
        attachments=[a.stored() for a in attachments],
        status=rules.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
        dedupe_key=dedupe_key,
    )
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        # A concurrent transaction queued the same key first: theirs stands.
        return None
    return message


# --------------------------------------------------------------------------------------------
# Event helpers — the one-line calls other features make
# --------------------------------------------------------------------------------------------
_STATUS_EVENTS = {
    "pending": rules.REGISTRATION_RECEIVED,
    "confirmed": rules.ENROLLMENT_CONFIRMED,
    "waitlisted": rules.ENROLLMENT_WAITLISTED,
    "rejected": rules.ENROLLMENT_REJECTED,
}


def _cycle(enrollment) -> str:
    """Distinguishes the rounds of one enrolment row (a withdrawn row is reactivated rather than
    duplicated): the time of the registration it belongs to."""
    registered = getattr(enrollment, "registered_at", None)
    return str(int(registered.timestamp())) if registered is not None else "0"


def enrollment_dedupe_key(event: str, enrollment) -> str:
    return f"{event}:{enrollment.id}:{_cycle(enrollment)}"


def notify_enrollment(enrollment, event: str | None = None, *, reason: str | None = None) -> OutboxMessage | None:
    """Tell the trainee about their enrolment: ``event`` defaults to the one matching its status
    (pending → received, confirmed, waitlisted (with position), rejected); pass
    ``rules.ENROLLMENT_PROMOTED`` for a promotion from the waiting list. Statuses without a mail
    (withdrawn) queue nothing. Call it after the status change and ``flush()``."""
    if event is None:
        event = _STATUS_EVENTS.get(enrollment.status)
        if event is None:
            return None
    course = enrollment.course
    context = {"course": course_context(course), "waitlist": {"position": enrollment.waitlist_position}, "reason": reason or ""}
    return notify(event, to_trainee=enrollment.trainee, context=context, dedupe_key=enrollment_dedupe_key(event, enrollment), course=course)


REMINDER_STATUSES = ("open", "closed", "running")


def _ical_attachment(course, now: datetime) -> Attachment | None:
    """The course's sessions as an ``.ics`` — the courses feed's own iCalendar code."""
    try:
        from bdg_training.courses.services import course_ical
    except ImportError:  # pragma: no cover - the courses feature ships it
        return None
    text = course_ical(course, now=now, base_url=base_url())
    return Attachment(f"lop-{course.code}.ics", "text/calendar; charset=utf-8; method=PUBLISH", text.encode("utf-8"))


def queue_course_reminders(*, start_day: date, now: datetime) -> int:
    """Queue the reminder for every confirmed trainee of courses starting on ``start_day`` (the
    caller passes tomorrow). Idempotent: the dedupe key is course × start date × enrolment, so
    running it twice queues nothing new, and a course moved to another day reminds again."""
    from bdg_training.courses.models import Course
    from bdg_training.enrollment.models import Enrollment, Trainee

    courses = db.session.scalars(
        select(Course)
        .where(Course.start_date == start_day, Course.status.in_(REMINDER_STATUSES))
        .options(selectinload(Course.sessions), selectinload(Course.unit))
        .order_by(Course.id)
    ).all()
    queued = 0
    for course in courses:
        enrollments = db.session.scalars(
            select(Enrollment)
            .where(Enrollment.course_id == course.id, Enrollment.status == "confirmed")
            .options(selectinload(Enrollment.trainee).selectinload(Trainee.user))
            .order_by(Enrollment.id)
        ).all()
        if not enrollments:
            continue
        attachment = _ical_attachment(course, now)
        context = {"course": course_context(course)}
        for enrollment in enrollments:
            message = notify(
                rules.COURSE_REMINDER,
                to_trainee=enrollment.trainee,
                context=context,
                dedupe_key=f"reminder:{course.id}:{course.start_date.isoformat()}:{enrollment.id}",
                course=course,
                attachments=[attachment] if attachment else [],
            )
            queued += message is not None
    db.session.flush()
    return queued


def notify_pretest_open(course, *, title: str, url_path: str, closes_at: datetime | None = None, key: str | int) -> int:
    """Tell every confirmed trainee of ``course`` that its pre-test (``key`` identifies it, e.g.
    the form id) is open. Idempotent per test × enrolment. Returns how many mails were queued."""
    from bdg_training.enrollment.models import Enrollment, Trainee

    enrollments = db.session.scalars(
        select(Enrollment)
        .where(Enrollment.course_id == course.id, Enrollment.status == "confirmed")
        .options(selectinload(Enrollment.trainee).selectinload(Trainee.user))
        .order_by(Enrollment.id)
    ).all()
    closes = ""
    if closes_at is not None:
        from bdg_training.vn import format_datetime

        closes = format_datetime(as_utc(closes_at))
    context = {"course": course_context(course), "test": {"title": title, "url": absolute_url(url_path), "closes": closes}}
    queued = 0
    for enrollment in enrollments:
        message = notify(
            rules.PRETEST_OPEN, to_trainee=enrollment.trainee, context=context, dedupe_key=f"pretest:{key}:{enrollment.id}", course=course
        )
        queued += message is not None
    return queued


PRETEST_COURSE_STATUSES = ("open", "closed", "running")


def notify_pretest_form(form, *, now: datetime | None = None) -> int:
    """Queue "pre-test open" for a pre-test form whose window is open now (nothing otherwise):
    a pre-test with questions, of a course that is open, closed or running. Safe to call after
    every save of the form — each trainee gets one mail per form."""
    now = now or utcnow()
    course = form.course
    if form.kind != "pre" or not form.items or course is None or course.status not in PRETEST_COURSE_STATUSES:
        return 0
    opens, closes = as_utc(form.opens_at), as_utc(form.closes_at)
    if (opens is not None and now < opens) or (closes is not None and now >= closes):
        return 0
    path = _path("assessments.take", course_id=course.id, kind="pre") or _path("assessments.my_tests") or "/"
    return notify_pretest_open(course, title=form.title or "Kiểm tra đầu vào", url_path=path, closes_at=form.closes_at, key=form.id)


def queue_open_pretests(*, now: datetime) -> int:
    """``notify_pretest_form`` for every pre-test whose window is open at ``now`` (the scheduled
    case: a window that opened by itself). Idempotent."""
    try:
        from bdg_training.assessments.models import TestForm
    except ImportError:  # pragma: no cover - the assessments feature ships it
        return 0
    from bdg_training.courses.models import Course

    forms = db.session.scalars(
        select(TestForm)
        .join(Course, Course.id == TestForm.course_id)
        .where(
            TestForm.kind == "pre",
            Course.status.in_(PRETEST_COURSE_STATUSES),
            (TestForm.opens_at.is_(None)) | (TestForm.opens_at <= now),
            (TestForm.closes_at.is_(None)) | (TestForm.closes_at > now),
        )
        .options(selectinload(TestForm.items), selectinload(TestForm.course).selectinload(Course.sessions))
        .order_by(TestForm.id)
    ).all()
    return sum(notify_pretest_form(form, now=now) for form in forms)


def notify_certificate_issued(certificate) -> OutboxMessage | None:
    """Tell the holder their certificate was issued — number and public verification link
    (``BASE_URL/verify/<code>``) only; the PDF is never attached (it is downloaded after login).
    Call after the certificate is flushed (it needs its id)."""
    context = {
        "course": course_context(certificate.course),
        "certificate": {"number": certificate.number, "verify_url": absolute_url(f"/verify/{certificate.verify_code}")},
    }
    return notify(
        rules.CERTIFICATE_ISSUED,
        to_trainee=certificate.trainee,
        context=context,
        dedupe_key=f"certificate:{certificate.id}",
        course=certificate.course,
    )


# --------------------------------------------------------------------------------------------
# Reading the outbox
# --------------------------------------------------------------------------------------------
def outbox_query(*, actor, status: str | None = None, event: str | None = None, q: str | None = None, course_id: int | None = None):
    """Outbox rows the actor may see (admin: all; organizer: their courses' subtree), newest first."""
    from bdg_training.access import scope_filter

    query = select(OutboxMessage).where(scope_filter(OutboxMessage.unit_id, actor)).options(selectinload(OutboxMessage.course))
    if status in rules.STATUSES:
        query = query.where(OutboxMessage.status == status)
    if event in rules.EVENTS:
        query = query.where(OutboxMessage.event == event)
    if course_id:
        query = query.where(OutboxMessage.course_id == course_id)
    if q:
        like = f"%{q.strip().lower()}%"
        query = query.where(
            db.func.lower(OutboxMessage.to_address).like(like)
            | db.func.lower(OutboxMessage.subject).like(like)
            | OutboxMessage.to_name.ilike(like)
        )
    return query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())


def status_counts(*, actor) -> dict[str, int]:
    from bdg_training.access import scope_filter

    rows = db.session.execute(
        select(OutboxMessage.status, db.func.count(OutboxMessage.id))
        .where(scope_filter(OutboxMessage.unit_id, actor))
        .group_by(OutboxMessage.status)
    )
    counts = dict.fromkeys(rules.STATUSES, 0)
    counts.update({status: count for status, count in rows})
    return counts


def attachments_of(message: OutboxMessage) -> list[Attachment]:
    return [Attachment.from_stored(item) for item in message.attachments or []]


__all__ = [
    "all_templates",
    "course_context",
    "notify",
    "notify_certificate_issued",
    "notify_enrollment",
    "notify_pretest_form",
    "notify_pretest_open",
    "queue_open_pretests",
    "preferences_for",
    "preview",
    "queue_course_reminders",
    "render",
    "reset_template",
    "save_template",
    "set_preferences",
    "template_for",
]
