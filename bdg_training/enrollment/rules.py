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

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from bdg_training.ethnicity import ethnicity_by_code, find_ethnicity
from bdg_training.rules_base import RuleViolation
from bdg_training.text import clean_text, fold
from bdg_training.vn import normalize_phone, parse_date, personal_id_warnings, validate_cmnd, validate_personal_id

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


# --------------------------------------------------------------------------------------------
# Organizer enrolment, merge conflicts
# --------------------------------------------------------------------------------------------
# Course statuses (bdg_training.courses.rules) in which an organizer may still add people: a
# draft is being prepared, a closed or running course may take a late participant. Finished
# and cancelled courses are history.
ORGANIZER_ENROLLABLE_COURSE_STATUSES = frozenset({"draft", "open", "closed", "running"})


def check_organizer_enrollment(existing_status: str | None, course_status: str) -> None:
    """May an organizer enrol this trainee in the course?

    Allowed when the trainee has no row in the course, or a ``withdrawn`` or ``rejected`` one
    (the organizer is the one who decides, so a rejection can be reversed by enrolling again),
    and the course is draft/open/closed/running. Refused (:class:`RuleViolation`, key "") when
    the person is already pending/confirmed/waitlisted, or the course is finished/cancelled.
    Every reason is reported.
    """
    errors = RuleViolation()
    if existing_status in ACTIVE_STATUSES:
        errors.add("", f"Học viên đã ghi danh lớp này ({status_label(existing_status)}).")
    elif existing_status not in (None, WITHDRAWN, REJECTED):
        errors.add("", f"Trạng thái ghi danh không hợp lệ: “{existing_status}”.")
    if course_status not in ORGANIZER_ENROLLABLE_COURSE_STATUSES:
        label = {"finished": "đã kết thúc", "cancelled": "đã bị hủy"}.get(course_status, f"ở trạng thái “{course_status}”")
        errors.add("", f"Lớp {label}, không thể ghi danh thêm.")
    errors.raise_if_any()


# Which of two enrolments of the same person in the same course survives a merge of two trainee
# records: the one that means most for the person (a seat beats a queue place beats a request).
_MERGE_PREFERENCE = {CONFIRMED: 0, WAITLISTED: 1, PENDING: 2, WITHDRAWN: 3, REJECTED: 4}


def merge_survivor(a: tuple[int, str, int | None], b: tuple[int, str, int | None]) -> int:
    """Id of the enrolment to keep when two merged trainees were both in one course.

    ``a`` and ``b`` are ``(enrollment_id, status, waitlist_position)``. Order of preference:
    confirmed, waitlisted (the better position first), pending, withdrawn, rejected; on a tie the
    older enrolment (smaller id) is kept. The other row's attendance is carried over by the caller.
    """

    def rank(item: tuple[int, str, int | None]) -> tuple[int, int, int]:
        enrollment_id, status, position = item
        return (_MERGE_PREFERENCE.get(status, 9), position if position is not None else 0, enrollment_id)

    return min(a, b, key=rank)[0]


# --------------------------------------------------------------------------------------------
# Trainee data
# --------------------------------------------------------------------------------------------
# Civil servants and public employees have full HR records: a full date of birth is expected.
# Community members (hội viên, người dân…) often know only the year (DOMAIN R11).
FULL_BIRTH_DATE_GROUPS = frozenset({"can_bo", "cong_chuc", "vien_chuc"})
MIN_BIRTH_YEAR = 1900
MAX_NAME_PART = 100
MAX_FULL_NAME = 200


def parse_birth(value: object, today: date) -> tuple[date | None, int | None]:
    """Read a date of birth typed as ``dd/mm/yyyy`` (see :func:`bdg_training.vn.parse_date`) or a
    year alone (``1975``); returns ``(birth_date, birth_year)``.

    - empty / ``None`` → ``(None, None)``;
    - a ``date``/``datetime`` (a spreadsheet date cell) → that date;
    - an ``int`` or a 4-digit text → year only: ``(None, year)``;
    - otherwise a full date → ``(date, date.year)``.

    Raises ``ValueError`` (Vietnamese) for unreadable text, a year before 1900 and a date or year
    after ``today``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        birth = value
    elif isinstance(value, int) and not isinstance(value, bool) or (isinstance(value, str) and re.fullmatch(r"\s*\d{4}\s*", value)):
        year = int(value)
        if year < MIN_BIRTH_YEAR or year > today.year:
            raise ValueError(f"Năm sinh không hợp lệ: {year}")
        return None, year
    else:
        birth = parse_date(str(value))
    if birth.year < MIN_BIRTH_YEAR:
        raise ValueError(f"Năm sinh không hợp lệ: {birth.year}")
    if birth > today:
        raise ValueError(f"Ngày sinh ở tương lai: {birth.strftime('%d/%m/%Y')}")
    return birth, birth.year


def format_birth(birth_date: date | None, birth_year: int | None) -> str:
    """``05/02/1985``, or ``1975`` when only the year is known, or ``""``."""
    if birth_date is not None:
        return birth_date.strftime("%d/%m/%Y")
    return str(birth_year) if birth_year else ""


def compose_full_name(family: str, middle: str, given: str) -> str:
    """"Thạch" + "Thị" + "Sa Rươl" → "Thạch Thị Sa Rươl" (empty parts skipped, spaces cleaned)."""
    return " ".join(clean_text(part) for part in (family, middle, given) if clean_text(part))


def parse_sex(value: object) -> str | None:
    """"nam"/"nữ" in any case or spelling ("Nữ", "NU", "nu", "Male", "F") → "nam"/"nu"; else ``None``."""
    key = fold(str(value)) if value is not None else ""
    if key in ("nam", "male", "m"):
        return MALE
    if key in ("nu", "female", "f"):
        return FEMALE
    return None


def parse_target_group(value: object) -> str | None:
    """A target group from its code ("nguoi_dan") or its label in any spelling ("Người dân",
    "nguoi dan", "CÔNG CHỨC"); ``None`` when unknown."""
    key = fold(str(value or "")).replace("_", " ")
    for code, label in TARGET_GROUPS.items():
        if key in (code.replace("_", " "), fold(label)):
            return code
    return None


@dataclass(frozen=True)
class TraineeInput:
    """A trainee as typed in a form or read from an import row (strings, or spreadsheet values)."""

    family_name: str = ""
    middle_name: str = ""
    given_name: str = ""
    full_name: str = ""
    sex: str = ""
    birth: object = None  # "dd/mm/yyyy", "yyyy", a date, an int year, or None
    ethnicity: str = ""  # a code ("05") or a name / alias ("Khmer")
    personal_id: str = ""
    cmnd: str = ""
    phone: str = ""
    email: str = ""
    work_unit: str = ""
    position: str = ""
    target_group: str = ""


@dataclass(frozen=True)
class CleanTrainee:
    """A validated trainee, ready to store: NFC text, normalised phone, codes."""

    family_name: str
    middle_name: str
    given_name: str
    full_name: str
    sex: str
    birth_date: date | None
    birth_year: int | None
    ethnicity_code: str | None
    personal_id: str | None
    cmnd: str | None
    phone: str | None
    email: str | None
    work_unit: str | None
    position: str | None
    target_group: str | None
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "warnings"}


_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def clean_trainee(data: TraineeInput, today: date) -> CleanTrainee:
    """Validate a trainee; return it cleaned, or raise :class:`RuleViolation` with every problem.

    Rules (field key → message):

    - ``family_name``, ``given_name``: required; ``middle_name`` optional (0..n words); each at
      most 100 characters. Text is cleaned and NFC (:func:`bdg_training.text.clean_text`).
    - ``full_name``: the name *as written*; when empty it is composed from the parts. When given
      it must match the parts once diacritics, case and spacing are ignored — a mismatch means a
      wrong split, which is refused rather than "fixed" (the parts are never split silently).
    - ``sex``: required, "nam" or "nu" (:func:`parse_sex`).
    - ``birth``: optional; ``dd/mm/yyyy`` or year only (:func:`parse_birth`); year only is refused
      for cán bộ / công chức / viên chức (:data:`FULL_BIRTH_DATE_GROUPS`).
    - ``ethnicity``: optional; a code of the 54 groups or a name/alias (Khmer → 05).
    - ``personal_id``: optional, exactly 12 digits; ``cmnd``: optional, 9 or 12 digits. When the
      4th digit of the personal ID contradicts the sex or birth year, a *warning* is returned.
    - ``phone``: optional, 0… or +84…, stored as E.164.
    - ``email``: optional, lower-cased, must look like an address.
    - ``target_group``: optional, a code or label of :data:`TARGET_GROUPS`.
    """
    errors = RuleViolation()
    family, middle, given = (clean_text(v) for v in (data.family_name, data.middle_name, data.given_name))
    if not family:
        errors.add("family_name", "Vui lòng nhập họ.")
    if not given:
        errors.add("given_name", "Vui lòng nhập tên.")
    for key, value in (("family_name", family), ("middle_name", middle), ("given_name", given)):
        if len(value) > MAX_NAME_PART:
            errors.add(key, f"Không được dài quá {MAX_NAME_PART} ký tự.")
    composed = compose_full_name(family, middle, given)
    full = clean_text(data.full_name) or composed
    if len(full) > MAX_FULL_NAME:
        errors.add("full_name", f"Họ và tên không được dài quá {MAX_FULL_NAME} ký tự.")
    elif family and given and fold(full) != fold(composed):
        errors.add("full_name", f"Họ và tên “{full}” không khớp với họ, tên đệm và tên đã nhập (“{composed}”).")

    sex = parse_sex(data.sex)
    if sex is None:
        errors.add("sex", "Vui lòng chọn giới tính (nam hoặc nữ)." if not clean_text(str(data.sex or "")) else f"Giới tính không hợp lệ: “{clean_text(str(data.sex))}” (nam hoặc nữ).")

    target_group = None
    if clean_text(str(data.target_group or "")):
        target_group = parse_target_group(data.target_group)
        if target_group is None:
            errors.add("target_group", f"Đối tượng không hợp lệ: “{clean_text(str(data.target_group))}”.")

    birth_date = birth_year = None
    try:
        birth_date, birth_year = parse_birth(data.birth if not isinstance(data.birth, str) else clean_text(data.birth), today)
    except ValueError as exc:
        errors.add("birth", str(exc).rstrip(".") + ".")
    if birth_date is None and birth_year is not None and target_group in FULL_BIRTH_DATE_GROUPS:
        errors.add("birth", "Cán bộ, công chức, viên chức cần nhập đầy đủ ngày sinh (dd/mm/yyyy).")

    ethnicity_code = None
    ethnicity_text = clean_text(str(data.ethnicity or ""))
    if ethnicity_text:
        found = ethnicity_by_code(ethnicity_text) if ethnicity_text.isdigit() else find_ethnicity(ethnicity_text)
        if found is None:
            errors.add("ethnicity", f"Không có dân tộc “{ethnicity_text}” trong danh mục 54 dân tộc.")
        else:
            ethnicity_code = found.code

    personal_id = cmnd = phone = email = None
    warnings: list[str] = []
    if clean_text(str(data.personal_id or "")):
        try:
            personal_id = validate_personal_id(clean_text(str(data.personal_id)))
        except ValueError as exc:
            errors.add("personal_id", f"{exc}.")
        else:
            if sex is not None:
                warnings.extend(personal_id_warnings(personal_id, sex, birth_year))
    if clean_text(str(data.cmnd or "")):
        try:
            cmnd = validate_cmnd(clean_text(str(data.cmnd)))
        except ValueError as exc:
            errors.add("cmnd", f"{exc}.")
    if clean_text(str(data.phone or "")):
        try:
            phone = normalize_phone(clean_text(str(data.phone)))
        except ValueError as exc:
            errors.add("phone", f"{exc}.")
    if clean_text(data.email):
        email = clean_text(data.email).lower()
        if not _EMAIL_RE.fullmatch(email) or len(email) > 254:
            errors.add("email", f"Địa chỉ email không hợp lệ: “{email}”.")
    work_unit = clean_text(data.work_unit) or None
    position = clean_text(data.position) or None
    if work_unit and len(work_unit) > 300:
        errors.add("work_unit", "Không được dài quá 300 ký tự.")
    if position and len(position) > 200:
        errors.add("position", "Không được dài quá 200 ký tự.")
    errors.raise_if_any()
    return CleanTrainee(
        family_name=family,
        middle_name=middle,
        given_name=given,
        full_name=full,
        sex=sex,  # type: ignore[arg-type]
        birth_date=birth_date,
        birth_year=birth_year,
        ethnicity_code=ethnicity_code,
        personal_id=personal_id,
        cmnd=cmnd,
        phone=phone,
        email=email,
        work_unit=work_unit,
        position=position,
        target_group=target_group,
        warnings=tuple(warnings),
    )


def duplicate_key(full_name: str, birth_date: date | None, birth_year: int | None, sex: str) -> tuple[str, str, str]:
    """Key under which two trainee records are *likely* the same person (DOMAIN R14): the folded
    name (no diacritics, no case, hoà = hòa), the date of birth (or the year when only it is
    known) and the sex. Candidates only: an admin decides (Đoàn and Doãn fold alike)."""
    return fold(full_name), birth_date.isoformat() if birth_date else str(birth_year or ""), sex


# --------------------------------------------------------------------------------------------
# Sorting in the database
# --------------------------------------------------------------------------------------------
_WEIGHT_WIDTH = 7
_WEIGHT_MAX = 10**_WEIGHT_WIDTH - 1


def encode_sort_key(key: tuple[tuple[int, ...], ...]) -> str:
    """A string of digits whose plain string order is the order of ``key`` (a
    :func:`bdg_training.text.name_sort_key`), so a database can ``ORDER BY`` it.

    Each weight becomes ``weight + 1`` in 7 digits and each level ends with ``0000000``, which
    sorts before any weight, so a shorter level sorts first as in tuple comparison. Digits only:
    every database collation orders digits the same way. Weights above 9 999 998 (only stacked
    foreign accents reach them) are capped.
    """
    out = []
    for level in key:
        out.extend(f"{min(weight + 1, _WEIGHT_MAX):0{_WEIGHT_WIDTH}d}" for weight in level)
        out.append("0" * _WEIGHT_WIDTH)
    return "".join(out)
