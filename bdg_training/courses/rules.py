"""Course rules: statuses and their transitions, what each status permits, validation of a course
and its sessions, clash warnings, and date shifting for cloned courses.

Pure: no Flask, no SQLAlchemy, no clock — ``now``/``today`` and counts come in as arguments, and
courses/sessions are plain dataclasses. Refusals raise :class:`RuleViolation` carrying every
reason, in Vietnamese, keyed by form field ("" for a general reason).

Status life cycle (lớp tập huấn)::

    draft ──► open ──► closed ──► running ──► finished
                ▲         │
                └─────────┘  (closed → open: reopen registration)
    draft / open / closed / running ──► cancelled   (a reason is required)

Decisions:

- ``closed → open`` is allowed, to reopen registration (e.g. seats freed up). ``open → draft`` is
  not: once a course was published people may have registered; close it or cancel it instead.
- ``open → running`` is not allowed: close registration first, so nobody registers into a course
  that has started.
- ``finished`` and ``cancelled`` are terminal.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from bdg_training.rules_base import RuleViolation

# --------------------------------------------------------------------------------------------
# Statuses
# --------------------------------------------------------------------------------------------
DRAFT = "draft"
OPEN = "open"
CLOSED = "closed"
RUNNING = "running"
FINISHED = "finished"
CANCELLED = "cancelled"

COURSE_STATUSES: tuple[str, ...] = (DRAFT, OPEN, CLOSED, RUNNING, FINISHED, CANCELLED)
COURSE_STATUS_LABELS: dict[str, str] = {
    DRAFT: "Nháp",
    OPEN: "Đang mở đăng ký",
    CLOSED: "Đã đóng đăng ký",
    RUNNING: "Đang diễn ra",
    FINISHED: "Đã kết thúc",
    CANCELLED: "Đã hủy",
}
# Bootstrap 5 contextual colour names, for ``badge text-bg-{colour}``.
COURSE_STATUS_BADGES: dict[str, str] = {
    DRAFT: "secondary",
    OPEN: "success",
    CLOSED: "warning",
    RUNNING: "primary",
    FINISHED: "dark",
    CANCELLED: "danger",
}
COURSE_STATUS_CHOICES: list[tuple[str, str]] = [(s, COURSE_STATUS_LABELS[s]) for s in COURSE_STATUSES]

TERMINAL_STATUSES = frozenset({FINISHED, CANCELLED})

# current -> targets, in the order buttons should appear.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    DRAFT: (OPEN, CANCELLED),
    OPEN: (CLOSED, CANCELLED),
    CLOSED: (RUNNING, OPEN, CANCELLED),
    RUNNING: (FINISHED, CANCELLED),
    FINISHED: (),
    CANCELLED: (),
}

# Button text for each allowed transition.
TRANSITION_ACTIONS: dict[tuple[str, str], str] = {
    (DRAFT, OPEN): "Mở đăng ký",
    (OPEN, CLOSED): "Đóng đăng ký",
    (CLOSED, OPEN): "Mở lại đăng ký",
    (CLOSED, RUNNING): "Bắt đầu lớp",
    (RUNNING, FINISHED): "Kết thúc lớp",
    **{(s, CANCELLED): "Hủy lớp" for s in (DRAFT, OPEN, CLOSED, RUNNING)},
}

DEFAULT_PASS_MARK = 5.0
DEFAULT_MIN_ATTENDANCE_PCT = 80.0
MAX_TITLE_LENGTH = 255
MAX_CODE_LENGTH = 30
_CODE_CHARS = re.compile(r"[A-Za-z0-9/_-]*")


def status_label(status: str) -> str:
    """Vietnamese label of a course status; an unknown code is shown as is."""
    return COURSE_STATUS_LABELS.get(status, status)


def status_badge(status: str) -> str:
    """Bootstrap colour name for a course status badge ("light" for an unknown code)."""
    return COURSE_STATUS_BADGES.get(status, "light")


def allowed_transitions(status: str) -> tuple[str, ...]:
    """Statuses a course in ``status`` may move to, ignoring preconditions (sessions, reason…).

    Empty for ``finished``, ``cancelled`` and for an unknown status.
    """
    return TRANSITIONS.get(status, ())


def transition_action(current: str, target: str) -> str | None:
    """Button text for ``current → target`` ("Mở lại đăng ký" for closed → open), ``None`` if not allowed."""
    return TRANSITION_ACTIONS.get((current, target))


def check_transition(
    current: str,
    target: str,
    *,
    has_sessions: bool,
    reason: str | None = None,
    now: datetime | None = None,
    reg_closes_at: datetime | None = None,
    today: date | None = None,
    end_date: date | None = None,
) -> None:
    """Refuse a status change that the life cycle or its preconditions forbid.

    Raises :class:`RuleViolation`:

    - unknown ``current``/``target``, ``current == target``, a terminal ``current`` (finished,
      cancelled) or a move not in :data:`TRANSITIONS` → one message under ``"status"`` (other
      checks are then moot and skipped);
    - → ``open`` (from draft, or reopening from closed) without sessions → ``"sessions"``; and,
      when both ``now`` and ``reg_closes_at`` are given, a registration deadline at or before
      ``now`` → ``"reg_closes_at"`` (opening would accept nobody);
    - → ``running`` without sessions → ``"sessions"``;
    - → ``finished`` before the course end date, when both ``today`` and ``end_date`` are given →
      ``"end_date"``;
    - → ``cancelled`` with an empty or blank ``reason`` → ``"reason"``.

    Every precondition that fails is reported, not just the first.
    """
    errors = RuleViolation()
    if current not in TRANSITIONS:
        errors.add("status", f"Trạng thái hiện tại không hợp lệ: “{current}”.")
    if target not in TRANSITIONS:
        errors.add("status", f"Trạng thái mới không hợp lệ: “{target}”.")
    errors.raise_if_any()

    if current == target:
        errors.add("status", f"Lớp đã ở trạng thái “{status_label(current)}”.")
    elif current == FINISHED:
        errors.add("status", "Lớp đã kết thúc, không thể chuyển sang trạng thái khác.")
    elif current == CANCELLED:
        errors.add("status", "Lớp đã bị hủy, không thể chuyển sang trạng thái khác.")
    elif target not in TRANSITIONS[current]:
        errors.add(
            "status",
            f"Không thể chuyển lớp từ “{status_label(current)}” sang “{status_label(target)}”.",
        )
    errors.raise_if_any()

    if target == OPEN:
        if not has_sessions:
            errors.add("sessions", "Lớp chưa có buổi học nào, không thể mở đăng ký.")
        if now is not None and reg_closes_at is not None and reg_closes_at <= now:
            errors.add(
                "reg_closes_at",
                f"Hạn đăng ký ({_fmt_dt(reg_closes_at)}) đã qua; hãy sửa hạn đăng ký trước khi mở đăng ký.",
            )
    elif target == RUNNING:
        if not has_sessions:
            errors.add("sessions", "Lớp chưa có buổi học nào, không thể bắt đầu.")
    elif target == FINISHED:
        if today is not None and end_date is not None and today < end_date:
            errors.add(
                "end_date",
                f"Chưa đến ngày kết thúc lớp ({_fmt_date(end_date)}), không thể kết thúc lớp.",
            )
    elif target == CANCELLED and not (reason or "").strip():
        errors.add("reason", "Vui lòng nhập lý do hủy lớp.")
    errors.raise_if_any()


# --------------------------------------------------------------------------------------------
# What each status permits
# --------------------------------------------------------------------------------------------
_EDITABLE = frozenset({DRAFT, OPEN, CLOSED, RUNNING})


def can_edit_course(status: str) -> bool:
    """Course details may be edited until it is finished or cancelled (draft/open/closed/running).

    Issued certificates keep their own snapshot, so editing a running course does not rewrite them.
    """
    return status in _EDITABLE


def can_add_session(status: str) -> bool:
    """Sessions may be added (or edited) in draft/open/closed/running; not once finished or cancelled."""
    return status in _EDITABLE


def can_take_attendance(status: str) -> bool:
    """Attendance is taken while running and may be corrected after finishing; never otherwise."""
    return status in (RUNNING, FINISHED)


def can_delete(status: str) -> bool:
    """Only a draft may be deleted (it was never published, so nobody registered); cancel the others."""
    return status == DRAFT


@dataclass(frozen=True)
class RegistrationState:
    """Whether registration is accepted now, a short code and the Vietnamese message to show.

    ``code`` is one of ``"open"``, ``"not_open"`` (status is not open), ``"not_started"``
    (before the window), ``"expired"`` (after the window).
    """

    is_open: bool
    code: str
    message: str


_NOT_OPEN_MESSAGES = {
    DRAFT: "Chưa mở đăng ký",
    CLOSED: "Đã đóng đăng ký",
    RUNNING: "Lớp đang diễn ra, không nhận đăng ký",
    FINISHED: "Lớp đã kết thúc",
    CANCELLED: "Lớp đã bị hủy",
}


def registration_state(
    status: str,
    reg_opens_at: datetime | None,
    reg_closes_at: datetime | None,
    now: datetime,
) -> RegistrationState:
    """Registration is accepted only while the course is ``open`` and ``now`` is inside the window.

    The window is half-open, ``reg_opens_at <= now < reg_closes_at``: at the deadline itself it is
    closed. A missing bound is unbounded on that side. All datetimes must be of the same kind
    (all aware or all naive), as Python cannot compare the two.
    """
    if status != OPEN:
        return RegistrationState(False, "not_open", _NOT_OPEN_MESSAGES.get(status, "Chưa mở đăng ký"))
    if reg_opens_at is not None and now < reg_opens_at:
        return RegistrationState(False, "not_started", f"Chưa mở đăng ký — nhận đăng ký từ {_fmt_dt(reg_opens_at)}")
    if reg_closes_at is not None and now >= reg_closes_at:
        return RegistrationState(False, "expired", f"Đã hết hạn đăng ký (hạn chót {_fmt_dt(reg_closes_at)})")
    message = "Đang mở đăng ký"
    if reg_closes_at is not None:
        message += f" đến {_fmt_dt(reg_closes_at)}"
    return RegistrationState(True, "open", message)


def can_register(
    status: str,
    reg_opens_at: datetime | None,
    reg_closes_at: datetime | None,
    now: datetime,
) -> bool:
    """True when :func:`registration_state` says registration is open."""
    return registration_state(status, reg_opens_at, reg_closes_at, now).is_open


def check_registration_open(
    status: str,
    reg_opens_at: datetime | None,
    reg_closes_at: datetime | None,
    now: datetime,
) -> None:
    """Raise :class:`RuleViolation` (general, key "") with the state message unless registration is open."""
    state = registration_state(status, reg_opens_at, reg_closes_at, now)
    if not state.is_open:
        RuleViolation.single("", state.message + ".")


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CourseData:
    """The fields of a course that validation looks at (a form or an import row, as plain data)."""

    title: str
    code: str
    capacity: int | None
    start_date: date | None
    end_date: date | None
    reg_opens_at: datetime | None = None
    reg_closes_at: datetime | None = None
    pass_mark: float | Decimal | None = DEFAULT_PASS_MARK
    min_attendance_pct: float | Decimal | None = DEFAULT_MIN_ATTENDANCE_PCT


@dataclass(frozen=True)
class SessionSlot:
    """A session (buổi học) as plain data: date, wall-clock start/end, venue and trainer as typed.

    ``id`` is ``None`` for a session not saved yet. ``course_title`` is optional and only used to
    name the session in clash warnings.
    """

    id: int | None
    course_id: int | None
    date: date | None
    start: time | None
    end: time | None
    venue: str = ""
    trainer: str = ""
    course_title: str = ""


def course_errors(
    data: CourseData,
    sessions: Sequence[SessionSlot] = (),
    *,
    local_tz: tzinfo | None = None,
) -> dict[str, list[str]]:
    """Every problem with ``data`` (and its existing ``sessions``), keyed by field; empty if valid.

    Rules, with the field each message goes to:

    - ``title``: required (blank counts as missing), at most 255 characters;
    - ``code``: required; at most 30 characters; only ASCII letters, digits, ``-``, ``/``, ``_``
      (no spaces, no diacritics — the code goes into file names and certificate numbers);
    - ``capacity``: required, ≥ 1;
    - ``start_date``, ``end_date``: required; ``end_date`` ≥ ``start_date`` (a one-day course has
      both equal);
    - ``reg_closes_at``: after ``reg_opens_at`` (when both are given), and not later than the start
      of the first session (or, with no sessions yet, than 00:00 of ``start_date``); when there is
      no deadline, ``reg_opens_at`` must be before that moment instead;
    - ``pass_mark``: required, 0–10 inclusive; ``min_attendance_pct``: required, 0–100 inclusive;
    - ``sessions``: when the dates are valid, each session dated outside them is reported (this is
      what catches a course whose dates were edited after sessions were added).

    Session dates/times are wall-clock. When the registration datetimes are timezone-aware, a
    session moment is read in ``local_tz`` if given, else in ``reg_closes_at``'s (or
    ``reg_opens_at``'s) own zone — pass ``local_tz`` when those are stored in UTC.
    """
    errors = RuleViolation()

    title = data.title or ""
    if not title.strip():
        errors.add("title", "Vui lòng nhập tên lớp.")
    elif len(title) > MAX_TITLE_LENGTH:
        errors.add("title", f"Tên lớp không được dài quá {MAX_TITLE_LENGTH} ký tự.")

    code = data.code or ""
    if not code.strip():
        errors.add("code", "Vui lòng nhập mã lớp.")
    else:
        if len(code) > MAX_CODE_LENGTH:
            errors.add("code", f"Mã lớp không được dài quá {MAX_CODE_LENGTH} ký tự.")
        if not _CODE_CHARS.fullmatch(code):
            errors.add("code", "Mã lớp chỉ được gồm chữ cái không dấu, chữ số và các ký tự - / _.")

    if data.capacity is None:
        errors.add("capacity", "Vui lòng nhập sĩ số tối đa.")
    elif data.capacity < 1:
        errors.add("capacity", "Sĩ số tối đa phải từ 1 trở lên.")

    if data.start_date is None:
        errors.add("start_date", "Vui lòng nhập ngày bắt đầu.")
    if data.end_date is None:
        errors.add("end_date", "Vui lòng nhập ngày kết thúc.")
    dates_ok = data.start_date is not None and data.end_date is not None
    if dates_ok and data.end_date < data.start_date:
        errors.add("end_date", "Ngày kết thúc không được trước ngày bắt đầu.")
        dates_ok = False

    _check_registration_window(errors, data, sessions, local_tz)

    if data.pass_mark is None:
        errors.add("pass_mark", "Vui lòng nhập điểm đạt.")
    elif not 0 <= data.pass_mark <= 10:  # also refuses NaN
        errors.add("pass_mark", "Điểm đạt phải từ 0 đến 10.")

    if data.min_attendance_pct is None:
        errors.add("min_attendance_pct", "Vui lòng nhập tỷ lệ tham dự tối thiểu.")
    elif not 0 <= data.min_attendance_pct <= 100:
        errors.add("min_attendance_pct", "Tỷ lệ tham dự tối thiểu phải từ 0 đến 100%.")

    if dates_ok:
        for s in sorted((s for s in sessions if s.date is not None), key=lambda s: s.date):
            if not data.start_date <= s.date <= data.end_date:
                errors.add(
                    "sessions",
                    f"Buổi học ngày {_fmt_date(s.date)} nằm ngoài thời gian của lớp "
                    f"({_fmt_date(data.start_date)} – {_fmt_date(data.end_date)}).",
                )
    return errors.errors


def validate_course(
    data: CourseData,
    sessions: Sequence[SessionSlot] = (),
    *,
    local_tz: tzinfo | None = None,
) -> None:
    """Raise :class:`RuleViolation` with every problem :func:`course_errors` finds."""
    errors = course_errors(data, sessions, local_tz=local_tz)
    if errors:
        raise RuleViolation(errors)


def _check_registration_window(
    errors: RuleViolation,
    data: CourseData,
    sessions: Sequence[SessionSlot],
    local_tz: tzinfo | None,
) -> None:
    opens, closes = data.reg_opens_at, data.reg_closes_at
    if opens is not None and closes is not None and closes <= opens:
        errors.add("reg_closes_at", "Thời điểm đóng đăng ký phải sau thời điểm mở đăng ký.")

    timed = [s for s in sessions if s.date is not None and s.start is not None]
    if timed:
        first = min(timed, key=lambda s: (s.date, s.start))
        starts_at = datetime.combine(first.date, first.start)
        what = f"buổi học đầu tiên bắt đầu ({_fmt_dt(starts_at)})"
    elif data.start_date is not None:
        starts_at = datetime.combine(data.start_date, time.min)
        what = f"ngày bắt đầu lớp ({_fmt_date(data.start_date)})"
    else:
        return

    if closes is not None:
        if closes > _like(starts_at, closes, local_tz):
            errors.add("reg_closes_at", f"Phải đóng đăng ký không muộn hơn {what}.")
    elif opens is not None and opens >= _like(starts_at, opens, local_tz):
        errors.add("reg_opens_at", f"Thời điểm mở đăng ký phải trước {what}.")


def _like(wall: datetime, other: datetime, local_tz: tzinfo | None) -> datetime:
    """``wall`` (naive, local) made comparable with ``other``."""
    if other.tzinfo is None:
        return wall
    return wall.replace(tzinfo=local_tz or other.tzinfo)


def session_errors(
    session: SessionSlot,
    course_start: date | None,
    course_end: date | None,
) -> dict[str, list[str]]:
    """Every problem with one session, keyed by field; empty if valid.

    - ``date``, ``start``, ``end``: required;
    - ``date``: inside ``course_start``–``course_end``, both inclusive (skipped when the course
      dates are unknown);
    - ``end``: strictly after ``start`` (a session does not cross midnight).
    """
    errors = RuleViolation()
    if session.date is None:
        errors.add("date", "Vui lòng nhập ngày học.")
    elif course_start is not None and course_end is not None and not course_start <= session.date <= course_end:
        errors.add(
            "date",
            f"Ngày học phải nằm trong thời gian của lớp ({_fmt_date(course_start)} – {_fmt_date(course_end)}).",
        )
    if session.start is None:
        errors.add("start", "Vui lòng nhập giờ bắt đầu.")
    if session.end is None:
        errors.add("end", "Vui lòng nhập giờ kết thúc.")
    if session.start is not None and session.end is not None and session.end <= session.start:
        errors.add("end", "Giờ kết thúc phải sau giờ bắt đầu.")
    return errors.errors


def validate_session(session: SessionSlot, course_start: date | None, course_end: date | None) -> None:
    """Raise :class:`RuleViolation` with every problem :func:`session_errors` finds."""
    errors = session_errors(session, course_start, course_end)
    if errors:
        raise RuleViolation(errors)


# --------------------------------------------------------------------------------------------
# Clash warnings
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Clash:
    """``other`` overlaps the new session in time and shares its venue and/or trainer."""

    other: SessionSlot
    same_venue: bool
    same_trainer: bool


def match_key(text: str | None) -> str:
    """Key for comparing names typed by different people: case-, diacritic- and spacing-insensitive.

    "  Hội trường  UBND " and "hoi truong ubnd" give the same key; đ/Đ (and the look-alike Ð
    U+00D0 of old encodings) fold to d. Old and new tone placement (hoà/hòa) fold alike.
    """
    if not text:
        return ""
    text = text.replace("đ", "d").replace("Đ", "D").replace("\u00d0", "D")
    stripped = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def _overlaps(a: SessionSlot, b: SessionSlot) -> bool:
    if None in (a.date, a.start, a.end, b.date, b.start, b.end) or a.date != b.date:
        return False
    # Half-open ranges: one session ending at 11:00 and another starting at 11:00 do not clash.
    return a.start < b.end and b.start < a.end


def session_clashes(new: SessionSlot, others: Iterable[SessionSlot]) -> list[Clash]:
    """Sessions in ``others`` that clash with ``new``, in the order given.

    Two sessions clash when they are on the same date, their time ranges overlap (``[start, end)``:
    touching ranges do not overlap) and they share a venue or a trainer, compared with
    :func:`match_key`. Empty venues/trainers never match. ``new`` itself (same non-None ``id``)
    is skipped, so an edited session does not clash with its stored version.
    """
    venue, trainer = match_key(new.venue), match_key(new.trainer)
    found = []
    for other in others:
        if new.id is not None and other.id == new.id:
            continue
        if not _overlaps(new, other):
            continue
        same_venue = bool(venue) and venue == match_key(other.venue)
        same_trainer = bool(trainer) and trainer == match_key(other.trainer)
        if same_venue or same_trainer:
            found.append(Clash(other, same_venue, same_trainer))
    return found


def find_clashes(new: SessionSlot, others: Iterable[SessionSlot]) -> list[str]:
    """Vietnamese warnings (not errors: the organizer may go ahead) for :func:`session_clashes`.

    One string per clashing session, naming what is shared (as typed on the other session) and
    the other session: its times, date and course, e.g. ``Trùng giảng viên “Nguyễn Văn A” với buổi
    học 08:00–11:00 ngày 05/02/2026 của lớp “Luật Bình đẳng giới”.``
    """
    warnings = []
    for clash in session_clashes(new, others):
        other = clash.other
        shared = []
        if clash.same_venue:
            shared.append(f"địa điểm “{other.venue.strip()}”")
        if clash.same_trainer:
            shared.append(f"giảng viên “{other.trainer.strip()}”")
        warnings.append(f"Trùng {' và '.join(shared)} với {_describe_session(other, new.course_id)}.")
    return warnings


def _describe_session(s: SessionSlot, own_course_id: int | None) -> str:
    text = f"buổi học {_fmt_time(s.start)}–{_fmt_time(s.end)} ngày {_fmt_date(s.date)}"
    if s.course_id is not None and s.course_id == own_course_id:
        return text + " của chính lớp này"
    if s.course_title.strip():
        return text + f" của lớp “{s.course_title.strip()}”"
    if s.course_id is not None:
        return text + f" của lớp #{s.course_id}"
    return text


# --------------------------------------------------------------------------------------------
# Cloning: shifting dates
# --------------------------------------------------------------------------------------------
def next_weekday_on_or_after(d: date, weekday: int) -> date:
    """The first date ≥ ``d`` falling on ``weekday`` (Monday = 0 … Sunday = 6); ``d`` itself if it does."""
    return d + timedelta(days=(weekday - d.weekday()) % 7)


def effective_start(course_start: date, new_start: date, *, keep_weekday: bool = False) -> date:
    """The start date a clone will really get.

    ``new_start`` as asked, or with ``keep_weekday`` the first date on or after it with the same
    weekday as ``course_start`` (a Monday course stays a Monday course).
    """
    if keep_weekday:
        return next_weekday_on_or_after(new_start, course_start.weekday())
    return new_start


def shift_schedule(
    course_start: date,
    session_dates: Iterable[date],
    new_start: date,
    *,
    keep_weekday: bool = False,
) -> list[date]:
    """Dates of a cloned course's sessions, in the order given.

    Each date keeps its **day offset** from the course start: a session 2 days after the old start
    lands 2 days after the new one. The new start is ``new_start``, or with ``keep_weekday=True``
    the first date on or after it with the old start's weekday (see :func:`effective_start`) — then
    every session also keeps its weekday. Pass the course end date along with the session dates
    to shift it too. Dates before ``course_start`` keep their (negative) offset.
    """
    start = effective_start(course_start, new_start, keep_weekday=keep_weekday)
    delta = start - course_start
    return [d + delta for d in session_dates]


def shift_to_next_year(d: date) -> date:
    """Same day and month one year later; 29 February becomes 28 February (stays in February).

    Works for ``datetime`` too (the time is kept).
    """
    try:
        return d.replace(year=d.year + 1)
    except ValueError:  # 29 February, and the next year is not a leap year
        return d.replace(year=d.year + 1, day=28)


# --------------------------------------------------------------------------------------------
# Formatting for messages
# --------------------------------------------------------------------------------------------
def _fmt_date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def _fmt_time(t: time | None) -> str:
    return t.strftime("%H:%M") if t is not None else "?"


def _fmt_dt(dt: datetime) -> str:
    return f"{dt.strftime('%H:%M')} ngày {_fmt_date(dt)}"
