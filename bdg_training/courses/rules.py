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
from bdg_training.text import fold

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


# --------------------------------------------------------------------------------------------
# Course codes
# --------------------------------------------------------------------------------------------
_CODE_JUNK = re.compile(r"[^A-Z0-9]")


def code_prefix(short_code: str | None, name: str | None, fallback: str = "LOP") -> str:
    """ASCII prefix of a unit's course codes: its short code, else the initials of its name.

    Course codes allow ASCII only (see :func:`course_errors`), so diacritics are folded and
    anything else dropped: "CĐ" → "CD", "LĐTBXH-CĐ" → "LDTBXHCD"; without a short code the
    name's initials: "Vĩnh Thạnh" → "VT", "Cần Thơ" → "CT". At most 10 characters; ``fallback``
    when nothing usable is left.
    """
    for source, initials in ((short_code, False), (name, True)):
        text = fold(source or "").upper()
        if initials:
            text = "".join(word[0] for word in text.split() if word)
        text = _CODE_JUNK.sub("", text)[:10]
        if text:
            return text
    return fallback


def suggest_code(prefix: str, year: int, taken: Iterable[str]) -> str:
    """The first free code ``{prefix}-{year}-{nn}`` (nn = 01, 02, … 99, then 100, …).

    ``taken`` are the codes already used (compared case-insensitively), so a deleted draft's
    number may be reused but an existing course's never is.
    """
    used = {code.upper() for code in taken}
    n = 1
    while True:
        code = f"{prefix}-{year}-{n:02d}"
        if code.upper() not in used:
            return code
        n += 1


# --------------------------------------------------------------------------------------------
# What a course links to: topic, organizing unit, plan, certificate issuer and signer
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CourseLinks:
    """The links of a course, as plain data (ids and the few facts of the linked rows)."""

    topic_id: int | None
    unit_id: int | None
    unit_valid_from: date | None = None
    unit_valid_to: date | None = None
    plan_year: int | None = None
    issuing_unit_id: int | None = None
    signer_unit_id: int | None = None
    signer_valid_to: date | None = None
    hours: float | Decimal | None = None


def course_link_errors(links: CourseLinks, start_date: date | None, end_date: date | None) -> dict[str, list[str]]:
    """Every problem with what a course links to, keyed by field; empty if valid.

    - ``topic_id``: required (every report groups courses by topic);
    - ``unit_id``: required; the unit must exist on the start date — a unit closed by the 2025
      reform (valid to 30/06/2025) cannot organize a course starting on 01/07/2025, and a unit
      founded on 01/07/2025 cannot organize one before that;
    - ``plan_id``: a plan counts courses by the year of their **end date** (a course belongs to
      the period of its end date), so the plan's year must be the end date's year;
    - ``signer_id``: the signer must belong to the issuing unit, and must still be in office on
      the end date (certificates are signed after the course ends);
    - ``hours``: not negative.
    """
    errors = RuleViolation()
    if links.topic_id is None:
        errors.add("topic_id", "Vui lòng chọn chủ đề.")
    if links.unit_id is None:
        errors.add("unit_id", "Vui lòng chọn đơn vị tổ chức.")
    elif start_date is not None:
        if links.unit_valid_to is not None and start_date > links.unit_valid_to:
            errors.add(
                "unit_id",
                f"Đơn vị tổ chức đã ngừng hoạt động từ sau ngày {_fmt_date(links.unit_valid_to)}, "
                "không thể tổ chức lớp bắt đầu sau ngày đó.",
            )
        if links.unit_valid_from is not None and start_date < links.unit_valid_from:
            errors.add(
                "unit_id",
                f"Đơn vị tổ chức chỉ hoạt động từ ngày {_fmt_date(links.unit_valid_from)}, "
                "không thể tổ chức lớp bắt đầu trước ngày đó.",
            )
    if links.plan_year is not None and end_date is not None and links.plan_year != end_date.year:
        errors.add(
            "plan_id",
            f"Kế hoạch năm {links.plan_year} không khớp với năm kết thúc của lớp ({end_date.year}).",
        )
    if links.signer_unit_id is not None:
        if links.issuing_unit_id is not None and links.signer_unit_id != links.issuing_unit_id:
            errors.add("signer_id", "Người ký phải thuộc đơn vị cấp giấy chứng nhận.")
        if links.signer_valid_to is not None and end_date is not None and links.signer_valid_to < end_date:
            errors.add(
                "signer_id",
                f"Người ký chỉ còn hiệu lực đến ngày {_fmt_date(links.signer_valid_to)}, "
                "trước ngày kết thúc lớp; hãy chọn người ký khác.",
            )
    if links.hours is not None and not links.hours >= 0:
        errors.add("hours", "Số giờ học không được âm.")
    return errors.errors


# --------------------------------------------------------------------------------------------
# Publication: public pages, catalogue, iCalendar feed
# --------------------------------------------------------------------------------------------
def is_public(status: str, published: bool) -> bool:
    """Whether anyone (anonymous) may see a course's public page and its iCalendar feed.

    A course becomes public the first time it is opened for registration (``published``) and
    stays public afterwards — closed, running, finished, and also cancelled, so people who saw it
    (or subscribed to its calendar) learn that it was cancelled. A draft never is; neither is a
    course cancelled before it was ever published.
    """
    return status in COURSE_STATUSES and status != DRAFT and published


def in_catalogue(
    status: str,
    reg_closes_at: datetime | None,
    start_date: date,
    now: datetime,
    today: date,
) -> bool:
    """A course appears in the public catalogue while it is ``open`` and registration is not over.

    Registration is over at ``reg_closes_at`` (``now >= reg_closes_at``); a course without a
    deadline stops being listed on its start date. A window that has not started yet is still
    listed (the page says from when registration is accepted). ``now`` and ``reg_closes_at`` must
    be of the same kind (both aware, or both naive); ``today`` is the local date.
    """
    if status != OPEN:
        return False
    if reg_closes_at is not None:
        return now < reg_closes_at
    return today < start_date


# --------------------------------------------------------------------------------------------
# Month calendar
# --------------------------------------------------------------------------------------------
WEEKDAY_LABELS: tuple[str, ...] = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
WEEKDAY_SHORT: tuple[str, ...] = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
_MONTH_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})")


def month_label(year: int, month: int) -> str:
    """"Tháng 11/2026", "Tháng 02/2026" (two-digit month, as dates are written)."""
    return f"Tháng {month:02d}/{year}"


def add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    """(year, month) ``delta`` months later (or earlier when negative)."""
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def parse_month(text: str | None, default: tuple[int, int]) -> tuple[int, int]:
    """"2026-11" → (2026, 11); anything else (empty, "2026-13", "11/2026") → ``default``.

    Years outside 1900–2999 are refused too, so a crafted link cannot ask for year 0.
    """
    match = _MONTH_RE.fullmatch((text or "").strip())
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 1900 <= year <= 2999 and 1 <= month <= 12:
            return year, month
    return default


def month_grid(year: int, month: int) -> list[list[date]]:
    """The weeks shown for a month, Monday first: whole weeks from the Monday on or before the
    1st to the Sunday on or after the last day (4 to 6 rows of 7 dates; days of the previous and
    next month fill the first and last rows)."""
    first = date(year, month, 1)
    next_first = date(*add_months(year, month, 1), 1)
    last = next_first - timedelta(days=1)
    start = first - timedelta(days=first.weekday())
    end = last + timedelta(days=6 - last.weekday())
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return [days[i : i + 7] for i in range(0, len(days), 7)]


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """First and last day of a month."""
    next_first = date(*add_months(year, month, 1), 1)
    return date(year, month, 1), next_first - timedelta(days=1)


# --------------------------------------------------------------------------------------------
# Annual plans
# --------------------------------------------------------------------------------------------
MIN_PLAN_YEAR = 2000
MAX_PLAN_YEAR = 2100


@dataclass(frozen=True)
class PlanData:
    """The numbers of an annual plan (kế hoạch năm) as plain data."""

    year: int | None
    planned_courses: int | None
    planned_trainees: int | None
    planned_female_pct: float | Decimal | None = None


@dataclass(frozen=True)
class TargetRow:
    """One free-form target row of a plan as typed; a row with every field blank is ignored."""

    indicator: str = ""
    source_document: str = ""
    target_value: float | Decimal | None = None
    measure: str = ""
    actual_value: float | Decimal | None = None
    note: str = ""

    @property
    def is_blank(self) -> bool:
        texts = (self.indicator, self.source_document, self.measure, self.note)
        return not any((t or "").strip() for t in texts) and self.target_value is None and self.actual_value is None


def plan_errors(data: PlanData, targets: Sequence[TargetRow] = ()) -> dict[str, list[str]]:
    """Every problem with a plan and its target rows, keyed by field; empty if valid.

    - ``year``: required, 2000–2100;
    - ``planned_courses``, ``planned_trainees``: required, ≥ 0;
    - ``planned_female_pct``: optional, 0–100;
    - each non-blank target row ``i`` (0-based, as submitted): ``targets.{i}.indicator`` required
      (at most 300 characters); ``targets.{i}.target_value`` / ``actual_value`` not negative.
    """
    errors = RuleViolation()
    if data.year is None:
        errors.add("year", "Vui lòng nhập năm kế hoạch.")
    elif not MIN_PLAN_YEAR <= data.year <= MAX_PLAN_YEAR:
        errors.add("year", f"Năm kế hoạch phải từ {MIN_PLAN_YEAR} đến {MAX_PLAN_YEAR}.")
    for field, label in (("planned_courses", "số lớp dự kiến"), ("planned_trainees", "số học viên dự kiến")):
        value = getattr(data, field)
        if value is None:
            errors.add(field, f"Vui lòng nhập {label}.")
        elif value < 0:
            errors.add(field, f"{label[0].upper()}{label[1:]} không được âm.")
    pct = data.planned_female_pct
    if pct is not None and not 0 <= pct <= 100:
        errors.add("planned_female_pct", "Tỷ lệ nữ phải từ 0 đến 100%.")
    for i, row in enumerate(targets):
        if row.is_blank:
            continue
        indicator = (row.indicator or "").strip()
        if not indicator:
            errors.add(f"targets.{i}.indicator", "Vui lòng nhập tên chỉ tiêu.")
        elif len(indicator) > 300:
            errors.add(f"targets.{i}.indicator", "Tên chỉ tiêu không được dài quá 300 ký tự.")
        for field in ("target_value", "actual_value"):
            value = getattr(row, field)
            if value is not None and not value >= 0:
                errors.add(f"targets.{i}.{field}", "Giá trị không được âm.")
    return errors.errors


def progress_pct(actual: int | float | Decimal | None, planned: int | float | Decimal | None) -> int | None:
    """``actual`` as a whole percentage of ``planned`` (rounded half up); ``None`` when either is
    unknown or nothing was planned (0 planned gives no meaningful percentage)."""
    if actual is None or planned is None or planned <= 0:
        return None
    return int((Decimal(str(actual)) * 100 / Decimal(str(planned))).quantize(Decimal("1"), rounding="ROUND_HALF_UP"))
