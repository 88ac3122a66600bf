"""Reports: filters, the dashboard, plan vs actual, learning, drill-down lists, API tokens.

Reads run a fixed number of grouped queries (see ``queries.py``); nothing here loops over enrolment rows
except the learning summary, which receives its (pre, post) pairs from ONE query and hands them to
``bdg_training.assessments.rules.class_summary``. Token changes take ``actor``, are audited and flushed;
the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, selectinload

from bdg_training.access import in_scope, subtree_select
from bdg_training.assessments.rules import round_score
from bdg_training.audit.services import record
from bdg_training.clock import local_today
from bdg_training.courses.models import Course, Topic, TrainingPlan
from bdg_training.database import as_utc, serialized_writes
from bdg_training.enrollment import rules as enrollment_rules
from bdg_training.enrollment.models import Enrollment, Trainee
from bdg_training.ethnicity import ethnicity_by_code
from bdg_training.extensions import db
from bdg_training.forms import parse_id
from bdg_training.reports import queries, rules
from bdg_training.reports.models import ApiToken
from bdg_training.rules_base import RuleViolation
from bdg_training.text import sort_key
from bdg_training.units.models import Unit, unit_successions


def today() -> date:
    """The day the reports are made on: Vietnam's today (one place, so tests can fix it)."""
    return local_today()


# --------------------------------------------------------------------------------------------------
# Units: labels, scope, today's grouping — two small queries per request
# --------------------------------------------------------------------------------------------------


@dataclass
class UnitIndex:
    """Every unit (a few hundred rows) as plain data, with labels and the "today" mapping."""

    today: date
    nodes: dict[int, rules.UnitNode]
    is_urban: dict[int, bool]
    _groups: dict[int, rules.UnitGroup] | None = None

    def label(self, unit_id: int) -> str:
        node = self.nodes.get(unit_id)
        return node.label(self.today) if node else f"#{unit_id}"

    @property
    def groups(self) -> dict[int, rules.UnitGroup]:
        if self._groups is None:
            self._groups = rules.map_to_current_units(self.nodes.values(), self.today)
        return self._groups

    def _group_ints(self) -> tuple[dict[int, int], dict[int, rules.UnitGroup]]:
        """unit id → integer key of its group today (the successor's id; negative for several), and back."""
        multi = sorted({g.key for g in self.groups.values() if g.is_multi})
        negative = {key: -(i + 1) for i, key in enumerate(multi)}
        by_unit = {uid: (negative[g.key] if g.is_multi else g.unit_ids[0]) for uid, g in self.groups.items()}
        return by_unit, {by_unit[uid]: g for uid, g in self.groups.items()}

    def group_ints(self) -> dict[int, int]:
        return self._group_ints()[0]

    def key_of(self, value: int, grouping: str) -> str:
        """URL key of a SQL unit key: ``u12``, or ``m3-7`` for a group of several successors."""
        if grouping == "now" and value < 0:
            return self._group_ints()[1][value].key
        return rules.unit_key(value)

    def value_of(self, key: str, grouping: str) -> int | None:
        """SQL unit key of a URL key (``None`` when it names nothing)."""
        if key.startswith("u") and parse_id(key[1:]) is not None:
            return parse_id(key[1:])
        if grouping == "now":
            for value, group in self._group_ints()[1].items():
                if group.key == key:
                    return value
        return None

    def key_label(self, key: str, grouping: str) -> str:
        """Label of a unit breakdown key (``u12`` or a split group ``m3-7``)."""
        if grouping == "now":
            for group in self.groups.values():
                if group.key == key:
                    return group.label
        if key.startswith("u") and parse_id(key[1:]) is not None:
            return self.label(parse_id(key[1:]))
        return key

    def unit_ids_for_key(self, key: str, grouping: str) -> list[int]:
        """The units (as they were) whose courses a unit key stands for."""
        if grouping == "now":
            return sorted(unit_id for unit_id, group in self.groups.items() if group.key == key)
        return [parse_id(key[1:])] if key.startswith("u") and parse_id(key[1:]) is not None else []

    def tree(self, ids: set[int] | None = None) -> list[tuple[int, int]]:
        """(unit id, depth) of the units in ``ids`` (all when ``None``), parents first, siblings by name."""
        wanted = set(self.nodes) if ids is None else ids & set(self.nodes)
        children: dict[int | None, list[int]] = defaultdict(list)
        for unit_id in wanted:
            parent = self.nodes[unit_id].parent_id
            children[parent if parent in wanted else None].append(unit_id)
        rows: list[tuple[int, int]] = []

        def walk(parent: int | None, depth: int) -> None:
            for unit_id in sorted(children.get(parent, []), key=lambda i: (not self.nodes[i].is_open(self.today), sort_key(self.label(i)))):
                rows.append((unit_id, depth))
                walk(unit_id, depth + 1)

        walk(None, 0)
        return rows


def load_units(today: date) -> UnitIndex:
    rows = db.session.execute(select(Unit.id, Unit.kind, Unit.name, Unit.parent_id, Unit.valid_to, Unit.is_urban)).all()
    successors: dict[int, list[int]] = defaultdict(list)
    for predecessor_id, successor_id in db.session.execute(select(unit_successions.c.predecessor_id, unit_successions.c.successor_id)):
        successors[predecessor_id].append(successor_id)
    nodes = {
        row.id: rules.UnitNode(row.id, row.kind, row.name, row.parent_id, row.valid_to, tuple(sorted(successors.get(row.id, ()))))
        for row in rows
    }
    return UnitIndex(today, nodes, {row.id: bool(row.is_urban) for row in rows})


# --------------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------------


class OutOfScope(Exception):
    """The requested unit is not in the user's scope (answer 404: its existence is not confirmed)."""


@dataclass
class ReportFilters:
    """Unit subtree, period and unit grouping of a report, as asked for in the query string."""

    unit_id: int | None
    unit_label: str
    period: rules.Period
    grouping: str = "then"
    errors: dict[str, list[str]] = field(default_factory=dict)
    explicit_unit: bool = False

    def args(self) -> dict[str, str]:
        """Query arguments that reproduce these filters (drill-down links, exports, the API)."""
        args: dict[str, str] = {}
        if self.explicit_unit and self.unit_id is not None:
            args["unit"] = str(self.unit_id)
        if self.period.custom:
            args["from"] = self.period.start.strftime("%d/%m/%Y")
            args["to"] = self.period.end.strftime("%d/%m/%Y")
        else:
            args["year"] = str(self.period.year)
            if self.period.part:
                args["part"] = self.period.part
        if self.grouping != "then":
            args["group"] = self.grouping
        return args

    @property
    def scope_text(self) -> str:
        return self.unit_label

    def describe(self) -> list[tuple[str, str]]:
        """(label, value) lines for the top of exports."""
        return [
            ("Đơn vị", self.unit_label),
            ("Kỳ báo cáo", f"{self.period.label} ({self.period.start:%d/%m/%Y} – {self.period.end:%d/%m/%Y})"),
            ("Cách nhóm đơn vị", rules.GROUPINGS[self.grouping]),
        ]

    def as_dict(self) -> dict:
        return {"unit_id": self.unit_id, "unit": self.unit_label, "period": self.period.as_dict(), "unit_grouping": self.grouping}


ALL_UNITS_LABEL = "Tất cả đơn vị"


def build_filters(args: Mapping[str, str], user, *, today: date, units: UnitIndex | None = None) -> ReportFilters:
    """Read ``unit``, ``year``/``part`` or ``from``/``to``, ``group`` from a query string.

    * ``unit`` empty → the user's own unit (an administrator: every unit). A unit outside the user's
      scope (or not a number) raises :class:`OutOfScope`.
    * A bad period is reported in ``errors`` and the report falls back to the current year.
    """
    grouping = args.get("group") if args.get("group") in rules.GROUPINGS else "then"
    raw_unit = (args.get("unit") or "").strip()
    explicit = bool(raw_unit)
    if raw_unit:
        unit_id: int | None = parse_id(raw_unit)
        if unit_id is None or not in_scope(unit_id, user):
            raise OutOfScope(raw_unit)
    elif user.role == "admin":
        unit_id = None
    else:
        unit_id = user.unit_id
        if unit_id is None:
            raise OutOfScope("")
    errors: dict[str, list[str]] = {}
    try:
        period = rules.parse_period(args.get("year"), args.get("part"), args.get("from"), args.get("to"), today=today)
    except RuleViolation as exc:
        errors = exc.errors
        period = rules.year_period(today.year)
    if unit_id is None:
        label = ALL_UNITS_LABEL
    elif units is not None:
        label = units.label(unit_id)
    else:
        unit = db.session.get(Unit, unit_id)
        label = unit.label(today) if unit else f"#{unit_id}"
    return ReportFilters(unit_id, label, period, grouping, errors, explicit)


def unit_choices(user, units: UnitIndex) -> list[tuple[str, str]]:
    """Options of the unit filter: the units in the user's scope, as a tree ("" = all, for an admin)."""
    if user.role == "admin":
        ids = None
        options = [("", ALL_UNITS_LABEL)]
    else:
        ids = set(db.session.scalars(subtree_select(user.unit_id))) if user.unit_id else set()
        options = []
    options += [(str(unit_id), "\u2003" * depth + units.label(unit_id)) for unit_id, depth in units.tree(ids)]
    return options


def make_scope(filters: ReportFilters, units: UnitIndex) -> queries.Scope:
    return queries.Scope(
        unit_id=filters.unit_id,
        start=filters.period.start,
        end=filters.period.end,
        grouping=filters.grouping,
        unit_groups=units.group_ints() if filters.grouping == "now" else {},
    )


# --------------------------------------------------------------------------------------------------
# Dashboard
# --------------------------------------------------------------------------------------------------


@dataclass
class BreakdownRow:
    key: str
    label: str
    participations: rules.SexSplit
    persons: rules.SexSplit
    certificates: rules.SexSplit
    courses: int | None = None  # held courses, for course dimensions (unit, topic)


@dataclass
class Breakdown:
    dim: str
    label: str
    rows: list[BreakdownRow]
    note: str = ""

    @property
    def has_courses(self) -> bool:
        return self.dim in rules.COURSE_DIMENSIONS


@dataclass
class Dashboard:
    filters: ReportFilters
    courses: dict[str, int]
    participations: rules.SexSplit
    persons: rules.SexSplit
    certificates: rules.SexSplit
    breakdowns: list[Breakdown]
    footnotes: list[str]
    certificates_available: bool = True

    def breakdown(self, dim: str) -> Breakdown:
        return next(b for b in self.breakdowns if b.dim == dim)


FIXED_KEYS: dict[str, list[str]] = {
    "target_group": [*enrollment_rules.TARGET_GROUPS, rules.UNKNOWN_KEY],
    "age": list(rules.AGE_BANDS),
    "area": list(rules.AREA_LABELS),
}


def _split(counts: Mapping[str, int]) -> rules.SexSplit:
    return rules.SexSplit.of(counts)


def topic_labels() -> dict[str, tuple[tuple[int, str], str]]:
    """Topic key → (sort key, label)."""
    return {
        str(t.id): ((t.sort_order or 0, sort_key(t.name)), t.name)
        for t in db.session.execute(select(Topic.id, Topic.name, Topic.sort_order)).all()
    }


def dimension_label(dim: str, key: str, *, units: UnitIndex, topics: Mapping[str, tuple], grouping: str) -> str:
    if dim == "unit":
        return units.key_label(key, grouping)
    if key == rules.UNKNOWN_KEY:
        return "Chưa có chủ đề" if dim == "topic" else rules.UNKNOWN_LABEL
    if dim == "topic":
        return topics[key][1] if key in topics else key
    if dim == "target_group":
        return enrollment_rules.TARGET_GROUPS.get(key, key)
    if dim == "ethnicity":
        found = ethnicity_by_code(key) if ":" not in key else None
        if found:
            return found.name
        code_list, _, code = key.partition(":")
        return f"Mã {code} ({code_list})" if code else key
    if dim == "age":
        return rules.AGE_BANDS.get(key, key)
    if dim == "area":
        return rules.AREA_LABELS.get(key, key)
    return key


def _order(dim: str, key: str, label: str, topics: Mapping[str, tuple]):
    if dim in FIXED_KEYS:
        return (FIXED_KEYS[dim].index(key) if key in FIXED_KEYS[dim] else 99,)
    unknown = key == rules.UNKNOWN_KEY
    if dim == "topic":
        return (unknown, topics[key][0] if key in topics else (0, sort_key(label)))
    if dim == "ethnicity":
        return (unknown, ":" in key, key)
    if dim == "unit":
        return (key.startswith("m"), sort_key(label))
    return (unknown, sort_key(label))


def topic_key(topic_id: int | None) -> str:
    return str(topic_id) if topic_id is not None else rules.UNKNOWN_KEY


def topic_value(key: str) -> int | None:
    """SQL value of a topic key: ``None`` for "none" (no topic), -1 (matches nothing) for garbage."""
    if key == rules.UNKNOWN_KEY:
        return None
    value = parse_id(key)
    return -1 if value is None else value


def dashboard(filters: ReportFilters, *, units: UnitIndex) -> Dashboard:
    """Every figure of the dashboard: 3 queries (topics, courses, the breakdown statement)."""
    queries.tune_session(db.session)
    scope = make_scope(filters, units)
    grouping = filters.grouping
    topics = topic_labels()
    held_by_dim: dict[str, dict[str, int]] = {"unit": defaultdict(int), "topic": defaultdict(int)}
    courses = {cls: 0 for cls in rules.COURSE_CLASSES}
    for cls, unit_value, topic_id, n in db.session.execute(queries.course_counts_statement(scope)):
        courses[cls] += n
        if cls == "held":
            held_by_dim["unit"][units.key_of(unit_value, grouping)] += n
            held_by_dim["topic"][topic_key(topic_id)] += n

    parts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    persons: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    certs: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    # The two cubes are additive (each enrolment, each person is in exactly one cell): sum them per dimension.
    for part, age, group, ethnicity, area, unit_value, topic_id, sex, a, b, c in db.session.execute(queries.breakdown_statement(scope)):
        a, b, c = int(a or 0), int(b or 0), int(c or 0)
        if part == "people":
            for cell in (("total", ""), ("target_group", group), ("ethnicity", ethnicity), ("area", area)):
                parts[cell][sex] += a
                persons[cell][sex] += b
                certs[cell][sex] += c
            persons[("age", age)][sex] += b
        elif part == "courses":
            for cell in (("age", age), ("unit", units.key_of(unit_value, grouping)), ("topic", topic_key(topic_id))):
                parts[cell][sex] += a
                certs[cell][sex] += c
        elif part == "unit_person":
            persons[("unit", units.key_of(unit_value, grouping))][sex] += b
        elif part == "topic_person":
            persons[("topic", topic_key(topic_id))][sex] += b

    breakdowns = []
    for dim, label in rules.DIMENSIONS.items():
        keys = {key for (d, key) in list(parts) + list(persons) if d == dim}
        keys |= set(held_by_dim.get(dim, {}))
        keys |= set(FIXED_KEYS.get(dim, ()))
        rows = []
        for key in keys:
            row_label = dimension_label(dim, key, units=units, topics=topics, grouping=filters.grouping)
            rows.append(
                BreakdownRow(
                    key,
                    row_label,
                    _split(parts.get((dim, key), {})),
                    _split(persons.get((dim, key), {})),
                    _split(certs.get((dim, key), {})),
                    held_by_dim[dim].get(key, 0) if dim in held_by_dim else None,
                )
            )
        rows.sort(key=lambda r, dim=dim: _order(dim, r.key, r.label, topics))
        note = ""
        if dim == "unit":
            label = (
                "Đơn vị tổ chức lớp (như tại thời điểm tổ chức)"
                if filters.grouping == "then"
                else "Đơn vị tổ chức lớp (quy về đơn vị hiện nay)"
            )
            note = rules.UNIT_NOTE_NOW if filters.grouping == "now" else rules.UNIT_NOTE_THEN
        elif dim == "area":
            note = "Theo đơn vị (nơi ở, nơi làm việc) của học viên."
        elif dim == "age":
            note = "Lượt người: tuổi tại ngày kết thúc lớp; người: tuổi tại ngày kết thúc lớp cuối cùng trong kỳ."
        breakdowns.append(Breakdown(dim, label, rows, note))

    return Dashboard(
        filters=filters,
        courses=courses,
        participations=_split(parts.get(("total", ""), {})),
        persons=_split(persons.get(("total", ""), {})),
        certificates=_split(certs.get(("total", ""), {})),
        breakdowns=breakdowns,
        footnotes=rules.footnotes(filters.grouping),
        certificates_available=queries.certificate_model() is not None,
    )


# --------------------------------------------------------------------------------------------------
# Drill-down lists
# --------------------------------------------------------------------------------------------------
DRILL_KINDS: dict[str, str] = {
    "courses": "Danh sách lớp",
    "enrollments": "Danh sách lượt người",
    "people": "Danh sách người",
    "certificates": "Danh sách giấy chứng nhận",
}


@dataclass
class DrillDown:
    kind: str
    title: str
    query: object  # a Select, paginated by the view
    description: list[str]


def drilldown(filters: ReportFilters, kind: str, args: Mapping[str, str], *, units: UnitIndex) -> DrillDown:
    """The rows behind one number of the dashboard: same filters, plus ``sex``, ``dim``/``key``, ``cls``.

    Raises ``KeyError`` for an unknown kind or dimension.
    """
    if kind not in DRILL_KINDS:
        raise KeyError(kind)
    scope = make_scope(filters, units)
    sex = args.get("sex") if args.get("sex") in rules.SEX_LABELS else None
    dim = args.get("dim") or None
    key = args.get("key") or ""
    if dim is not None and dim not in rules.DIMENSIONS:
        raise KeyError(dim)
    description = [f"{filters.unit_label} · {filters.period.label}"]
    if sex:
        description.append(f"Giới tính: {rules.SEX_LABELS[sex]}")
    if dim:
        topics = topic_labels() if dim == "topic" else {}
        description.append(f"{rules.DIMENSIONS[dim]}: {dimension_label(dim, key, units=units, topics=topics, grouping=filters.grouping)}")
    if kind == "courses":
        cls = args.get("cls") if args.get("cls") in rules.COURSE_CLASSES else None
        if dim not in (None, "unit", "topic"):
            raise KeyError(dim)
        if cls:
            description.append(rules.COURSE_CLASSES[cls])
        unit_ids = units.unit_ids_for_key(key, filters.grouping) if dim == "unit" else None
        query = queries.course_list_statement(scope, cls=cls, unit_ids=unit_ids, topic=key if dim == "topic" else None)
        query = query.options(joinedload(Course.unit), joinedload(Course.topic))
        return DrillDown(kind, DRILL_KINDS[kind], query, description)
    value: str | int | None = key
    if dim == "unit":
        value = units.value_of(key, filters.grouping)
        if value is None:
            value = 0  # no unit has id 0: an empty list
    elif dim == "topic":
        value = topic_value(key)
    ids = queries.drilldown_ids(scope, kind, sex=sex, dim=dim, key=value)
    if kind == "people":
        query = select(Trainee).where(Trainee.id.in_(ids)).options(joinedload(Trainee.unit)).order_by(Trainee.sort_key, Trainee.id)
    else:
        query = (
            select(Enrollment)
            .join(Course, Course.id == Enrollment.course_id)
            .join(Trainee, Trainee.id == Enrollment.trainee_id)
            .where(Enrollment.id.in_(ids))
            .options(joinedload(Enrollment.course).joinedload(Course.unit), joinedload(Enrollment.trainee))
            .order_by(Course.end_date, Course.code, Trainee.sort_key, Enrollment.id)
        )
    return DrillDown(kind, DRILL_KINDS[kind], query, description)


def certificate_numbers(enrollment_ids: list[int]) -> dict[int, str]:
    """Number of the valid certificate of each enrolment (one query), for the certificates list."""
    certificate = queries.certificate_model()
    if certificate is None or not enrollment_ids:
        return {}
    rows = db.session.execute(
        select(certificate.enrollment_id, certificate.number).where(
            certificate.enrollment_id.in_(enrollment_ids), certificate.status == rules.VALID_CERTIFICATE_STATUS
        )
    )
    return {enrollment_id: number for enrollment_id, number in rows}


# --------------------------------------------------------------------------------------------------
# Plan vs actual
# --------------------------------------------------------------------------------------------------


@dataclass
class PlanRow:
    plan: TrainingPlan
    unit_label: str
    held_courses: int
    cancelled_courses: int
    upcoming_courses: int
    persons: rules.SexSplit
    progress: rules.PlanProgress

    @property
    def planned_courses(self) -> int:
        return self.plan.planned_courses or 0

    @property
    def planned_trainees(self) -> int:
        return self.plan.planned_trainees or 0

    @property
    def planned_female_pct(self) -> Decimal | None:
        value = self.plan.planned_female_pct
        return None if value is None else Decimal(value).quantize(Decimal("0.1"))

    @property
    def actual_female_pct(self) -> Decimal | None:
        return self.persons.pct_female

    def as_dict(self) -> dict:
        return {
            "plan_id": self.plan.id,
            "unit_id": self.plan.unit_id,
            "unit": self.unit_label,
            "year": self.plan.year,
            "source_document": self.plan.source_document,
            "planned_courses": self.planned_courses,
            "held_courses": self.held_courses,
            "cancelled_courses": self.cancelled_courses,
            "upcoming_courses": self.upcoming_courses,
            "planned_trainees": self.planned_trainees,
            "persons": self.persons.as_dict(),
            "planned_female_pct": None if self.planned_female_pct is None else float(self.planned_female_pct),
            "actual_female_pct": None if self.actual_female_pct is None else float(self.actual_female_pct),
            "status": self.progress.status,
            "status_label": self.progress.label,
            "behind": {
                "courses": self.progress.courses_behind,
                "trainees": self.progress.trainees_behind,
                "female_share": self.progress.female_below,
            },
            "targets": [
                {
                    "indicator": t.indicator,
                    "source_document": t.source_document,
                    "target_value": None if t.target_value is None else float(t.target_value),
                    "actual_value": None if t.actual_value is None else float(t.actual_value),
                    "measure": t.measure,
                }
                for t in self.plan.targets
            ],
        }


@dataclass
class PlanReport:
    year: int
    rows: list[PlanRow]
    elapsed_pct: Decimal
    note: str = rules.PLAN_NOTE


def plan_year(filters: ReportFilters) -> int:
    """Plans are per calendar year: the period's year (a custom range spanning years: its end year)."""
    return filters.period.year or filters.period.end.year


def plan_report(filters: ReportFilters, *, units: UnitIndex, today: date) -> PlanReport:
    """Plan vs actual for the plans of the period's year in the unit subtree (3 queries)."""
    year = plan_year(filters)
    plans = list(db.session.scalars(queries.plans_statement(filters.unit_id, year).options(selectinload(TrainingPlan.targets))))
    ids = [p.id for p in plans]
    classes: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    persons: dict[int, dict[str, int]] = defaultdict(dict)
    if ids:
        for plan_id, cls, n in db.session.execute(queries.plan_course_counts_statement(ids, year)):
            classes[plan_id][cls] += n
        for plan_id, sex, n in db.session.execute(queries.plan_persons_statement(ids, year)):
            persons[plan_id][sex] = n
    rows = []
    for plan in plans:
        split = _split(persons.get(plan.id, {}))
        held = classes[plan.id]["held"]
        planned_pct = None if plan.planned_female_pct is None else Decimal(plan.planned_female_pct)
        progress = rules.plan_progress(
            year=year,
            today=today,
            planned_courses=plan.planned_courses or 0,
            held_courses=held,
            planned_trainees=plan.planned_trainees or 0,
            actual_persons=split.total,
            planned_female_pct=planned_pct,
            actual_female_pct=split.pct_female,
        )
        rows.append(
            PlanRow(plan, units.label(plan.unit_id), held, classes[plan.id]["cancelled"], classes[plan.id]["upcoming"], split, progress)
        )
    rows.sort(key=lambda r: sort_key(r.unit_label))
    share = rules.elapsed_share(year, today)
    return PlanReport(year, rows, rules.pct(share.numerator, share.denominator) or Decimal(0))


# --------------------------------------------------------------------------------------------------
# Learning
# --------------------------------------------------------------------------------------------------


@dataclass
class LearningRow:
    label: str
    sex: str  # "" total, "nam", "nu"
    summary: rules.LearningSummary

    def as_dict(self) -> dict:
        s = self.summary

        def num(x):
            return None if x is None else float(round_score(x))

        return {
            "label": self.label,
            "sex": self.sex or "total",
            "n_matched": s.n_matched,
            "mean_pre": num(s.mean_pre),
            "mean_post": num(s.mean_post),
            "mean_gain": num(s.mean_gain),
            "class_g": num(s.class_g),
            "hake_band": s.hake_band,
        }

    def display(self) -> dict[str, str]:
        return self.summary.display()


@dataclass
class Learning:
    available: bool
    by_sex: list[LearningRow]
    by_topic: list[tuple[str, list[LearningRow]]]
    note: str = rules.LEARNING_NOTE


SEX_ROWS = (("", "Tổng"), (rules.MALE, "Nam"), (rules.FEMALE, "Nữ"))
_NO_SUMS = (0, 0, 0, 0, 0)


def _add(a: tuple, b: tuple) -> tuple:
    return tuple(x + y for x, y in zip(a, b, strict=True))


def _rows(sums_by_sex: Mapping[str, tuple]) -> list[LearningRow]:
    """Total, nam, nữ rows from integer sums per sex (adding sums is exact)."""
    total = _NO_SUMS
    for sums in sums_by_sex.values():
        total = _add(total, sums)
    return [LearningRow(label, sex, rules.learning_summary(*(sums_by_sex.get(sex, _NO_SUMS) if sex else total))) for sex, label in SEX_ROWS]


def learning(filters: ReportFilters, *, units: UnitIndex) -> Learning:
    """Pre/post means, gain and ⟨g⟩ by sex and by topic, matched pairs only: ONE grouped query
    (:func:`queries.learning_statement`), the same definitions as ``assessments.rules.class_summary``."""
    statement = queries.learning_statement(make_scope(filters, units))
    if statement is None:
        return Learning(False, [], [])
    queries.tune_session(db.session)
    by_sex: dict[str, tuple] = defaultdict(lambda: _NO_SUMS)
    by_topic: dict[str, dict[str, tuple]] = defaultdict(lambda: defaultdict(lambda: _NO_SUMS))
    for sex, topic_id, *sums in db.session.execute(statement):
        sums = tuple(int(x or 0) for x in sums)
        by_sex[sex] = _add(by_sex[sex], sums)
        key = topic_key(topic_id)
        by_topic[key][sex] = _add(by_topic[key][sex], sums)
    topics = topic_labels()
    ordered = sorted(by_topic, key=lambda k: (k == rules.UNKNOWN_KEY, topics[k][0] if k in topics else (0, ())))
    return Learning(
        True,
        _rows(by_sex),
        [(dimension_label("topic", key, units=units, topics=topics, grouping="then"), _rows(by_topic[key])) for key in ordered],
    )


# --------------------------------------------------------------------------------------------------
# JSON (the API)
# --------------------------------------------------------------------------------------------------


def stats_json(board: Dashboard, plans: PlanReport, study: Learning) -> dict:
    """The same statistics as the pages, as plain JSON data."""
    return {
        "filters": board.filters.as_dict(),
        "counting_rules": board.footnotes,
        "courses": dict(board.courses),
        "participations": board.participations.as_dict(),
        "persons": board.persons.as_dict(),
        "certificates": board.certificates.as_dict() if board.certificates_available else None,
        "breakdowns": {
            b.dim: {
                "label": b.label,
                "rows": [
                    {
                        "key": r.key,
                        "label": r.label,
                        **({"courses_held": r.courses} if r.courses is not None else {}),
                        "participations": r.participations.as_dict(),
                        "persons": r.persons.as_dict(),
                        "certificates": r.certificates.as_dict() if board.certificates_available else None,
                    }
                    for r in b.rows
                ],
            }
            for b in board.breakdowns
        },
        "plans": {"year": plans.year, "rows": [row.as_dict() for row in plans.rows]},
        "learning": {
            "available": study.available,
            "by_sex": [row.as_dict() for row in study.by_sex],
            "by_topic": [{"topic": label, "rows": [row.as_dict() for row in rows]} for label, rows in study.by_topic],
        },
    }


# --------------------------------------------------------------------------------------------------
# API tokens
# --------------------------------------------------------------------------------------------------
TOKEN_BYTES = 32
MAX_ACTIVE_TOKENS = 10
LAST_USED_RESOLUTION = timedelta(minutes=1)
TOKEN_ROLES = frozenset({"admin", "organizer", "signer"})


def hash_token(secret: str) -> str:
    """SHA-256 (hex) of a token: the only form stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(actor, name: str) -> tuple[ApiToken, str]:
    """A new personal token for ``actor``; returns the row and the secret, which is shown once only."""
    errors = RuleViolation()
    name = (name or "").strip()
    if not name:
        errors.add("name", "Vui lòng đặt tên cho mã truy cập (ví dụ: Tổng hợp số liệu cho Sở).")
    elif len(name) > 100:
        errors.add("name", "Tên không được dài quá 100 ký tự.")
    active = db.session.scalar(select(db.func.count(ApiToken.id)).where(ApiToken.user_id == actor.id, ApiToken.revoked_at.is_(None)))
    if active >= MAX_ACTIVE_TOKENS:
        errors.add("", f"Mỗi người dùng có tối đa {MAX_ACTIVE_TOKENS} mã truy cập đang dùng; hãy thu hồi mã cũ trước.")
    errors.raise_if_any()
    secret = secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken(user_id=actor.id, name=name, token_hash=hash_token(secret))
    token.user = actor
    db.session.add(token)
    db.session.flush()
    record(actor, "api_token.create", token, f"Tạo mã truy cập API “{name}”")
    return token, secret


def revoke_token(actor, token: ApiToken, *, now: datetime) -> None:
    """Revoke one of the actor's own tokens (idempotent)."""
    if token.revoked_at is None:
        token.revoked_at = now
        record(actor, "api_token.revoke", token, f"Thu hồi mã truy cập API “{token.name}”")
        db.session.flush()


def user_tokens(user) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
        )
    )


def authenticate(secret: str | None, *, now: datetime) -> ApiToken | None:
    """The active token for ``secret`` whose owner is an active staff user, or ``None``.

    Records ``last_used_at`` (at most once a minute, to spare writes) in a transaction of its own that takes
    the write lock first (``serialized_writes``: BEGIN IMMEDIATE on SQLite), so parallel API calls queue for
    the lock instead of failing to upgrade a read transaction. The caller's reads start afresh afterwards.
    """
    if not secret or len(secret) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)).options(joinedload(ApiToken.user)))
    if token is None or token.revoked_at is not None:
        return None
    user = token.user
    if user is None or not user.active or user.role not in TOKEN_ROLES or (user.role != "admin" and user.unit_id is None):
        return None
    last = as_utc(token.last_used_at)
    if last is None or now - last >= LAST_USED_RESOLUTION:
        token_id = token.id
        db.session.rollback()
        with serialized_writes():
            db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
            db.session.commit()
        token = db.session.get(ApiToken, token_id)
    return token
