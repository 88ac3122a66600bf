"""Counting rules of the statistics (báo cáo thống kê), pure and documented.

Pure: standard library and pure project modules only — no Flask, no SQLAlchemy, no clock (``today``
always comes in as an argument). ``reports/queries.py`` turns the same rules into SQL (GROUP BY sex ×
dimension); the integration tests check that the two agree on a dataset computed by hand.

The rules (DOMAIN.md R27, R28; DESIGN.md §3 "Statistics"), shown as footnotes under every table
(:data:`FOOTNOTES`):

* **Lượt người (participation)** = one enrolment whose status is *confirmed* and that was *present* at
  ≥ 1 session (an ``Attendance`` row with status ``present``) of a course that was held (status
  ``running`` or ``finished``). Withdrawn, rejected, waitlisted and pending enrolments are never
  participations, nor is a confirmed enrolment that attended no session (absent or excused only).
  A course cancelled part-way is *not held*: its enrolments are not participations.
* **Người (person)** = one trainee, counted once however many courses they took in the period (in a
  breakdown: once per group — a person who took courses of two topics is counted under each topic,
  so the rows of a course dimension may add up to more than the total). Participations and persons
  are never added together.
* **Period**: a course counts in the period that contains its **end date**; so do its participations
  and its certificates.
* **Courses**: *held* = status running or finished; *cancelled*; *upcoming* = open or closed
  (registration phase). Drafts are not counted anywhere.
* **Certificates (GCN)**: enrolments of the period's courses that hold a certificate whose status is
  ``valid`` — a revoked one is not counted; a reissued or duplicate certificate replaces the earlier
  one (status ``replaced``), so an enrolment counts once.
* **Sex** is the trainee's (nam / nữ; the database admits no other value). % nữ = nữ / total × 100,
  rounded half-up to 1 decimal; "—" when total = 0.
* **Age** in completed years at the course's **end date** (a person's band: at the end date of the last
  course they took part in within the period, so each person is in exactly one band). Bands: < 30,
  30–39, 40–49, 50–59, ≥ 60; "Không rõ" without a date or year of birth. With a **year of birth only**
  (community members, R11) the person is taken to be born on **1 July** of that year — the middle of the
  year, so the error is at most half a year either way and does not lean one way.
* **Units**: the course's *organizing* unit as it was (history is never rewritten), or mapped to today's
  units through succession links (:func:`map_to_current_units`). Urban/rural is the trainee's own unit.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from bdg_training.assessments.rules import format_decimal, hake_band, hake_band_label
from bdg_training.rules_base import RuleViolation
from bdg_training.text import sort_key
from bdg_training.units.rules import display_name
from bdg_training.vn import format_date, parse_date

# --------------------------------------------------------------------------------------------------
# Statuses that count (codes of bdg_training.courses.rules / bdg_training.enrollment.rules)
# --------------------------------------------------------------------------------------------------
PARTICIPATION_STATUS = "confirmed"
NOT_PARTICIPATION_STATUSES = ("pending", "waitlisted", "withdrawn", "rejected")
PRESENT = "present"
HELD_COURSE_STATUSES = ("running", "finished")
CANCELLED_COURSE_STATUSES = ("cancelled",)
UPCOMING_COURSE_STATUSES = ("open", "closed")
UNCOUNTED_COURSE_STATUSES = ("draft",)
VALID_CERTIFICATE_STATUS = "valid"

COURSE_CLASSES: dict[str, str] = {
    "held": "Lớp đã tổ chức",
    "cancelled": "Lớp đã hủy",
    "upcoming": "Lớp chưa diễn ra",
}

MALE = "nam"
FEMALE = "nu"
SEX_LABELS: dict[str, str] = {MALE: "Nam", FEMALE: "Nữ"}
NO_VALUE = "—"


def course_class(status: str) -> str | None:
    """``"held"`` (running, finished), ``"cancelled"``, ``"upcoming"`` (open, closed) or ``None`` (draft, unknown)."""
    if status in HELD_COURSE_STATUSES:
        return "held"
    if status in CANCELLED_COURSE_STATUSES:
        return "cancelled"
    if status in UPCOMING_COURSE_STATUSES:
        return "upcoming"
    return None


def is_participation(enrollment_status: str, course_status: str, sessions_present: int) -> bool:
    """One enrolment is a participation (lượt người) iff it is confirmed, its course was held
    (running/finished) and it was present at ≥ 1 session. ``sessions_present`` counts only ``present``
    marks (absent and excused do not)."""
    return enrollment_status == PARTICIPATION_STATUS and course_status in HELD_COURSE_STATUSES and sessions_present >= 1


def counts_certificate(certificate_statuses: Iterable[str]) -> bool:
    """An enrolment counts as certified iff one of its certificates is ``valid`` (revoked ones do not
    count; a reissue/duplicate turns the earlier one into ``replaced``, so there is at most one valid)."""
    return VALID_CERTIFICATE_STATUS in set(certificate_statuses)


# --------------------------------------------------------------------------------------------------
# Percentages and the sex split
# --------------------------------------------------------------------------------------------------
PCT_PLACES = 1
_PCT_QUANT = Decimal(1).scaleb(-PCT_PLACES)


def pct(part: int, total: int) -> Decimal | None:
    """``part / total × 100`` rounded half-up to 1 decimal (exact arithmetic); ``None`` when ``total`` is 0.

    2/3 → 66.7; 1/8 → 12.5; 1/16 → 6.3 (6.25 rounds up); 0/5 → 0.0; 3/0 → None.
    """
    if not total:
        return None
    scale = 10**PCT_PLACES
    units, rest = divmod(part * 100 * scale, total)
    if 2 * rest >= total:
        units += 1
    return Decimal(units).scaleb(-PCT_PLACES).quantize(_PCT_QUANT)


def format_pct(value: Decimal | None) -> str:
    """Vietnamese display of a percentage from :func:`pct`: ``66,7%``; ``None`` → ``"—"``."""
    if value is None:
        return NO_VALUE
    return f"{value:.{PCT_PLACES}f}".replace(".", ",") + "%"


def format_int(n: int | None) -> str:
    """An integer with Vietnamese thousands separators: 12345 → ``12.345``; ``None`` → ``"—"``."""
    if n is None:
        return NO_VALUE
    return f"{n:,}".replace(",", ".")


def format_number(value: Decimal | int | float | None) -> str:
    """A free target value: trailing zeros dropped, decimal comma, thousands dots: 1250.50 → ``1.250,5``."""
    if value is None:
        return NO_VALUE
    text = f"{Decimal(str(value)).normalize():f}"
    negative = text.startswith("-")
    whole, _, fraction = text.lstrip("-").partition(".")
    return ("-" if negative else "") + format_int(int(whole)) + ("," + fraction if fraction else "")


@dataclass(frozen=True)
class SexSplit:
    """A count split by sex: ``nam``, ``nu``, ``total`` and the share of women.

    ``total`` is passed explicitly (it is what the database counted) and must be ≥ ``nam + nu``; it equals
    ``nam + nu`` while the trainee table admits only those two values (a check constraint). Never add a
    participation split to a person split — they count different things.
    """

    nam: int = 0
    nu: int = 0
    total: int = 0

    def __post_init__(self) -> None:
        if min(self.nam, self.nu, self.total) < 0:
            raise ValueError("counts cannot be negative")
        if self.total < self.nam + self.nu:
            raise ValueError(f"total {self.total} < nam {self.nam} + nữ {self.nu}")

    @classmethod
    def of(cls, by_sex: Mapping[str, int]) -> SexSplit:
        """From counts by sex code; the total is the sum of every code given."""
        return cls(nam=by_sex.get(MALE, 0), nu=by_sex.get(FEMALE, 0), total=sum(by_sex.values()))

    @property
    def pct_female(self) -> Decimal | None:
        """% nữ (:func:`pct`): 1 decimal, half-up; ``None`` when total = 0."""
        return pct(self.nu, self.total)

    @property
    def pct_female_text(self) -> str:
        return format_pct(self.pct_female)

    def get(self, sex: str | None) -> int:
        """The count for ``"nam"``, ``"nu"`` or ``None``/``""`` (total)."""
        return {MALE: self.nam, FEMALE: self.nu}.get(sex or "", self.total)

    def as_dict(self) -> dict:
        """JSON form: counts and ``pct_female`` as a number (``null`` when total = 0)."""
        value = self.pct_female
        return {"nam": self.nam, "nu": self.nu, "total": self.total, "pct_female": None if value is None else float(value)}


# --------------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------------
MIN_YEAR, MAX_YEAR = 2000, 2100
PARTS: dict[str, str] = {
    "": "Cả năm",
    "q1": "Quý I",
    "q2": "Quý II",
    "q3": "Quý III",
    "q4": "Quý IV",
    "h1": "6 tháng đầu năm",
    "h2": "6 tháng cuối năm",
    **{f"m{m}": f"Tháng {m}" for m in range(1, 13)},
}
_PART_MONTHS: dict[str, tuple[int, int]] = {
    "": (1, 12),
    "q1": (1, 3),
    "q2": (4, 6),
    "q3": (7, 9),
    "q4": (10, 12),
    "h1": (1, 6),
    "h2": (7, 12),
    **{f"m{m}": (m, m) for m in range(1, 13)},
}
MAX_RANGE_DAYS = 366 * 10


@dataclass(frozen=True)
class Period:
    """A closed date interval ``[start, end]`` (both days included) and how it was asked for."""

    start: date
    end: date
    label: str
    year: int | None = None  # the calendar year when the period lies inside one (plans are per year)
    part: str = ""
    custom: bool = False

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def as_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label, "year": self.year}


def year_period(year: int, part: str = "") -> Period:
    """The period of ``year`` (``part`` "" = the whole year, "q1".."q4", "h1"/"h2", "m1".."m12")."""
    first, last = _PART_MONTHS[part]
    start = date(year, first, 1)
    end = date(year, last, calendar.monthrange(year, last)[1])
    label = f"Năm {year}" if not part else f"{PARTS[part]} năm {year}"
    return Period(start, end, label, year=year, part=part)


def parse_period(
    year: str | int | None = None,
    part: str | None = None,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    *,
    today: date,
) -> Period:
    """Read the period filter of a report.

    * ``date_from`` and/or ``date_to`` given (dd/mm/yyyy or ISO) → the custom range ``[from, to]``, both days
      included. Both are required, ``from ≤ to``, and at most 10 years apart. ``year``/``part`` are ignored.
    * Otherwise ``year`` (default: the year of ``today``) and ``part``: "" whole year, "q1"–"q4" quarters,
      "h1"/"h2" halves, "m1"–"m12" months. Year 2000–2100.

    Raises :class:`RuleViolation` (Vietnamese, keyed ``year``/``part``/``from``/``to``) with every problem.
    """
    errors = RuleViolation()
    text_from = date_from.strip() if isinstance(date_from, str) else date_from
    text_to = date_to.strip() if isinstance(date_to, str) else date_to
    if text_from or text_to:
        start = end = None
        for key, value in (("from", text_from), ("to", text_to)):
            if not value:
                errors.add(key, "Vui lòng nhập cả ngày bắt đầu và ngày kết thúc của kỳ báo cáo.")
                continue
            try:
                parsed = parse_date(value)
            except ValueError as exc:
                errors.add(key, str(exc))
                continue
            if key == "from":
                start = parsed
            else:
                end = parsed
        if start and end:
            if end < start:
                errors.add("to", "Ngày kết thúc phải sau hoặc trùng ngày bắt đầu.")
            elif (end - start).days > MAX_RANGE_DAYS:
                errors.add("to", "Kỳ báo cáo dài tối đa 10 năm.")
        errors.raise_if_any()
        assert start is not None and end is not None
        same_year = start.year if start.year == end.year else None
        return Period(start, end, f"Từ {format_date(start)} đến {format_date(end)}", year=same_year, custom=True)

    part = (part or "").strip().lower()
    if part not in PARTS:
        errors.add("part", "Kỳ báo cáo không hợp lệ.")
    if year is None or (isinstance(year, str) and not year.strip()):
        value = today.year
    else:
        try:
            value = int(str(year).strip())
        except ValueError:
            value = None
            errors.add("year", "Năm phải là một số, ví dụ 2026.")
        if value is not None and not MIN_YEAR <= value <= MAX_YEAR:
            errors.add("year", f"Năm phải từ {MIN_YEAR} đến {MAX_YEAR}.")
    errors.raise_if_any()
    return year_period(value, part)


# --------------------------------------------------------------------------------------------------
# Age
# --------------------------------------------------------------------------------------------------
YEAR_ONLY_BIRTHDAY = (7, 1)  # month, day assumed when only the year of birth is known
AGE_BANDS: dict[str, str] = {
    "lt30": "Dưới 30",
    "30_39": "30–39",
    "40_49": "40–49",
    "50_59": "50–59",
    "ge60": "Từ 60 trở lên",
    "unknown": "Không rõ",
}
# (upper bound exclusive, band): the SQL CASE is built from this list too.
AGE_BAND_LIMITS: tuple[tuple[int, str], ...] = ((30, "lt30"), (40, "30_39"), (50, "40_49"), (60, "50_59"))
AGE_BAND_TOP = "ge60"
AGE_UNKNOWN = "unknown"


def ymd_number(day: date) -> int:
    """``yyyymmdd`` as an integer (2026-01-05 → 20260105); the SQL computes the same number."""
    return day.year * 10000 + day.month * 100 + day.day


def birth_number(birth_date: date | None, birth_year: int | None) -> int | None:
    """``yyyymmdd`` of the birthday: the date, else 1 July of the year, else ``None`` (unknown)."""
    if birth_date is not None:
        return ymd_number(birth_date)
    if birth_year is not None:
        month, day = YEAR_ONLY_BIRTHDAY
        return birth_year * 10000 + month * 100 + day
    return None


def age_at(birth_date: date | None, birth_year: int | None, on: date) -> int | None:
    """Age in completed years on ``on`` (the course's end date).

    ``(yyyymmdd(on) − yyyymmdd(birth)) // 10000`` — the same as :func:`bdg_training.vn.age_on`: the age goes
    up on the birthday; born 29/02 → one year older on 01/03 of a common year. Year of birth only → born
    01/07 of that year. ``None`` when nothing is known or the birthday is after ``on`` (impossible data).
    """
    born = birth_number(birth_date, birth_year)
    if born is None:
        return None
    diff = ymd_number(on) - born
    if diff < 0:
        return None
    return diff // 10000


def age_band(age: int | None) -> str:
    """The band code of an age: ``lt30`` (< 30), ``30_39``, ``40_49``, ``50_59``, ``ge60`` (≥ 60), ``unknown``."""
    if age is None:
        return AGE_UNKNOWN
    for limit, band in AGE_BAND_LIMITS:
        if age < limit:
            return band
    return AGE_BAND_TOP


# --------------------------------------------------------------------------------------------------
# Dimensions (breakdowns) and their keys
# --------------------------------------------------------------------------------------------------
UNKNOWN_KEY = "none"
DIMENSIONS: dict[str, str] = {
    "unit": "Đơn vị tổ chức lớp",
    "topic": "Chủ đề",
    "target_group": "Đối tượng",
    "ethnicity": "Dân tộc",
    "age": "Nhóm tuổi",
    "area": "Thành thị / nông thôn",
}
# Course attributes: a person may fall in several groups (rows may add up to more than the total persons).
COURSE_DIMENSIONS = frozenset({"unit", "topic"})
AREA_LABELS: dict[str, str] = {"urban": "Thành thị", "rural": "Nông thôn", UNKNOWN_KEY: "Không rõ"}
UNKNOWN_LABEL = "Không rõ"
GROUPINGS: dict[str, str] = {
    "then": "Đơn vị tổ chức lớp như tại thời điểm tổ chức (không đổi theo sắp xếp đơn vị)",
    "now": "Quy về đơn vị hiện nay qua liên kết kế thừa (sắp xếp đơn vị năm 2025)",
}


def area_key(is_urban: bool | None) -> str:
    """``urban`` / ``rural`` from the trainee's unit; ``none`` when the trainee has no unit."""
    if is_urban is None:
        return UNKNOWN_KEY
    return "urban" if is_urban else "rural"


# --------------------------------------------------------------------------------------------------
# Units as they are today (the 2025 reform): succession links
# --------------------------------------------------------------------------------------------------
MULTI_SUCCESSOR_LABEL = "Nhiều đơn vị kế thừa"


@dataclass(frozen=True)
class UnitNode:
    """What the mapping needs of a unit (plain data, so it stays testable without a database)."""

    id: int
    kind: str
    name: str
    parent_id: int | None = None
    valid_to: date | None = None
    successor_ids: tuple[int, ...] = ()

    def is_open(self, today: date) -> bool:
        return self.valid_to is None or self.valid_to >= today

    def label(self, today: date) -> str:
        return display_name(self.kind, self.name, self.valid_to, today)


@dataclass(frozen=True)
class UnitGroup:
    """A row of the "today's units" breakdown: one open unit, or several successors that cannot be told apart."""

    key: str
    label: str
    unit_ids: tuple[int, ...]  # the open unit(s) the records are carried on by

    @property
    def is_multi(self) -> bool:
        return len(self.unit_ids) > 1


def unit_key(unit_id: int) -> str:
    """The key of one unit in a unit breakdown: ``u12``."""
    return f"u{unit_id}"


def current_units(nodes: Iterable[UnitNode], today: date) -> dict[int, frozenset[int]]:
    """For every unit, the set of units **open on** ``today`` that carry its records on.

    * An open unit (``valid_to`` empty or ≥ today) carries itself.
    * A closed unit with successors → the union of what its successors map to (chains follow: a unit
      closed in 2024 whose successor closed in 2025 ends at the 2025 successor).
    * A closed unit without successors → what its parent maps to (a district office of huyện Cờ Đỏ (cũ)
      follows the district); without a parent, it stays itself (shown with "(cũ)").
    * A loop in the data (A → B → A) stops at the unit where it closes: A maps to B, B maps to A.
    """
    by_id = {node.id: node for node in nodes}

    def resolve(unit_id: int, path: frozenset[int]) -> frozenset[int]:
        node = by_id.get(unit_id)
        if node is None:
            return frozenset({unit_id})
        if node.is_open(today) or unit_id in path:
            result = frozenset({unit_id})
        else:
            inner = path | {unit_id}
            known = [s for s in node.successor_ids if s in by_id]
            successors = [s for s in known if s not in inner]
            if successors:
                result = frozenset().union(*(resolve(s, inner) for s in successors))
            elif known:  # every successor leads back here: a loop in the data, stop at this unit
                result = frozenset({unit_id})
            elif node.parent_id is not None and node.parent_id in by_id and node.parent_id not in inner:
                result = resolve(node.parent_id, inner)
            else:
                result = frozenset({unit_id})
        return result

    return {unit_id: resolve(unit_id, frozenset()) for unit_id in by_id}


def map_to_current_units(nodes: Iterable[UnitNode], today: date) -> dict[int, UnitGroup]:
    """Each unit id → the :class:`UnitGroup` it is counted under when grouping by today's units.

    One successor → that unit (key ``u<id>``). **Several successors (a split)** → one group labelled
    "Nhiều đơn vị kế thừa: xã Cờ Đỏ, xã Trung Hưng" (key ``m<id>-<id>``): nothing tells which part of the
    old unit's trainees went where, so the figures are not divided or given to one of them arbitrarily —
    they stay visible on their own row, next to the successors' own rows.
    """
    nodes = list(nodes)
    by_id = {node.id: node for node in nodes}
    mapping = current_units(nodes, today)
    groups: dict[frozenset[int], UnitGroup] = {}
    result: dict[int, UnitGroup] = {}
    for unit_id, targets in mapping.items():
        group = groups.get(targets)
        if group is None:
            ids = tuple(sorted(targets))
            if len(ids) == 1:
                node = by_id.get(ids[0])
                group = UnitGroup(unit_key(ids[0]), node.label(today) if node else f"#{ids[0]}", ids)
            else:
                names = sorted((by_id[i].label(today) for i in ids if i in by_id), key=sort_key)
                group = UnitGroup("m" + "-".join(str(i) for i in ids), f"{MULTI_SUCCESSOR_LABEL}: {', '.join(names)}", ids)
            groups[targets] = group
        result[unit_id] = group
    return result


# --------------------------------------------------------------------------------------------------
# Plan vs actual
# --------------------------------------------------------------------------------------------------
PLAN_STATUSES: dict[str, tuple[str, str]] = {
    # code: (label, Bootstrap colour)
    "not_started": ("Chưa đến kỳ", "secondary"),
    "on_track": ("Đúng tiến độ", "success"),
    "behind": ("Chậm tiến độ", "warning"),
    "achieved": ("Đạt kế hoạch", "success"),
    "missed": ("Không đạt kế hoạch", "danger"),
}


def elapsed_share(year: int, today: date) -> Fraction:
    """Share of ``year`` elapsed by the end of ``today``: 0 before the year, 1 after it, otherwise
    (day of year) / (days in year) — 1 January counts as one day elapsed, 31 December as all of them."""
    if today.year < year:
        return Fraction(0)
    if today.year > year:
        return Fraction(1)
    days = 366 if calendar.isleap(year) else 365
    return Fraction(today.timetuple().tm_yday, days)


@dataclass(frozen=True)
class PlanProgress:
    status: str
    expected_courses: Fraction
    expected_trainees: Fraction
    courses_behind: bool
    trainees_behind: bool
    female_below: bool

    @property
    def label(self) -> str:
        return PLAN_STATUSES[self.status][0]

    @property
    def badge(self) -> str:
        return PLAN_STATUSES[self.status][1]

    @property
    def highlighted(self) -> bool:
        return self.status in ("behind", "missed") or self.female_below


def plan_progress(
    *,
    year: int,
    today: date,
    planned_courses: int,
    held_courses: int,
    planned_trainees: int,
    actual_persons: int,
    planned_female_pct: Decimal | None,
    actual_female_pct: Decimal | None,
) -> PlanProgress:
    """Where a plan stands on ``today``.

    "Behind" compares with a straight-line pace: by today a plan should have held
    ``planned × elapsed_share(year, today)`` courses and trained as many persons (people, not
    participations). Courses cluster (the Action Month is 15/11–15/12), so an early "behind" is a prompt to
    look, not a verdict.

    * year not started → ``not_started``;
    * both planned figures reached → ``achieved`` (even before the year ends);
    * the year is over and one is not reached → ``missed``;
    * otherwise ``behind`` when held < planned courses × elapsed share, or persons < planned trainees ×
      elapsed share; else ``on_track``.

    ``female_below``: a planned share of women exists and the actual share of women among persons is lower
    (only judged once someone was trained). A planned figure of 0 is always reached.
    """
    share = elapsed_share(year, today)
    expected_courses = planned_courses * share
    expected_trainees = planned_trainees * share
    courses_behind = held_courses < expected_courses
    trainees_behind = actual_persons < expected_trainees
    reached = held_courses >= planned_courses and actual_persons >= planned_trainees
    if share == 0:
        status = "not_started"
    elif reached:
        status = "achieved"
    elif share == 1:
        status = "missed"
    elif courses_behind or trainees_behind:
        status = "behind"
    else:
        status = "on_track"
    female_below = planned_female_pct is not None and actual_female_pct is not None and actual_female_pct < planned_female_pct
    return PlanProgress(status, expected_courses, expected_trainees, courses_behind, trainees_behind, female_below)


# --------------------------------------------------------------------------------------------------
# Learning (pre/post): class_summary's definitions, from sums the database adds up
# --------------------------------------------------------------------------------------------------
SCORE_SCALE = 100  # scores on 10 have two decimals: the SQL sums them as integer hundredths, exactly


@dataclass(frozen=True)
class LearningSummary:
    """Pre/post results of a group of participations, with the definitions of
    :func:`bdg_training.assessments.rules.class_summary`: means, gain and ⟨g⟩ over **matched pairs only**;
    ⟨g⟩ = (mean post − mean pre) / (10 − mean pre) from the exact means (``None`` without pairs or at a mean
    pre of 10); the Hake band decided on the exact ⟨g⟩. Values are exact :class:`~fractions.Fraction`.

    Built from sums (:func:`learning_summary`) because the database adds them up: ``class_summary`` walks
    every pair with exact fractions, about 2 s per 100 000 pairs, once per group. The tests check that both
    give the same figures on the same pairs.
    """

    n_matched: int
    n_pre_only: int
    n_post_only: int
    mean_pre: Fraction | None
    mean_post: Fraction | None
    mean_gain: Fraction | None
    class_g: Fraction | None

    @property
    def hake_band(self) -> str | None:
        return hake_band(self.class_g)

    @property
    def hake_label(self) -> str:
        return hake_band_label(self.class_g)

    def display(self) -> dict[str, str]:
        """Vietnamese strings, rounded half-up to 2 decimals: ``"5,40"``; ``"—"`` when undefined."""
        return {
            "mean_pre": format_decimal(self.mean_pre),
            "mean_post": format_decimal(self.mean_post),
            "mean_gain": format_decimal(self.mean_gain),
            "class_g": format_decimal(self.class_g),
            "hake_band": self.hake_label,
        }


def learning_summary(
    n_matched: int, sum_pre: int, sum_post: int, n_pre_only: int = 0, n_post_only: int = 0, *, scale: int = SCORE_SCALE
) -> LearningSummary:
    """A :class:`LearningSummary` from ``n_matched`` pairs whose pre- and post-test scores add up to ``sum_pre``
    and ``sum_post`` (in 1/``scale`` points: hundredths). Raises ``ValueError`` for impossible sums."""
    if n_matched < 0 or min(n_pre_only, n_post_only) < 0:
        raise ValueError("counts cannot be negative")
    if not n_matched:
        return LearningSummary(0, n_pre_only, n_post_only, None, None, None, None)
    mean_pre, mean_post = Fraction(sum_pre, scale * n_matched), Fraction(sum_post, scale * n_matched)
    if not (0 <= mean_pre <= 10 and 0 <= mean_post <= 10):
        raise ValueError("scores must be between 0 and 10")
    class_g = None if mean_pre == 10 else (mean_post - mean_pre) / (10 - mean_pre)
    return LearningSummary(n_matched, n_pre_only, n_post_only, mean_pre, mean_post, mean_post - mean_pre, class_g)


# --------------------------------------------------------------------------------------------------
# Footnotes (shown on every page and written at the top of the exports)
# --------------------------------------------------------------------------------------------------
FOOTNOTES: tuple[str, ...] = (
    "Lượt người: một lượt ghi danh đã được xác nhận và có mặt ít nhất một buổi học của lớp đã tổ chức "
    "(đang diễn ra hoặc đã kết thúc). Ghi danh đã rút, bị từ chối, trong danh sách chờ hoặc chờ duyệt không được tính; "
    "ghi danh đã xác nhận nhưng không có mặt buổi nào (vắng, vắng có phép) cũng không được tính.",
    "Người: mỗi học viên được tính một lần dù học nhiều lớp trong kỳ (trong bảng phân tổ theo đơn vị tổ chức hoặc chủ đề, "
    "một người học lớp của hai nhóm được tính ở cả hai nhóm, nên cộng các dòng có thể lớn hơn tổng). "
    "Không bao giờ cộng lượt người với số người.",
    "Kỳ báo cáo: một lớp thuộc kỳ chứa ngày kết thúc của lớp; lượt người và giấy chứng nhận của lớp theo cùng kỳ đó.",
    "Số lớp: lớp đã tổ chức = đang diễn ra hoặc đã kết thúc; lớp đã hủy không tính lượt người; lớp nháp không được tính.",
    "Giấy chứng nhận: số lượt ghi danh của các lớp trong kỳ đang có giấy chứng nhận còn hiệu lực "
    "(không tính giấy đã thu hồi; cấp lại hoặc cấp bản sao chỉ tính một lần).",
    "Tỷ lệ nữ = số nữ / tổng số × 100, làm tròn 1 chữ số thập phân (từ 5 làm tròn lên); “—” khi tổng số bằng 0.",
    "Tuổi: số tuổi tròn tại ngày kết thúc lớp (mỗi người xếp nhóm theo lớp cuối cùng người đó học trong kỳ); "
    "chỉ biết năm sinh thì coi như sinh ngày 01/7 của năm đó; không có ngày và năm sinh: “Không rõ”.",
    "Thành thị / nông thôn: theo đơn vị (nơi ở, nơi làm việc) của học viên.",
)
UNIT_NOTE_THEN = "Đơn vị: đơn vị tổ chức lớp, giữ nguyên như tại thời điểm tổ chức (đơn vị đã giải thể ghi “(cũ)”)."
UNIT_NOTE_NOW = (
    "Đơn vị: đơn vị tổ chức lớp quy về đơn vị hiện nay qua liên kết kế thừa (sắp xếp năm 2025); đơn vị đã giải thể "
    "không có liên kết kế thừa theo đơn vị cấp trên của nó. Đơn vị cũ được chia cho nhiều đơn vị kế thừa thì "
    "số liệu của nó không được chia hay gán tùy ý mà đứng riêng ở dòng “Nhiều đơn vị kế thừa: …”."
)
PLAN_NOTE = (
    "Kế hoạch: lớp thuộc kế hoạch qua liên kết “kế hoạch” của lớp và có ngày kết thúc trong năm kế hoạch; "
    "học viên thực tế = số người (không phải lượt người) của các lớp đó. Chậm tiến độ: số lớp đã tổ chức "
    "hoặc số người thấp hơn kế hoạch × phần năm đã qua (tính theo ngày)."
)
LEARNING_NOTE = (
    "Kết quả học tập: chỉ các cặp điểm khớp (có cả điểm kiểm tra trước và sau) của các lượt người trong kỳ; "
    "⟨g⟩ tính từ điểm trung bình lớp: (TB sau − TB trước) / (10 − TB trước)."
)


def footnotes(grouping: str = "then") -> list[str]:
    """Every counting rule, in Vietnamese, with the unit note of the chosen ``grouping``."""
    return [*FOOTNOTES, UNIT_NOTE_NOW if grouping == "now" else UNIT_NOTE_THEN, PLAN_NOTE, LEARNING_NOTE]
