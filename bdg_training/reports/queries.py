"""The counting rules of ``reports/rules.py`` written in SQL (SQLAlchemy Core; SQLite and PostgreSQL).

Everything is aggregated in the database (GROUP BY sex × dimension, ``COUNT(DISTINCT trainee_id)`` for
persons, an ``EXISTS`` semi-join for "present at ≥ 1 session"); Python only adds up cells of grouped,
*additive* results (numbers of courses, the two "cubes" of :func:`breakdown_statement`, whose size depends
on the number of categories, not on the data) and attaches labels. The number of statements does not
depend on the data.

The core is :func:`counted_rows`: the enrolments of the period's courses, the trainees with a
participation or a certificate, and the enrolments that count — every key computed in SQL. The dashboard
aggregates them in ONE statement and the drill-down lists select from the very same CTEs, so a list always
has exactly as many rows as the number that links to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    distinct,
    exists,
    extract,
    func,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from bdg_training.courses.models import Course, TrainingPlan
from bdg_training.enrollment.models import Attendance, Enrollment, Trainee
from bdg_training.ethnicity import CODE_LIST
from bdg_training.reports import rules
from bdg_training.units.models import Unit


def certificate_model():
    """The Certificate model, or ``None`` while the certificates feature is not installed."""
    try:
        from bdg_training.certificates.models import Certificate
    except ImportError:
        return None
    return Certificate


def attempt_model():
    """The Attempt model (pre/post scores), or ``None`` while the assessments feature is not installed."""
    try:
        from bdg_training.assessments.models import Attempt
    except ImportError:
        return None
    return Attempt


@dataclass(frozen=True)
class Scope:
    """What the SQL filters on: a unit subtree, a closed date interval, how units are grouped.

    ``unit_id`` ``None`` means every unit (an administrator without a unit filter); otherwise the subtree of
    that unit (``bdg_training.access.subtree_select``: descendants, and the predecessors it took over). The
    caller has already checked that the unit is inside the user's own scope — a subtree of a unit in scope
    lies inside the scope. ``unit_groups`` maps a unit id to its integer group key when grouping by today's
    units (the id of the one unit that carries it on, or a negative number for several successors).
    """

    unit_id: int | None
    start: date
    end: date
    grouping: str = "then"
    unit_groups: Mapping[int, int] = field(default_factory=dict)


def tune_session(session) -> None:
    """Planner settings for the report statements, for the current transaction only (PostgreSQL).

    * ``jit = off``: the correlated EXISTS make the cost estimate huge, so PostgreSQL JIT-compiles the
      statement — about 3 s of compilation for a 0.5 s query at 100 000 enrolments.
    * ``work_mem = 64MB``: the per-trainee aggregation and the DISTINCT counts stay in memory instead of
      spilling to disk.

    ``SET LOCAL`` ends with the transaction (the request's), so nothing leaks to other users of the
    connection. SQLite needs nothing.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))


# --------------------------------------------------------------------------------------------------
# Courses
# --------------------------------------------------------------------------------------------------


def course_conditions(scope: Scope, course=Course) -> list[ColumnElement[bool]]:
    """A course belongs to the report when its organizing unit is in the subtree and its END date is in the
    period (both days included). Drafts never count."""
    from bdg_training.access import subtree_select

    conditions = [course.end_date >= scope.start, course.end_date <= scope.end, course.status.notin_(rules.UNCOUNTED_COURSE_STATUSES)]
    if scope.unit_id is not None:
        conditions.append(course.unit_id.in_(subtree_select(scope.unit_id)))
    return conditions


def course_class_expr(course=Course) -> ColumnElement[str]:
    """``held`` / ``cancelled`` / ``upcoming`` in SQL (:func:`rules.course_class`)."""
    return case(
        (course.status.in_(rules.HELD_COURSE_STATUSES), literal("held")),
        (course.status.in_(rules.CANCELLED_COURSE_STATUSES), literal("cancelled")),
        else_=literal("upcoming"),
    )


def unit_key_expr(unit_id_column, scope: Scope) -> ColumnElement[int]:
    """The unit breakdown key in SQL, an integer: the unit id as it was, or (grouping by today's units) the id
    of the unit that carries it on today — a negative number for a group of several successors. Only the
    units whose key differs from their id are listed in the CASE."""
    changed = {unit_id: group for unit_id, group in scope.unit_groups.items() if unit_id != group}
    if scope.grouping != "now" or not changed:
        return unit_id_column
    return case(changed, value=unit_id_column, else_=unit_id_column)


def course_counts_statement(scope: Scope) -> Select:
    """Courses by (class, unit key, topic): small, additive; the dashboard sums them per dimension."""
    cls = course_class_expr()
    key = unit_key_expr(Course.unit_id, scope)
    return (
        select(cls.label("cls"), key.label("unit_key"), Course.topic_id, func.count(Course.id).label("n"))
        .where(*course_conditions(scope))
        .group_by(cls, key, Course.topic_id)
    )


def course_list_statement(
    scope: Scope, *, cls: str | None = None, unit_ids: Sequence[int] | None = None, topic: str | None = None
) -> Select:
    """The courses behind a course count (same conditions as :func:`course_counts_statement`)."""
    query = select(Course).where(*course_conditions(scope))
    if cls == "held":
        query = query.where(Course.status.in_(rules.HELD_COURSE_STATUSES))
    elif cls == "cancelled":
        query = query.where(Course.status.in_(rules.CANCELLED_COURSE_STATUSES))
    elif cls == "upcoming":
        query = query.where(Course.status.in_(rules.UPCOMING_COURSE_STATUSES))
    if unit_ids is not None:
        query = query.where(Course.unit_id.in_(list(unit_ids)))
    if topic is not None:
        query = query.where(Course.topic_id.is_(None) if topic == rules.UNKNOWN_KEY else Course.topic_id == _int(topic))
    return query.order_by(Course.end_date, Course.code)


def _int(text: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return -1


# --------------------------------------------------------------------------------------------------
# Enrolments: participations and certificates
# --------------------------------------------------------------------------------------------------


def attended_expr(enrollment=Enrollment) -> ColumnElement[bool]:
    """EXISTS a ``present`` attendance of this enrolment (semi-join; uses the (enrollment, session) index)."""
    return exists().where(Attendance.enrollment_id == enrollment.id, Attendance.status == rules.PRESENT)


def participation_expr(enrollment=Enrollment, course=Course) -> ColumnElement[bool]:
    """:func:`rules.is_participation` in SQL: confirmed, course held, present at ≥ 1 session."""
    return and_(enrollment.status == rules.PARTICIPATION_STATUS, course.status.in_(rules.HELD_COURSE_STATUSES), attended_expr(enrollment))


def certified_expr(enrollment=Enrollment) -> ColumnElement[bool] | None:
    """EXISTS a valid certificate of this enrolment (:func:`rules.counts_certificate`); ``None`` without the model."""
    certificate = certificate_model()
    if certificate is None:
        return None
    return exists().where(certificate.enrollment_id == enrollment.id, certificate.status == rules.VALID_CERTIFICATE_STATUS)


class ymd(FunctionElement):
    """``yyyymmdd`` of a date as an integer (:func:`rules.ymd_number`): 2026-01-05 → 20260105.

    SQLite stores a date as the text ``YYYY-MM-DD`` (SQLAlchemy's format), so dropping the dashes is exact and
    much cheaper than parsing it; PostgreSQL formats the date."""

    type = Integer()
    inherit_cache = True
    name = "ymd"


@compiles(ymd)
def _ymd_default(element, compiler, **kw):
    return f"CAST(to_char({compiler.process(list(element.clauses)[0], **kw)}, 'YYYYMMDD') AS INTEGER)"


@compiles(ymd, "sqlite")
def _ymd_sqlite(element, compiler, **kw):
    return f"CAST(replace(substr({compiler.process(list(element.clauses)[0], **kw)}, 1, 10), '-', '') AS INTEGER)"


def birth_ymd_expr(birth_date_column, birth_year_column) -> ColumnElement[int]:
    """:func:`rules.birth_number` in SQL: yyyymmdd of the birth date, else of 1 July of the birth year, else NULL."""
    month, day = rules.YEAR_ONLY_BIRTHDAY
    return func.coalesce(ymd(birth_date_column), birth_year_column * 10000 + (month * 100 + day))


def age_band_expr(end_ymd, birth_ymd) -> ColumnElement[str]:
    """:func:`rules.age_band` of :func:`rules.age_at` in SQL, from yyyymmdd integers: the age is
    ``(end − birth) // 10000``; ``unknown`` when the birth is unknown or after the end date."""
    diff = end_ymd - birth_ymd
    age = diff // 10000  # floor division of non-negative integers, the same on SQLite and PostgreSQL
    whens = [
        (birth_ymd.is_(None), literal(rules.AGE_UNKNOWN)),
        (end_ymd.is_(None), literal(rules.AGE_UNKNOWN)),
        (diff < 0, literal(rules.AGE_UNKNOWN)),
    ]
    whens += [(age < limit, literal(band)) for limit, band in rules.AGE_BAND_LIMITS]
    return case(*whens, else_=literal(rules.AGE_BAND_TOP))


def _materialize(cte):
    """Compute a CTE once. Not only for speed: SQLite would otherwise copy ``is_part``'s EXISTS into every
    expression that reads it (a dozen semi-joins per row instead of one)."""
    return cte.prefix_with("MATERIALIZED")


def enrolment_rows(scope: Scope, *, materialized: bool = True):
    """CTE ``e``: one row per enrolment of the period's counted courses (:func:`course_conditions`):
    ``enrollment_id``, ``trainee_id``, ``is_part`` (1 for a participation: :func:`participation_expr`, else 0),
    ``has_cert`` (1 with a valid certificate: :func:`certified_expr`), ``unit_key`` (an integer: the unit id,
    or its group today, see :class:`Scope`), ``topic_id``, ``end_ymd``, and the trainee's ``sex`` and
    ``birth_ymd``. Every join is a primary-key lookup: no plan depends on the planner's guesses.

    MATERIALIZED unless ``materialized=False`` — for a list that reads each column once, where letting the
    database push its filters inside is cheaper."""
    en, co, tr = Enrollment, Course, Trainee
    certified = certified_expr(en)
    query = (
        select(
            en.id.label("enrollment_id"),
            en.trainee_id.label("trainee_id"),
            case((participation_expr(en, co), 1), else_=0).label("is_part"),
            (case((certified, 1), else_=0) if certified is not None else literal(0)).label("has_cert"),
            unit_key_expr(co.unit_id, scope).label("unit_key"),
            co.topic_id.label("topic_id"),
            ymd(co.end_date).label("end_ymd"),
            tr.sex.label("sex"),
            birth_ymd_expr(tr.birth_date, tr.birth_year).label("birth_ymd"),
        )
        .select_from(en)
        .join(co, co.id == en.course_id)
        .join(tr, tr.id == en.trainee_id)
        .where(*course_conditions(scope, co))
    )
    if certified is None:  # without certificates only participation candidates matter: a cheaper scan
        query = query.where(en.status == rules.PARTICIPATION_STATUS, co.status.in_(rules.HELD_COURSE_STATUSES))
    cte = query.cte("e")
    return _materialize(cte) if materialized else cte


def trainee_keys(tr, trainee_unit) -> list:
    """The person-level keys of a trainee: ``target_group_key``, ``ethnicity_key`` (code of the TCTK-1979 list;
    ``list:code`` for another list; ``none``) and ``area_key`` (urban / rural from the trainee's unit; ``none``
    without a unit) — ``trainee_unit`` outer-joined on ``tr.unit_id``."""
    ethnicity = case(
        (tr.ethnicity_code.is_(None), literal(rules.UNKNOWN_KEY)),
        (tr.ethnicity_code_list == CODE_LIST, tr.ethnicity_code),
        else_=func.coalesce(tr.ethnicity_code_list, literal("")) + literal(":") + tr.ethnicity_code,
    )
    area = case(
        (trainee_unit.id.is_(None), literal(rules.UNKNOWN_KEY)), (trainee_unit.is_urban.is_(True), literal("urban")), else_=literal("rural")
    )
    return [
        func.coalesce(tr.target_group, literal(rules.UNKNOWN_KEY)).label("target_group_key"),
        ethnicity.label("ethnicity_key"),
        area.label("area_key"),
    ]


@dataclass(frozen=True)
class Counted:
    """The two CTEs every count is made of (see :func:`counted_rows`)."""

    enrolments: object  # e: every enrolment of the period's courses
    trainees: object  # t: one row per trainee with a participation or a certificate


def counted_rows(scope: Scope) -> Counted:
    """The counting rules as two CTEs (SQLite and PostgreSQL).

    * ``e`` — one row per enrolment of the period's counted courses (:func:`enrolment_rows`).
    * ``t`` — one row per trainee with a participation or a certificate: ``n_part``, ``n_cert``, ``last_ymd``
      (end date of their last participation: a person's age band is taken there, so each person is in one
      band), ``sex``, ``birth_ymd`` and the person-level keys (:func:`trainee_keys`).

    Both are MATERIALIZED: the dashboard's one statement reads each several times, and the person-level keys
    are computed once per *trainee*, not per enrolment.
    """
    e = enrolment_rows(scope)
    counts = or_(e.c.is_part == 1, e.c.has_cert == 1)
    grouped = (
        select(
            e.c.trainee_id,
            func.sum(e.c.is_part).label("n_part"),
            func.sum(e.c.has_cert).label("n_cert"),
            func.max(case((e.c.is_part == 1, e.c.end_ymd))).label("last_ymd"),
            func.min(e.c.sex).label("sex"),
            func.min(e.c.birth_ymd).label("birth_ymd"),
        )
        .where(counts)
        .group_by(e.c.trainee_id)
        .subquery("g")
    )
    tr, trainee_unit = Trainee, aliased(Unit, name="trainee_unit")
    t = _materialize(
        select(*grouped.c, *trainee_keys(tr, trainee_unit))
        .select_from(grouped)
        .join(tr, tr.id == grouped.c.trainee_id)
        .outerjoin(trainee_unit, trainee_unit.id == tr.unit_id)
        .cte("t")
    )
    return Counted(e, t)


def course_age_key(e) -> ColumnElement[str]:
    """An enrolment's age band: the trainee's age at the course's end date."""
    return age_band_expr(e.c.end_ymd, e.c.birth_ymd)


def person_age_key(t) -> ColumnElement[str]:
    """A person's age band: at the end date of their last participation in the period."""
    return age_band_expr(t.c.last_ymd, t.c.birth_ymd)


# Person-level dimensions are constant per trainee: the trainee CTE counts each person once, no DISTINCT.
PERSON_LEVEL: dict[str, str] = {"target_group": "target_group_key", "ethnicity": "ethnicity_key", "area": "area_key"}
COURSE_LEVEL: dict[str, str] = {"unit": "unit_key", "topic": "topic_id"}


def breakdown_statement(scope: Scope) -> Select:
    """ONE statement for every figure of the dashboard, as two additive "cubes" and two DISTINCT counts.

    Columns ``(part, age, target_group, ethnicity, area, unit_key, topic_id, sex, a, b, c)``:

    * ``"people"`` — per (person's age band, target group, ethnicity, area, sex) over the trainee CTE:
      ``a`` participations, ``b`` persons (trainees with ≥ 1 participation), ``c`` certificates. Every trainee
      is in exactly one cell, so the caller may add cells up per dimension and for the total;
    * ``"courses"`` — per (age band at the course's end date, unit key, topic, sex) over the counted
      enrolments: ``a`` participations and ``c`` certificates (additive); persons cannot be added there, so
    * ``"unit_person"`` / ``"topic_person"`` — ``b`` = COUNT(DISTINCT trainee) with a participation.

    The cubes have at most (bands × groups × ethnicities × 3 × 2) and (bands × units × topics × 2) rows,
    however many enrolments there are.
    """
    counted = counted_rows(scope)
    e, t = counted.enrolments, counted.trainees
    zero = literal(0)
    no_text, no_int = cast(null(), String), cast(null(), Integer)
    person_keys = (person_age_key(t), t.c.target_group_key, t.c.ethnicity_key, t.c.area_key)
    people = select(
        literal("people", String).label("part"),
        *(key.label(name) for key, name in zip(person_keys, ("age", "target_group", "ethnicity", "area"), strict=True)),
        no_int.label("unit_key"),
        no_int.label("topic_id"),
        t.c.sex,
        func.sum(t.c.n_part).label("a"),
        func.sum(case((t.c.n_part > 0, 1), else_=0)).label("b"),
        func.sum(t.c.n_cert).label("c"),
    ).group_by(*person_keys, t.c.sex)
    band = course_age_key(e)
    courses = (
        select(
            literal("courses", String),
            band,
            no_text,
            no_text,
            no_text,
            e.c.unit_key,
            e.c.topic_id,
            e.c.sex,
            func.sum(e.c.is_part),
            zero,
            func.sum(e.c.has_cert),
        )
        .where(or_(e.c.is_part == 1, e.c.has_cert == 1))
        .group_by(band, e.c.unit_key, e.c.topic_id, e.c.sex)
    )
    distinct_persons = func.count(distinct(e.c.trainee_id))
    unit_persons = (
        select(
            literal("unit_person", String), no_text, no_text, no_text, no_text, e.c.unit_key, no_int, e.c.sex, zero, distinct_persons, zero
        )
        .where(e.c.is_part == 1)
        .group_by(e.c.unit_key, e.c.sex)
    )
    topic_persons = (
        select(
            literal("topic_person", String), no_text, no_text, no_text, no_text, no_int, e.c.topic_id, e.c.sex, zero, distinct_persons, zero
        )
        .where(e.c.is_part == 1)
        .group_by(e.c.topic_id, e.c.sex)
    )
    return union_all(people, courses, unit_persons, topic_persons)


def _key_condition(column, key: str | int | None) -> ColumnElement[bool]:
    if key is None:
        return column.is_(None)
    return column == key


def drilldown_ids(scope: Scope, kind: str, *, sex: str | None = None, dim: str | None = None, key: str | int | None = None) -> Select:
    """The ids behind one number, with the dashboard's own definitions (the same CTE ``e``, the same key
    expressions), but without the parts a list does not need:

    * ``enrollments``: participations (enrolment ids); ``certificates``: enrolments with a valid certificate
      (age band at the course's end date);
    * ``people``: trainee ids with a participation; by age band: the band at their last participation
      (the trainee CTE of :func:`counted_rows`); by unit or topic: everyone with a participation there.

    ``key`` is the SQL value of the dimension column (``None`` matches NULL, e.g. a course without topic).
    """
    if kind == "people" and dim == "age":
        t = counted_rows(scope).trainees
        conditions = [t.c.n_part > 0, person_age_key(t) == key]
        if sex:
            conditions.append(t.c.sex == sex)
        return select(t.c.trainee_id).where(*conditions)
    e = enrolment_rows(scope, materialized=False)
    conditions = [e.c.has_cert == 1] if kind == "certificates" else [e.c.is_part == 1]
    if sex:
        conditions.append(e.c.sex == sex)
    column = e.c.trainee_id if kind == "people" else e.c.enrollment_id
    query = select(column).select_from(e)
    if dim == "age":
        conditions.append(course_age_key(e) == key)
    elif dim in COURSE_LEVEL:
        conditions.append(_key_condition(e.c[COURSE_LEVEL[dim]], key))
    elif dim:
        tr, trainee_unit = Trainee, aliased(Unit, name="trainee_unit")
        keys = {k.name: k.element for k in trainee_keys(tr, trainee_unit)}
        conditions.append(_key_condition(keys[PERSON_LEVEL[dim]], key))
        query = query.join(tr, tr.id == e.c.trainee_id).outerjoin(trainee_unit, trainee_unit.id == tr.unit_id)
    query = query.where(*conditions)
    return query.distinct() if kind == "people" else query


# --------------------------------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------------------------------


def plans_statement(unit_id: int | None, year: int) -> Select:
    """Plans of ``year`` whose unit is in the subtree of ``unit_id`` (every plan when ``None``)."""
    from bdg_training.access import subtree_select

    query = select(TrainingPlan).where(TrainingPlan.year == year)
    if unit_id is not None:
        query = query.where(TrainingPlan.unit_id.in_(subtree_select(unit_id)))
    return query


def plan_course_counts_statement(plan_ids: Sequence[int], year: int) -> Select:
    """Courses of each plan ending in ``year``, by class (held / cancelled / upcoming)."""
    cls = course_class_expr()
    return (
        select(Course.plan_id, cls.label("cls"), func.count(Course.id))
        .where(
            Course.plan_id.in_(list(plan_ids)),
            extract("year", Course.end_date) == year,
            Course.status.notin_(rules.UNCOUNTED_COURSE_STATUSES),
        )
        .group_by(Course.plan_id, cls)
    )


def plan_persons_statement(plan_ids: Sequence[int], year: int) -> Select:
    """Persons (distinct trainees with a participation) per plan and sex, in the plan's courses ending in ``year``."""
    return (
        select(Course.plan_id, Trainee.sex, func.count(distinct(Enrollment.trainee_id)))
        .select_from(Enrollment)
        .join(Course, Course.id == Enrollment.course_id)
        .join(Trainee, Trainee.id == Enrollment.trainee_id)
        .where(Course.plan_id.in_(list(plan_ids)), extract("year", Course.end_date) == year, participation_expr())
        .group_by(Course.plan_id, Trainee.sex)
    )


# --------------------------------------------------------------------------------------------------
# Learning (pre/post)
# --------------------------------------------------------------------------------------------------


def learning_statement(scope: Scope) -> Select | None:
    """ONE query for the learning figures: per (sex, topic) of the period's participations, the number of
    matched pairs (a completed pre- AND post-test with a score), the sums of their pre and post scores in
    hundredths (integers: exact on SQLite, where a numeric is stored as a float), and the numbers of
    pre-only and post-only participations. ``None`` without the assessments feature."""
    attempt = attempt_model()
    if attempt is None:
        return None
    from bdg_training.assessments.rules import COMPLETED, POST, PRE

    pre, post = aliased(attempt, name="pre"), aliased(attempt, name="post")
    both = and_(pre.id.is_not(None), post.id.is_not(None))

    def hundredths(score):
        return cast(func.round(score * rules.SCORE_SCALE), Integer)

    return (
        select(
            Trainee.sex,
            Course.topic_id,
            func.sum(case((both, 1), else_=0)),
            func.coalesce(func.sum(case((both, hundredths(pre.score)))), 0),
            func.coalesce(func.sum(case((both, hundredths(post.score)))), 0),
            func.sum(case((and_(pre.id.is_not(None), post.id.is_(None)), 1), else_=0)),
            func.sum(case((and_(pre.id.is_(None), post.id.is_not(None)), 1), else_=0)),
        )
        .select_from(Enrollment)
        .join(Course, Course.id == Enrollment.course_id)
        .join(Trainee, Trainee.id == Enrollment.trainee_id)
        .outerjoin(pre, and_(pre.enrollment_id == Enrollment.id, pre.kind == PRE, pre.status == COMPLETED, pre.score.is_not(None)))
        .outerjoin(post, and_(post.enrollment_id == Enrollment.id, post.kind == POST, post.status == COMPLETED, post.score.is_not(None)))
        .where(*course_conditions(scope), participation_expr())
        .group_by(Trainee.sex, Course.topic_id)
    )
