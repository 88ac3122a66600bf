"""Enrolment rules: statuses, seat/waitlist decisions, promotions, withdrawal and approval checks,
attendance rate, and the code lists a trainee form needs (target groups, sexes).

Pure: no Flask, no SQLAlchemy, no clock — counts and lists come in as arguments. The caller does
the seat check and the write in one transaction that cannot overbook (row lock on the course on
PostgreSQL, serialized write on SQLite); these functions only decide.

Seats: ``seats = capacity − confirmed``. Only ``confirmed`` holds a seat; ``pending`` does not
(it takes a seat, or a waitlist place, when approved).

Waitlist positions are kept **compact, 1..n** in queue order: whenever someone leaves the waitlist
(promoted, or withdrawn) the caller renumbers those left with :func:`renumber_waitlist`, so a
position always reads as "n-th in line".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from bdg_training.rules_base import RuleViolation

# --------------------------------------------------------------------------------------------
# Enrolment statuses
# --------------------------------------------------------------------------------------------
PENDING = "pending"
CONFIRMED = "confirmed"
WAITLISTED = "waitlisted"
WITHDRAWN = "withdrawn"
REJECTED = "rejected"

ENROLLMENT_STATUSES: tuple[str, ...] = (PENDING, CONFIRMED, WAITLISTED, WITHDRAWN, REJECTED)
ENROLLMENT_STATUS_LABELS: dict[str, str] = {
    PENDING: "Chờ duyệt",
    CONFIRMED: "Đã xác nhận",
    WAITLISTED: "Danh sách chờ",
    WITHDRAWN: "Đã rút",
    REJECTED: "Bị từ chối",
}
ENROLLMENT_STATUS_BADGES: dict[str, str] = {
    PENDING: "info",
    CONFIRMED: "success",
    WAITLISTED: "warning",
    WITHDRAWN: "secondary",
    REJECTED: "danger",
}
ENROLLMENT_STATUS_CHOICES: list[tuple[str, str]] = [(s, ENROLLMENT_STATUS_LABELS[s]) for s in ENROLLMENT_STATUSES]
# Statuses of a person still in the course's lists (a withdrawn/rejected row may be reactivated).
ACTIVE_STATUSES = frozenset({PENDING, CONFIRMED, WAITLISTED})

# Where an enrolment came from.
SOURCE_SELF = "self"
SOURCE_ORGANIZER = "organizer"
SOURCE_IMPORT = "import"
ENROLLMENT_SOURCE_LABELS: dict[str, str] = {
    SOURCE_SELF: "Tự đăng ký",
    SOURCE_ORGANIZER: "Đơn vị tổ chức ghi danh",
    SOURCE_IMPORT: "Nhập từ tệp",
}

# Course statuses (see bdg_training.courses.rules) after which an enrolment is frozen.
_COURSE_FROZEN_MESSAGES = {
    "finished": "Lớp đã kết thúc, không thể rút ghi danh.",
    "cancelled": "Lớp đã bị hủy, không thể rút ghi danh.",
}

# --------------------------------------------------------------------------------------------
# Attendance
# --------------------------------------------------------------------------------------------
PRESENT = "present"
ABSENT = "absent"
EXCUSED = "excused"
ATTENDANCE_STATUSES: tuple[str, ...] = (PRESENT, ABSENT, EXCUSED)
ATTENDANCE_LABELS: dict[str, str] = {
    PRESENT: "Có mặt",
    ABSENT: "Vắng",
    EXCUSED: "Vắng có phép",
}
ATTENDANCE_BADGES: dict[str, str] = {PRESENT: "success", ABSENT: "danger", EXCUSED: "warning"}
ATTENDANCE_CHOICES: list[tuple[str, str]] = [(s, ATTENDANCE_LABELS[s]) for s in ATTENDANCE_STATUSES]

# --------------------------------------------------------------------------------------------
# Trainee code lists
# --------------------------------------------------------------------------------------------
TARGET_GROUPS: dict[str, str] = {
    "can_bo": "Cán bộ",
    "cong_chuc": "Công chức",
    "vien_chuc": "Viên chức",
    "doan_vien": "Đoàn viên",
    "hoi_vien": "Hội viên",
    "nguoi_dan": "Người dân",
    "khac": "Khác",
}
TARGET_GROUP_CHOICES: list[tuple[str, str]] = list(TARGET_GROUPS.items())

MALE = "nam"
FEMALE = "nu"
SEXES: dict[str, str] = {MALE: "Nam", FEMALE: "Nữ"}
SEX_CHOICES: list[tuple[str, str]] = list(SEXES.items())


def status_label(status: str) -> str:
    """Vietnamese label of an enrolment status; an unknown code is shown as is."""
    return ENROLLMENT_STATUS_LABELS.get(status, status)


def status_badge(status: str) -> str:
    """Bootstrap colour name for an enrolment status badge ("light" for an unknown code)."""
    return ENROLLMENT_STATUS_BADGES.get(status, "light")


# --------------------------------------------------------------------------------------------
# Seats and waitlist
# --------------------------------------------------------------------------------------------
def free_seats(capacity: int, confirmed_count: int) -> int:
    """``capacity − confirmed``, never below 0 (a capacity lowered below the confirmed count)."""
    return max(0, capacity - confirmed_count)


def decide_new_enrollment(
    capacity: int,
    confirmed_count: int,
    needs_approval: bool,
    waitlist_max_position: int | None,
) -> tuple[str, int | None]:
    """Status and waitlist position for a new (or reactivated) enrolment.

    - ``needs_approval`` → ``("pending", None)``: a pending enrolment holds no seat; the seat is
      decided on approval (:func:`approval_outcome`).
    - a free seat (``capacity − confirmed_count > 0``) → ``("confirmed", None)``;
    - otherwise → ``("waitlisted", max + 1)``, or position 1 when the waitlist is empty
      (``waitlist_max_position`` ``None`` or 0).

    Nobody jumps the queue: if people are already waiting (``waitlist_max_position`` ≥ 1) the
    newcomer is waitlisted behind them even if a seat happens to be free — the caller should then
    run :func:`promotions`, which fills the seat from the head of the list. (With promotions run
    after every withdrawal and capacity change this case does not arise.)
    """
    if needs_approval:
        return PENDING, None
    waiting = waitlist_max_position or 0
    if waiting <= 0 and free_seats(capacity, confirmed_count) > 0:
        return CONFIRMED, None
    return WAITLISTED, waiting + 1


def _queue(waitlist: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    # Ties on position (should not happen) are broken by id, i.e. by enrolment order.
    return sorted(waitlist, key=lambda item: (item[1], item[0]))


def promotions(
    capacity: int,
    confirmed_count: int,
    waitlist: Iterable[tuple[int, int]],
) -> list[int]:
    """Ids of waitlisted enrolments to confirm now, in position order, to fill the free seats.

    ``waitlist`` holds ``(enrollment_id, position)`` of the currently waitlisted enrolments only.
    Run it after a withdrawal of a confirmed person, a capacity increase, or any change that
    frees seats; then :func:`renumber_waitlist` on those left. Returns ``[]`` when no seat is free.
    """
    seats = free_seats(capacity, confirmed_count)
    return [enrollment_id for enrollment_id, _ in _queue(waitlist)[:seats]]


def renumber_waitlist(waitlist: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Compact positions to 1..n, keeping the queue order: ``[(enrollment_id, new_position), …]``.

    Pass the enrolments still waitlisted (after removing those promoted or withdrawn). Gaps and
    duplicates are both fixed; equal positions keep id order.
    """
    return [(enrollment_id, n) for n, (enrollment_id, _) in enumerate(_queue(waitlist), start=1)]


@dataclass(frozen=True)
class Rebalance:
    """What to change after seats were freed: ids to confirm, and new positions for those left."""

    promote: list[int]
    positions: list[tuple[int, int]]


def rebalance(capacity: int, confirmed_count: int, waitlist: Sequence[tuple[int, int]]) -> Rebalance:
    """:func:`promotions` then :func:`renumber_waitlist` of the rest, in one call."""
    promote = promotions(capacity, confirmed_count, waitlist)
    promoted = set(promote)
    rest = [item for item in waitlist if item[0] not in promoted]
    return Rebalance(promote, renumber_waitlist(rest))


# --------------------------------------------------------------------------------------------
# Status changes
# --------------------------------------------------------------------------------------------
def check_new_registration(existing_status: str | None) -> None:
    """May this trainee register for the course, given their existing enrolment there (if any)?

    Course × trainee is unique, so there is at most one row: none, or ``withdrawn`` → allowed (a
    withdrawn row is reactivated); ``pending``/``confirmed``/``waitlisted`` → already enrolled;
    ``rejected`` → refused, the organizer has to decide. Raises :class:`RuleViolation` (key "").
    """
    if existing_status is None or existing_status == WITHDRAWN:
        return
    if existing_status in ACTIVE_STATUSES:
        RuleViolation.single("", f"Đã ghi danh lớp này ({status_label(existing_status)}).")
    if existing_status == REJECTED:
        RuleViolation.single("", "Ghi danh vào lớp này đã bị từ chối; vui lòng liên hệ đơn vị tổ chức.")
    RuleViolation.single("", f"Trạng thái ghi danh không hợp lệ: “{existing_status}”.")


def check_withdrawal(status: str, *, course_status: str | None = None) -> bool:
    """Refuse a withdrawal that makes no sense; return whether it frees a seat.

    Allowed from ``pending``, ``confirmed`` and ``waitlisted``. Refused (:class:`RuleViolation`,
    key "") when already withdrawn, rejected, unknown, or — if ``course_status`` is given — the
    course is finished or cancelled (its lists are then history). Every reason is reported.

    Returns ``True`` when the enrolment was ``confirmed``: a seat frees up and the caller must run
    :func:`promotions`. A waitlisted person leaving needs :func:`renumber_waitlist` instead.
    """
    errors = RuleViolation()
    if status == WITHDRAWN:
        errors.add("", "Ghi danh này đã được rút trước đó.")
    elif status == REJECTED:
        errors.add("", "Ghi danh đã bị từ chối, không thể rút.")
    elif status not in ACTIVE_STATUSES:
        errors.add("", f"Trạng thái ghi danh không hợp lệ: “{status}”.")
    if course_status in _COURSE_FROZEN_MESSAGES:
        errors.add("", _COURSE_FROZEN_MESSAGES[course_status])
    errors.raise_if_any()
    return status == CONFIRMED


def check_approval(status: str) -> None:
    """Only a ``pending`` enrolment can be approved or rejected; raise :class:`RuleViolation` otherwise.

    On approval use :func:`approval_outcome` for the resulting status.
    """
    if status not in ENROLLMENT_STATUS_LABELS:
        RuleViolation.single("", f"Trạng thái ghi danh không hợp lệ: “{status}”.")
    if status != PENDING:
        RuleViolation.single(
            "",
            f"Chỉ duyệt hoặc từ chối được ghi danh đang chờ duyệt (hiện tại: {status_label(status)}).",
        )


def approval_outcome(
    capacity: int,
    confirmed_count: int,
    waitlist_max_position: int | None,
) -> tuple[str, int | None]:
    """Status and waitlist position of an approved ``pending`` enrolment.

    Approval never overbooks: with a free seat (and nobody waiting) → ``("confirmed", None)``;
    when the course is full the person goes to the end of the waitlist → ``("waitlisted", max+1)``,
    and is promoted like anyone else. Same rule as :func:`decide_new_enrollment` without approval.
    """
    return decide_new_enrollment(capacity, confirmed_count, False, waitlist_max_position)


# --------------------------------------------------------------------------------------------
# Attendance rate
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AttendanceSummary:
    """Counts over held sessions. ``unrecorded``: held sessions with no attendance record."""

    held: int
    present: int
    absent: int
    excused: int
    unrecorded: int

    @property
    def rate(self) -> float | None:
        """``present / held``; ``None`` when no session was held."""
        return self.present / self.held if self.held else None

    def meets(self, min_attendance_pct: float | Decimal) -> bool:
        """Attended at least ``min_attendance_pct`` % of held sessions, compared exactly (no float
        rounding: 4 of 5 meets 80 %). False when no session was held."""
        return self.held > 0 and Fraction(self.present * 100, self.held) >= Fraction(str(min_attendance_pct))


def attendance_summary(statuses_for_held_sessions: Iterable[str | None]) -> AttendanceSummary:
    """Count one trainee's attendance over the held sessions.

    The caller passes one entry per *held* session (date ≤ today): its status, or ``None`` when no
    record was taken. Only ``present`` counts as attended; ``excused`` (Vắng có phép) is not
    attended but is counted separately so it can be reported; ``None`` counts as not attended.
    Raises ``ValueError`` for an unknown status.
    """
    counts = {PRESENT: 0, ABSENT: 0, EXCUSED: 0, None: 0}
    for status in statuses_for_held_sessions:
        if status not in counts:
            raise ValueError(f"unknown attendance status: {status!r}")
        counts[status] += 1
    held = sum(counts.values())
    return AttendanceSummary(held, counts[PRESENT], counts[ABSENT], counts[EXCUSED], counts[None])


def attendance_rate(statuses_for_held_sessions: Iterable[str | None]) -> float | None:
    """Fraction (0–1) of held sessions attended (``present``); ``None`` when no session was held.

    See :func:`attendance_summary` for the counting rules.
    """
    return attendance_summary(statuses_for_held_sessions).rate
