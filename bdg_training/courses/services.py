"""Topics, annual plans, courses and their sessions: queries and changes.

Services load → call the rules → change → ``flush()`` and audit; the caller commits. Every
change takes the ``actor``; where time matters they take ``now`` (aware UTC) / ``today`` (the
local date). Scope is checked here too (defence in depth: the views check it first).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from bdg_training.access import in_scope, scope_filter, scope_unit_ids, subtree_ids
from bdg_training.audit.services import diff, record
from bdg_training.clock import DEFAULT_TZ, local_to_utc, local_today, local_tz  # noqa: E402,F401 - re-exported
from bdg_training.courses import ical, rules
from bdg_training.courses.models import Course, CourseSession, PlanTarget, Topic, TrainingPlan
from bdg_training.database import as_utc, utcnow
from bdg_training.enrollment.rules import TARGET_GROUPS
from bdg_training.extensions import db
from bdg_training.rules_base import RuleViolation
from bdg_training.text import sort_key, tone_key
from bdg_training.units.models import Signer, Unit

# --------------------------------------------------------------------------------------------
# Topics (admin)
# --------------------------------------------------------------------------------------------
TOPIC_FIELDS = ("name", "description", "sort_order", "active")


def topics(*, active_only: bool = False) -> list[Topic]:
    query = select(Topic).order_by(Topic.sort_order, Topic.id)
    if active_only:
        query = query.where(Topic.active.is_(True))
    return list(db.session.scalars(query))


def topic_choices(include_id: int | None = None) -> list[tuple[int, str]]:
    """Active topics for a select box, plus ``include_id`` (a course's current, hidden topic)."""
    return [(t.id, t.name) for t in topics() if t.active or t.id == include_id]


def _check_topic(topic_id: int | None, values: dict) -> None:
    errors = RuleViolation()
    name = (values.get("name") or "").strip()
    if not name:
        errors.add("name", "Vui lòng nhập tên chủ đề.")
    elif len(name) > 200:
        errors.add("name", "Tên chủ đề không được dài quá 200 ký tự.")
    else:
        key = tone_key(name).casefold()
        for other in db.session.scalars(select(Topic).where(Topic.id != (topic_id or 0))):
            if tone_key(other.name).casefold() == key:
                errors.add("name", f"Đã có chủ đề “{other.name}”.")
                break
    errors.raise_if_any()


def create_topic(actor, **values) -> Topic:
    values = {k: values[k] for k in TOPIC_FIELDS if k in values}
    _check_topic(None, values)
    values.setdefault("sort_order", 0)
    values.setdefault("active", True)
    topic = Topic(**values)
    db.session.add(topic)
    db.session.flush()
    record(actor, "topic.create", topic, f"Thêm chủ đề “{topic.name}”")
    return topic


def update_topic(actor, topic: Topic, **values) -> Topic:
    values = {k: values[k] for k in TOPIC_FIELDS if k in values}
    _check_topic(topic.id, {"name": topic.name} | values)
    before = {k: getattr(topic, k) for k in values}
    for key, value in values.items():
        setattr(topic, key, value)
    db.session.flush()
    record(actor, "topic.update", topic, f"Sửa chủ đề “{topic.name}”", changes=diff(before, values))
    return topic


def delete_topic(actor, topic: Topic) -> None:
    """Delete an unused topic; a topic used by any course can only be hidden (``active=False``)."""
    used = db.session.scalar(select(func.count(Course.id)).where(Course.topic_id == topic.id))
    if used:
        RuleViolation.single("", f"Chủ đề “{topic.name}” đang được dùng cho {used} lớp, không thể xóa; hãy ẩn chủ đề thay vì xóa.")
    record(actor, "topic.delete", topic, f"Xóa chủ đề “{topic.name}”")
    db.session.delete(topic)
    db.session.flush()


# The four topics a commune's courses cover (the issue; DOMAIN.md R15), with a short description.
DEFAULT_TOPICS: list[tuple[str, str]] = [
    (
        "Luật Bình đẳng giới và kỹ năng lồng ghép giới",
        "Luật Bình đẳng giới 2006, Chiến lược quốc gia về bình đẳng giới 2021–2030 (28/NQ-CP), "
        "kỹ năng lồng ghép vấn đề bình đẳng giới trong xây dựng chính sách.",
    ),
    (
        "Phòng ngừa và ứng phó với bạo lực trên cơ sở giới",
        "Nhận diện bạo lực trên cơ sở giới, quy trình hỗ trợ và chuyển gửi nạn nhân, dịch vụ hỗ trợ cơ bản.",
    ),
    ("Công tác gia đình", "Xây dựng gia đình no ấm, tiến bộ, hạnh phúc; chia sẻ công việc gia đình giữa nam và nữ."),
    ("Phòng, chống bạo lực gia đình", "Luật Phòng, chống bạo lực gia đình 2022; kỹ năng hòa giải, can thiệp và hỗ trợ tại cộng đồng."),
]


def missing_default_topics() -> list[tuple[str, str]]:
    """The default topics not in the table yet (compared like topic names: tone- and case-insensitive)."""
    existing = {tone_key(name).casefold() for name in db.session.scalars(select(Topic.name))}
    return [(name, text) for name, text in DEFAULT_TOPICS if tone_key(name).casefold() not in existing]


def add_default_topics(actor) -> list[Topic]:
    """Add the default topics that are missing (a fresh installation has none); audited."""
    added = []
    orders = {name: i for i, (name, _) in enumerate(DEFAULT_TOPICS, start=1)}
    for name, description in missing_default_topics():
        added.append(create_topic(actor, name=name, description=description, sort_order=orders[name], active=True))
    return added


# --------------------------------------------------------------------------------------------
# Annual plans
# --------------------------------------------------------------------------------------------
PLAN_FIELDS = ("unit_id", "year", "planned_courses", "planned_trainees", "planned_female_pct", "source_document", "note")
TARGET_FIELDS = ("indicator", "source_document", "target_value", "measure", "actual_value", "note")


@dataclass
class PlanSummary:
    """Planned vs scheduled vs finished for one plan.

    Counting: a course belongs to a plan through ``Course.plan_id``. ``scheduled_courses`` counts
    every course of the plan that is not cancelled (drafts included: they are on the schedule,
    just not published yet); ``finished_courses`` those finished; cancelled ones are counted
    apart. ``actual_trainees`` / ``actual_female_pct`` stay ``None`` (shown as "—") until the
    enrolment feature fills them in — extend this function there, not the templates.
    """

    plan: TrainingPlan
    scheduled_courses: int = 0
    finished_courses: int = 0
    cancelled_courses: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    actual_trainees: int | None = None
    actual_female_pct: Decimal | None = None

    @property
    def planned_courses(self) -> int:
        return self.plan.planned_courses or 0

    @property
    def planned_trainees(self) -> int:
        return self.plan.planned_trainees or 0

    @property
    def planned_female_pct(self) -> Decimal | None:
        return self.plan.planned_female_pct

    @property
    def scheduled_pct(self) -> int | None:
        return rules.progress_pct(self.scheduled_courses, self.planned_courses)

    @property
    def finished_pct(self) -> int | None:
        return rules.progress_pct(self.finished_courses, self.planned_courses)

    @property
    def trainees_pct(self) -> int | None:
        return rules.progress_pct(self.actual_trainees, self.planned_trainees)


def plan_summaries(plans: Sequence[TrainingPlan]) -> dict[int, PlanSummary]:
    """:class:`PlanSummary` of each plan, by plan id — one grouped query for all of them."""
    summaries = {plan.id: PlanSummary(plan) for plan in plans}
    if not summaries:
        return summaries
    rows = db.session.execute(
        select(Course.plan_id, Course.status, func.count(Course.id)).where(Course.plan_id.in_(list(summaries))).group_by(Course.plan_id, Course.status)
    )
    for plan_id, status, count in rows:
        summary = summaries[plan_id]
        summary.by_status[status] = count
        if status == rules.CANCELLED:
            summary.cancelled_courses += count
        else:
            summary.scheduled_courses += count
        if status == rules.FINISHED:
            summary.finished_courses += count
    # Actual people trained (persons with a confirmed enrolment who attended at least one session)
    # and their share of women: one grouped query of the enrolment feature.
    from bdg_training.enrollment.services import plans_actuals

    for plan_id, actual in plans_actuals(list(summaries)).items():
        summaries[plan_id].actual_trainees = actual["trainees"]
        if actual["female_pct"] is not None:
            summaries[plan_id].actual_female_pct = Decimal(str(actual["female_pct"]))
    return summaries


def plan_summary(plan: TrainingPlan) -> PlanSummary:
    """Planned vs scheduled vs finished courses of one plan (see :class:`PlanSummary`)."""
    return plan_summaries([plan])[plan.id]


def _subtree(unit_id: int) -> list[int]:
    """Ids of a unit's subtree (with predecessors), resolved first: ``scope_filter`` already puts
    the recursive ``unit_tree`` CTE in the statement and a second one of that name cannot join it."""
    return sorted(subtree_ids(unit_id))


def plans_for_year(year: int, *, actor=None, root_unit_id: int | None = None) -> list[TrainingPlan]:
    """Plans of ``year`` in the actor's scope (and under ``root_unit_id``), sorted by unit name."""
    query = (
        select(TrainingPlan)
        .where(TrainingPlan.year == year, scope_filter(TrainingPlan.unit_id, actor))
        .options(joinedload(TrainingPlan.unit), selectinload(TrainingPlan.targets))
    )
    if root_unit_id is not None:
        query = query.where(TrainingPlan.unit_id.in_(_subtree(root_unit_id)))
    plans = list(db.session.scalars(query))
    return sorted(plans, key=lambda p: (p.unit.is_closed(), sort_key(p.unit.label())))


def plan_years(*, actor=None) -> list[int]:
    """Years that have a plan in the actor's scope, newest first."""
    return list(
        db.session.scalars(
            select(TrainingPlan.year).where(scope_filter(TrainingPlan.unit_id, actor)).distinct().order_by(TrainingPlan.year.desc())
        )
    )


def plan_choices(*, actor=None, include_id: int | None = None) -> list[tuple[int, str]]:
    """(id, "2026 — xã Cờ Đỏ") for the plans in scope, newest year first."""
    plans = db.session.scalars(
        select(TrainingPlan)
        .where(or_(scope_filter(TrainingPlan.unit_id, actor), TrainingPlan.id == (include_id or 0)))
        .options(joinedload(TrainingPlan.unit))
        .order_by(TrainingPlan.year.desc())
    ).all()
    plans = sorted(plans, key=lambda p: (-p.year, sort_key(p.unit.label())))
    return [(p.id, f"{p.year} — {p.unit.label()}") for p in plans]


def _target_rows(targets: Iterable[dict]) -> list[rules.TargetRow]:
    return [
        rules.TargetRow(
            indicator=t.get("indicator") or "",
            source_document=t.get("source_document") or "",
            target_value=t.get("target_value"),
            measure=t.get("measure") or "",
            actual_value=t.get("actual_value"),
            note=t.get("note") or "",
        )
        for t in targets
    ]


def _check_plan(actor, plan_id: int | None, values: dict, targets: Sequence[dict]) -> None:
    errors = RuleViolation(
        rules.plan_errors(
            rules.PlanData(values.get("year"), values.get("planned_courses"), values.get("planned_trainees"), values.get("planned_female_pct")),
            # A row marked for deletion counts as blank; indexes stay those of the submitted rows.
            _target_rows({} if t.get("delete") else t for t in targets),
        )
    )
    unit_id = values.get("unit_id")
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if unit is None:
        errors.add("unit_id", "Vui lòng chọn đơn vị.")
    elif not in_scope(unit.id, actor):
        errors.add("unit_id", "Đơn vị không thuộc phạm vi quản lý của bạn.")
    elif values.get("year") is not None and "year" not in errors.errors:
        other = db.session.scalar(
            select(TrainingPlan.id).where(TrainingPlan.unit_id == unit.id, TrainingPlan.year == values["year"], TrainingPlan.id != (plan_id or 0))
        )
        if other is not None:
            errors.add("year", f"{unit.label()} đã có kế hoạch năm {values['year']}.")
    errors.raise_if_any()


def _sync_targets(plan: TrainingPlan, targets: Sequence[dict]) -> tuple[list[str], list[str]]:
    """Apply submitted target rows: update by id, delete flagged or emptied rows, add new ones.

    Ids that are not this plan's targets are ignored (a forged id cannot touch another plan).
    Returns the indicators before and after, for the audit trail.
    """
    before = [t.indicator for t in plan.targets]
    existing = {t.id: t for t in plan.targets}
    kept: set[int] = set()
    for row, data in zip(_target_rows(targets), targets, strict=True):
        target = existing.get(data.get("id")) if data.get("id") else None
        if data.get("delete") or row.is_blank:
            continue
        values = {
            "indicator": row.indicator.strip(),
            "source_document": row.source_document.strip() or None,
            "target_value": row.target_value,
            "measure": row.measure.strip() or None,
            "actual_value": row.actual_value,
            "note": row.note.strip() or None,
        }
        if target is None:
            plan.targets.append(PlanTarget(**values))
        else:
            kept.add(target.id)
            for key, value in values.items():
                setattr(target, key, value)
    for target_id, target in existing.items():
        if target_id not in kept:
            plan.targets.remove(target)
    return before, [t.indicator for t in plan.targets]


def plan_form_errors(actor, values: dict, targets: Sequence[dict], plan: TrainingPlan | None = None) -> dict[str, list[str]]:
    """The errors :func:`create_plan` / :func:`update_plan` would raise, without raising."""
    merged = ({k: getattr(plan, k) for k in PLAN_FIELDS} if plan else {}) | values
    try:
        _check_plan(actor, plan.id if plan else None, merged, targets)
    except RuleViolation as exc:
        return exc.errors
    return {}


def create_plan(actor, *, targets: Sequence[dict] = (), **values) -> TrainingPlan:
    values = {k: values.get(k) for k in PLAN_FIELDS}
    _check_plan(actor, None, values, targets)
    plan = TrainingPlan(**values)
    db.session.add(plan)
    _sync_targets(plan, targets)
    db.session.flush()
    record(actor, "plan.create", plan, f"Lập kế hoạch năm {plan.year} của {plan.unit.label()}")
    return plan


def update_plan(actor, plan: TrainingPlan, *, targets: Sequence[dict] = (), **values) -> TrainingPlan:
    values = {k: values[k] for k in PLAN_FIELDS if k in values}
    _check_plan(actor, plan.id, {k: getattr(plan, k) for k in PLAN_FIELDS} | values, targets)
    before = {k: getattr(plan, k) for k in values}
    for key, value in values.items():
        setattr(plan, key, value)
    old_targets, new_targets = _sync_targets(plan, targets)
    db.session.flush()
    changes = diff(before, values)
    if old_targets != new_targets:
        changes["targets"] = ["; ".join(old_targets), "; ".join(new_targets)]
    record(actor, "plan.update", plan, f"Sửa kế hoạch năm {plan.year} của {plan.unit.label()}", changes=changes)
    return plan


def delete_plan(actor, plan: TrainingPlan) -> None:
    """Delete a plan that no course belongs to (otherwise the courses would lose their plan)."""
    count = db.session.scalar(select(func.count(Course.id)).where(Course.plan_id == plan.id))
    if count:
        RuleViolation.single("", f"Kế hoạch đang có {count} lớp, không thể xóa.")
    record(actor, "plan.delete", plan, f"Xóa kế hoạch năm {plan.year} của {plan.unit.label()}")
    db.session.delete(plan)
    db.session.flush()


# --------------------------------------------------------------------------------------------
# Courses: queries
# --------------------------------------------------------------------------------------------
def course_query(
    *,
    actor=None,
    unit_id: int | None = None,
    year: int | None = None,
    topic_id: int | None = None,
    status: str | None = None,
    q: str | None = None,
) -> Select:
    """Courses in the actor's scope, filtered, newest first, with topic/unit/sessions loaded.

    ``unit_id``: that unit's subtree (with its predecessors: xã Cờ Đỏ includes huyện Cờ Đỏ (cũ));
    ``year``: the year of the end date (a course counts in the period of its end date);
    ``q``: words of the title or code, in any order, ignoring case and diacritics ("binh dang luat"
    finds "Luật Bình đẳng giới").
    """
    from bdg_training.text import fold

    query = (
        select(Course)
        .where(scope_filter(Course.unit_id, actor))
        .options(joinedload(Course.topic), joinedload(Course.unit), selectinload(Course.sessions))
        .order_by(Course.start_date.desc(), Course.id.desc())
    )
    if unit_id is not None:
        query = query.where(Course.unit_id.in_(_subtree(unit_id)))
    if year is not None:
        query = query.where(Course.end_date >= date(year, 1, 1), Course.end_date <= date(year, 12, 31))
    if topic_id is not None:
        query = query.where(Course.topic_id == topic_id)
    if status in rules.COURSE_STATUSES:
        query = query.where(Course.status == status)
    for word in fold(q or "").split():
        query = query.where(Course.search_key.contains(word, autoescape=True))
    return query


def course_years(*, actor=None) -> list[int]:
    """Years (of end date) that have courses in scope, newest first, plus the current year."""
    ends = db.session.scalars(select(Course.end_date).where(scope_filter(Course.unit_id, actor)).distinct())
    return sorted({d.year for d in ends} | {local_today().year}, reverse=True)


def next_code(unit: Unit | None, year: int) -> str:
    """The first free code of the unit's series for ``year``, e.g. "CD-2026-03"."""
    prefix = rules.code_prefix(unit.short_code, unit.name) if unit else "LOP"
    taken = db.session.scalars(select(Course.code).where(Course.code.like(f"{prefix}-{year}-%")))
    return rules.suggest_code(prefix, year, taken)


def catalogue_query(*, now: datetime, today: date, q: str | None = None, topic_id: int | None = None) -> Select:
    """Open courses whose registration is not over (:func:`rules.in_catalogue`, in SQL), soonest first."""
    from bdg_training.text import fold

    query = (
        select(Course)
        .where(
            Course.status == rules.OPEN,
            or_(Course.reg_closes_at > now, and_(Course.reg_closes_at.is_(None), Course.start_date > today)),
        )
        .options(joinedload(Course.topic), joinedload(Course.unit), selectinload(Course.sessions))
        .order_by(Course.start_date, Course.id)
    )
    if topic_id is not None:
        query = query.where(Course.topic_id == topic_id)
    for word in fold(q or "").split():
        query = query.where(Course.search_key.contains(word, autoescape=True))
    return query


def calendar_sessions(*, first: date, last: date, actor=None, root_unit_id: int | None = None) -> dict[date, list[CourseSession]]:
    """Sessions from ``first`` to ``last`` of courses in scope (under ``root_unit_id``), by date.

    Cancelled courses are left out; drafts are shown (organizers plan with them) and marked as
    such by the template.
    """
    query = (
        select(CourseSession)
        .join(CourseSession.course)
        .where(
            CourseSession.date >= first,
            CourseSession.date <= last,
            Course.status != rules.CANCELLED,
            scope_filter(Course.unit_id, actor),
        )
        .options(contains_eager(CourseSession.course).joinedload(Course.unit))
        .order_by(CourseSession.date, CourseSession.start_time, Course.code)
    )
    if root_unit_id is not None:
        query = query.where(Course.unit_id.in_(_subtree(root_unit_id)))
    days: dict[date, list[CourseSession]] = defaultdict(list)
    for session in db.session.scalars(query).unique():
        days[session.date].append(session)
    return days


# --------------------------------------------------------------------------------------------
# Courses: validation and changes
# --------------------------------------------------------------------------------------------
COURSE_FIELDS = (
    "code",
    "title",
    "topic_id",
    "unit_id",
    "plan_id",
    "funding_source",
    "venue",
    "capacity",
    "reg_opens_at",
    "reg_closes_at",
    "start_date",
    "end_date",
    "hours",
    "target_groups",
    "description",
    "pass_mark",
    "min_attendance_pct",
    "needs_approval",
    "issuing_unit_id",
    "signer_id",
)


_OWN = object()


def _slot(session: CourseSession, *, title: str = "", course_id=_OWN) -> rules.SessionSlot:
    return rules.SessionSlot(
        id=session.id,
        course_id=session.course_id if course_id is _OWN else course_id,
        date=session.date,
        start=session.start_time,
        end=session.end_time,
        venue=session.effective_venue,
        trainer=session.trainer or "",
        course_title=title,
    )


def utc(value: datetime | None) -> datetime | None:
    """An aware UTC datetime (SQLite hands back naive UTC values), ``None`` as is."""
    return None if value is None else as_utc(value).astimezone(UTC)


def _prepare(values: dict) -> dict:
    """Normalise submitted values: blank text → None, code upper-case, datetimes in UTC."""
    values = dict(values)
    for key in ("funding_source", "venue", "description"):
        if key in values and isinstance(values[key], str):
            values[key] = values[key].strip() or None
    if isinstance(values.get("code"), str):
        values["code"] = values["code"].strip().upper()
    for key in ("reg_opens_at", "reg_closes_at"):
        if key in values:
            values[key] = utc(values[key])
    if "target_groups" in values:
        values["target_groups"] = [g for g in TARGET_GROUPS if g in set(values["target_groups"] or ())]
    # Left empty: the defaults (pass mark 5.0/10, minimum attendance 80 %, no approval).
    for key, default in (("pass_mark", Decimal("5.00")), ("min_attendance_pct", Decimal("80.00")), ("needs_approval", False)):
        if key in values and values[key] is None:
            values[key] = default
    return values


def course_errors_for(actor, values: dict, course: Course | None = None) -> dict[str, list[str]]:
    """Every problem with a new (``course=None``) or changed course, keyed by form field.

    Pure rules (:func:`rules.course_errors`, :func:`rules.course_link_errors`) plus what needs the
    database: the code is unused, the topic, units, plan and signer exist and the unit and plan
    are in the actor's scope, the target groups are known codes.
    """
    merged = ({k: getattr(course, k) for k in COURSE_FIELDS} if course else {}) | values
    errors = RuleViolation()

    sessions = [_slot(s) for s in course.sessions] if course else []
    data = rules.CourseData(
        title=merged.get("title") or "",
        code=merged.get("code") or "",
        capacity=merged.get("capacity"),
        start_date=merged.get("start_date"),
        end_date=merged.get("end_date"),
        reg_opens_at=utc(merged.get("reg_opens_at")),
        reg_closes_at=utc(merged.get("reg_closes_at")),
        pass_mark=merged.get("pass_mark"),
        min_attendance_pct=merged.get("min_attendance_pct"),
    )
    for key, messages in rules.course_errors(data, sessions, local_tz=local_tz()).items():
        for message in messages:
            errors.add(key, message)

    code = merged.get("code")
    if code and "code" not in errors.errors:
        clash = db.session.scalar(select(Course.id).where(func.upper(Course.code) == code.upper(), Course.id != (course.id if course else 0)))
        if clash is not None:
            errors.add("code", f"Mã lớp “{code}” đã được dùng cho một lớp khác.")

    topic = db.session.get(Topic, merged["topic_id"]) if merged.get("topic_id") else None
    if merged.get("topic_id") and (topic is None or (not topic.active and (course is None or course.topic_id != topic.id))):
        errors.add("topic_id", "Chủ đề không hợp lệ.")
    unit = db.session.get(Unit, merged["unit_id"]) if merged.get("unit_id") else None
    if unit is not None and not in_scope(unit.id, actor):
        errors.add("unit_id", "Đơn vị không thuộc phạm vi quản lý của bạn.")
    plan = db.session.get(TrainingPlan, merged["plan_id"]) if merged.get("plan_id") else None
    if merged.get("plan_id") and (plan is None or not in_scope(plan.unit_id, actor)) and not (course and course.plan_id == merged["plan_id"]):
        errors.add("plan_id", "Kế hoạch không hợp lệ.")
    issuing = db.session.get(Unit, merged["issuing_unit_id"]) if merged.get("issuing_unit_id") else None
    if merged.get("issuing_unit_id") and issuing is None:
        errors.add("issuing_unit_id", "Đơn vị cấp giấy chứng nhận không hợp lệ.")
    signer = db.session.get(Signer, merged["signer_id"]) if merged.get("signer_id") else None
    if merged.get("signer_id") and signer is None:
        errors.add("signer_id", "Người ký không hợp lệ.")
    unknown = [g for g in merged.get("target_groups") or [] if g not in TARGET_GROUPS]
    if unknown:
        errors.add("target_groups", "Đối tượng không hợp lệ: " + ", ".join(unknown) + ".")

    links = rules.CourseLinks(
        topic_id=topic.id if topic else None,
        unit_id=unit.id if unit else None,
        unit_valid_from=unit.valid_from if unit else None,
        unit_valid_to=unit.valid_to if unit else None,
        plan_year=plan.year if plan else None,
        issuing_unit_id=issuing.id if issuing else None,
        signer_unit_id=signer.unit_id if signer else None,
        signer_valid_to=signer.valid_to if signer else None,
        hours=merged.get("hours"),
    )
    for key, messages in rules.course_link_errors(links, merged.get("start_date"), merged.get("end_date")).items():
        for message in messages:
            if message not in errors.errors.get(key, []) and not (key in ("topic_id", "unit_id") and errors.errors.get(key)):
                errors.add(key, message)
    return errors.errors


def course_form_errors(actor, values: dict, course: Course | None = None) -> dict[str, list[str]]:
    """The errors :func:`create_course` / :func:`update_course` would raise, without raising
    (for a form where some fields did not even parse: the others still get their messages)."""
    values = _prepare({k: values[k] for k in COURSE_FIELDS if k in values})
    if not values.get("code"):
        values["code"] = course.code if course else "AUTO"  # a blank code is filled in on save
    return course_errors_for(actor, _auto_links(values), course)


def _auto_links(values: dict) -> dict:
    """Fill what the organizer may leave blank: the plan of the unit for the end-date year, and
    the issuing unit of the chosen signer."""
    if not values.get("plan_id") and values.get("unit_id") and values.get("end_date"):
        values["plan_id"] = db.session.scalar(
            select(TrainingPlan.id).where(TrainingPlan.unit_id == values["unit_id"], TrainingPlan.year == values["end_date"].year)
        )
    if values.get("signer_id") and not values.get("issuing_unit_id"):
        values["issuing_unit_id"] = db.session.scalar(select(Signer.unit_id).where(Signer.id == values["signer_id"]))
    return values


def _flush_course(course: Course) -> None:
    """Flush, turning a lost race on the unique code into a field error (not a 500)."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        exists = db.session.scalar(select(Course.id).where(Course.code == course.code, Course.id != (course.id or 0)))
        if exists is not None:
            RuleViolation.single("code", f"Mã lớp “{course.code}” đã được dùng cho một lớp khác.")
        raise


def create_course(actor, **values) -> Course:
    """A new draft course. A blank code gets the next code of the unit's series."""
    values = _prepare({k: values.get(k) for k in COURSE_FIELDS})
    if not values.get("code") and values.get("unit_id") and values.get("end_date"):
        values["code"] = next_code(db.session.get(Unit, values["unit_id"]), values["end_date"].year)
    values = _auto_links(values)
    errors = course_errors_for(actor, values)
    if errors:
        raise RuleViolation(errors)
    values["target_groups"] = values.get("target_groups") or []
    course = Course(**values, status=rules.DRAFT, created_by_id=getattr(actor, "id", None))
    db.session.add(course)
    _flush_course(course)
    record(actor, "course.create", course, f"Tạo lớp {course.code} “{course.title}”")
    return course


def update_course(actor, course: Course, **values) -> Course:
    if not rules.can_edit_course(course.status):
        RuleViolation.single("", f"Lớp “{course.status_label}” không thể sửa.")
    values = _prepare({k: values[k] for k in COURSE_FIELDS if k in values})
    if "code" in values and not values["code"]:
        values["code"] = course.code
    values = _auto_links(values)
    errors = course_errors_for(actor, values, course)
    if errors:
        raise RuleViolation(errors)
    before = {k: getattr(course, k) for k in values}
    if "reg_opens_at" in before or "reg_closes_at" in before:
        for key in ("reg_opens_at", "reg_closes_at"):
            before[key] = utc(before.get(key))
    for key, value in values.items():
        setattr(course, key, value)
    _flush_course(course)
    record(actor, "course.update", course, f"Sửa lớp {course.code} “{course.title}”", changes=diff(before, values))
    if "capacity" in values and values["capacity"] != before.get("capacity"):
        # More seats: the head of the waiting list moves into the class (enrolment feature).
        from bdg_training.enrollment.services import rebalance_course

        rebalance_course(course, actor, utcnow())
    return course


def change_status(actor, course: Course, target: str, *, now: datetime, reason: str | None = None) -> Course:
    """Move a course along its life cycle (:func:`rules.check_transition`); audited.

    Opening for the first time publishes the course (``published_at``): from then on its public
    page and calendar feed exist. Cancelling stores the reason.
    """
    rules.check_transition(
        course.status,
        target,
        has_sessions=bool(course.sessions),
        reason=reason,
        now=now,
        reg_closes_at=utc(course.reg_closes_at),
        today=local_today(now),
        end_date=course.end_date,
    )
    before = course.status
    course.status = target
    changes = {"status": [before, target]}
    if target == rules.OPEN and course.published_at is None:
        course.published_at = now
    if target == rules.CANCELLED:
        course.cancel_reason = (reason or "").strip()
        changes["cancel_reason"] = [None, course.cancel_reason]
    db.session.flush()
    summary = f"Lớp {course.code}: {rules.status_label(before)} → {rules.status_label(target)}"
    record(actor, "course.status", course, summary, changes=changes)
    return course


def delete_course(actor, course: Course) -> None:
    if not rules.can_delete(course.status):
        RuleViolation.single("", "Chỉ xóa được lớp ở trạng thái nháp; lớp đã công bố thì hãy hủy lớp.")
    record(actor, "course.delete", course, f"Xóa lớp nháp {course.code} “{course.title}”")
    db.session.delete(course)
    db.session.flush()


def clone_course(
    actor,
    course: Course,
    *,
    unit_id: int | None,
    start_date: date | None,
    keep_weekday: bool = False,
    code: str | None = None,
    title: str | None = None,
) -> Course:
    """A new draft copy of ``course`` for ``unit_id`` starting on ``start_date``.

    Dates keep their offsets (:func:`rules.shift_schedule`): the end date, every session and the
    registration window move by the same number of days. With ``keep_weekday`` the start moves
    to the first day on or after ``start_date`` with the original weekday. The issuing unit and
    signer are kept when the organizing unit stays the same and the signer is still in office;
    otherwise they are left empty for the organizer to choose.
    """
    errors = RuleViolation()
    if start_date is None:
        errors.add("start_date", "Vui lòng nhập ngày bắt đầu của lớp mới.")
    if unit_id is None:
        errors.add("unit_id", "Vui lòng chọn đơn vị tổ chức.")
    errors.raise_if_any()
    new_start = rules.effective_start(course.start_date, start_date, keep_weekday=keep_weekday)
    delta = new_start - course.start_date
    new_end = course.end_date + delta
    same_unit = unit_id == course.unit_id
    signer = course.signer if same_unit else None
    if signer is not None and signer.valid_to is not None and signer.valid_to < new_end:
        signer = None
    values = {
        "code": (code or "").strip().upper() or next_code(db.session.get(Unit, unit_id), new_end.year),
        "title": (title or "").strip() or course.title,
        "topic_id": course.topic_id,
        "unit_id": unit_id,
        "plan_id": None,
        "funding_source": course.funding_source,
        "venue": course.venue,
        "capacity": course.capacity,
        "reg_opens_at": utc(course.reg_opens_at) + delta if course.reg_opens_at else None,
        "reg_closes_at": utc(course.reg_closes_at) + delta if course.reg_closes_at else None,
        "start_date": new_start,
        "end_date": new_end,
        "hours": course.hours,
        "target_groups": list(course.target_groups or []),
        "description": course.description,
        "pass_mark": course.pass_mark,
        "min_attendance_pct": course.min_attendance_pct,
        "needs_approval": course.needs_approval,
        "issuing_unit_id": course.issuing_unit_id if same_unit else None,
        "signer_id": signer.id if signer else None,
    }
    values = _auto_links(values)
    topic = course.topic
    if topic is not None and not topic.active:
        values["topic_id"] = topic.id  # a hidden topic stays on a copy of a course that used it
    errors = course_errors_for(actor, values)
    if topic is not None and not topic.active:
        errors.pop("topic_id", None)
    if errors:
        raise RuleViolation(errors)
    clone = Course(**values, status=rules.DRAFT, cloned_from_id=course.id, created_by_id=getattr(actor, "id", None))
    for session in course.sessions:
        clone.sessions.append(
            CourseSession(
                date=session.date + delta,
                start_time=session.start_time,
                end_time=session.end_time,
                subject=session.subject,
                trainer=session.trainer,
                venue=session.venue,
            )
        )
    db.session.add(clone)
    _flush_course(clone)
    record(
        actor,
        "course.clone",
        clone,
        f"Nhân bản lớp {course.code} thành {clone.code} (bắt đầu {new_start:%d/%m/%Y}, {len(clone.sessions)} buổi học)",
        changes={"cloned_from": [None, course.code]},
    )
    return clone


# --------------------------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------------------------
SESSION_FIELDS = ("date", "start_time", "end_time", "subject", "trainer", "venue")
_SLOT_TO_FORM = {"date": "date", "start": "start_time", "end": "end_time"}


def session_errors_for(course: Course, values: dict, session: CourseSession | None = None) -> dict[str, list[str]]:
    """Every problem with a new or changed session, keyed by form field ("" = general).

    The course must still accept sessions; the session itself must be valid
    (:func:`rules.session_errors`); and with it the course's registration must still close
    before the first session starts.
    """
    errors = RuleViolation()
    if not rules.can_add_session(course.status):
        errors.add("", f"Lớp “{course.status_label}” không thể thêm hoặc sửa buổi học.")
        return errors.errors
    slot = rules.SessionSlot(
        id=session.id if session else None,
        course_id=course.id,
        date=values.get("date"),
        start=values.get("start_time"),
        end=values.get("end_time"),
    )
    for key, messages in rules.session_errors(slot, course.start_date, course.end_date).items():
        for message in messages:
            errors.add(_SLOT_TO_FORM.get(key, key), message)
    if not errors:
        others = [_slot(s) for s in course.sessions if session is None or s.id != session.id]
        data = rules.CourseData(
            title=course.title,
            code=course.code,
            capacity=course.capacity,
            start_date=course.start_date,
            end_date=course.end_date,
            reg_opens_at=utc(course.reg_opens_at),
            reg_closes_at=utc(course.reg_closes_at),
        )
        window = rules.course_errors(data, [*others, slot], local_tz=local_tz())
        for key in ("reg_opens_at", "reg_closes_at"):
            for message in window.get(key, []):
                errors.add("date", f"Hạn đăng ký của lớp: {message[0].lower()}{message[1:]} Hãy sửa hạn đăng ký trước.")
    return errors.errors


def _session_values(values: dict) -> dict:
    values = {k: values.get(k) for k in SESSION_FIELDS if k in values}
    for key in ("subject", "trainer", "venue"):
        if key in values and isinstance(values[key], str):
            values[key] = values[key].strip() or None
    return values


def _describe(session: CourseSession) -> str:
    return f"{session.start_time:%H:%M}–{session.end_time:%H:%M} ngày {session.date:%d/%m/%Y}"


def add_session(actor, course: Course, **values) -> tuple[CourseSession, list[str]]:
    """Add a session; returns it and its clash warnings (not errors: it is saved anyway)."""
    values = _session_values(values)
    errors = session_errors_for(course, values)
    if errors:
        raise RuleViolation(errors)
    session = CourseSession(**values)
    course.sessions.append(session)
    course.updated_at = utcnow()
    db.session.flush()
    record(actor, "course.session_add", course, f"Lớp {course.code}: thêm buổi học {_describe(session)}", changes={"session": [None, session.id]})
    return session, clash_warnings(session, actor=actor)


def update_session(actor, session: CourseSession, **values) -> list[str]:
    course = session.course
    values = _session_values(values)
    errors = session_errors_for(course, values, session)
    if errors:
        raise RuleViolation(errors)
    before = {k: getattr(session, k) for k in values}
    for key, value in values.items():
        setattr(session, key, value)
    course.updated_at = utcnow()
    db.session.flush()
    record(actor, "course.session_update", course, f"Lớp {course.code}: sửa buổi học {_describe(session)}", changes=diff(before, values))
    return clash_warnings(session, actor=actor)


def delete_session(actor, session: CourseSession) -> None:
    """Delete a session, unless the course no longer accepts changes or it is the last session of
    a published, not yet finished course (opening and starting a course need sessions)."""
    course = session.course
    if not rules.can_add_session(course.status):
        RuleViolation.single("", f"Lớp “{course.status_label}” không thể xóa buổi học.")
    if course.status in (rules.OPEN, rules.CLOSED, rules.RUNNING) and len(course.sessions) <= 1:
        RuleViolation.single("", "Lớp đã công bố phải có ít nhất một buổi học; hãy thêm buổi khác trước khi xóa buổi này.")
    record(actor, "course.session_delete", course, f"Lớp {course.code}: xóa buổi học {_describe(session)}", changes={"session": [session.id, None]})
    course.sessions.remove(session)
    course.updated_at = utcnow()
    db.session.flush()


def _overlapping(dates: Iterable[date]) -> list[CourseSession]:
    """Sessions on these dates of courses that are not cancelled, with their course loaded."""
    dates = sorted(set(dates))
    if not dates:
        return []
    return list(
        db.session.scalars(
            select(CourseSession)
            .join(CourseSession.course)
            .where(CourseSession.date.in_(dates), Course.status != rules.CANCELLED)
            .options(contains_eager(CourseSession.course))
            .order_by(CourseSession.date, CourseSession.start_time, CourseSession.id)
        ).unique()
    )


def _other_slots(candidates: Iterable[CourseSession], actor) -> list[rules.SessionSlot]:
    """Slots of other sessions; courses outside the actor's scope are not named (only the time)."""
    visible = scope_unit_ids(actor) if actor is not None else None
    slots = []
    for other in candidates:
        mine = visible is None or other.course.unit_id in visible
        slots.append(_slot(other, title=other.course.title if mine else "", course_id=other.course_id if mine else None))
    return slots


def clash_warnings(session: CourseSession, *, actor=None) -> list[str]:
    """Vietnamese warnings for sessions at the same time with the same venue or trainer."""
    return rules.find_clashes(_slot(session), _other_slots(_overlapping([session.date]), actor))


def course_clash_warnings(course: Course, *, actor=None) -> dict[int, list[str]]:
    """Clash warnings of each session of a course, by session id (one query)."""
    others = _other_slots(_overlapping(s.date for s in course.sessions), actor)
    result = {}
    for session in course.sessions:
        warnings = rules.find_clashes(_slot(session), others)
        if warnings:
            result[session.id] = warnings
    return result


# --------------------------------------------------------------------------------------------
# iCalendar
# --------------------------------------------------------------------------------------------
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def course_ical(course: Course, *, now: datetime, base_url: str, public_url: str | None = None) -> str:
    """The ``.ics`` text of a course's sessions (see :mod:`bdg_training.courses.ical`)."""
    from urllib.parse import urlsplit

    host = urlsplit(base_url).hostname or "localhost"
    changed = utc(course.updated_at) or now
    sequence = max(int((changed - _EPOCH).total_seconds() // 60), 0)
    events = []
    for session in course.sessions:
        summary = course.title + (f" — {session.subject}" if session.subject else "")
        description = [f"Lớp: {course.title} ({course.code})"]
        if session.subject:
            description.append(f"Nội dung: {session.subject}")
        if session.trainer:
            description.append(f"Giảng viên: {session.trainer}")
        description.append(f"Đơn vị tổ chức: {course.unit.label()}")
        if course.status == rules.CANCELLED:
            description.append("Lớp đã bị hủy.")
        events.append(
            ical.Event(
                uid=f"session-{session.id}@{host}",
                start=local_to_utc(session.date, session.start_time),
                end=local_to_utc(session.date, session.end_time),
                summary=summary,
                location=session.effective_venue,
                description="\n".join(description),
                url=public_url or "",
                cancelled=course.status == rules.CANCELLED,
                sequence=sequence,
                last_modified=changed,
            )
        )
    return ical.build_calendar(f"{course.title} ({course.code})", events, now=now)

