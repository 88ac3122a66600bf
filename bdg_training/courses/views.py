"""Courses (lớp tập huấn), their sessions, annual plans (kế hoạch năm), topics (chủ đề), the month
calendar, and the public catalogue with its iCalendar feeds.

Access: staff pages are for organizers (and admins), scoped to the organizer's unit subtree —
another unit's course, session or plan answers 404. Topics are admin-only. Public (anonymous)
pages: the catalogue of open courses, a published course's public page, and its ``.ics`` feed
(see ``ical``).
"""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from bdg_training.access import admin_required, ensure_in_scope, get_scoped_or_404, in_scope, public, roles_required, scope_filter
from bdg_training.actions import perform
from bdg_training.courses import rules, services
from bdg_training.courses.forms import CancelForm, CloneForm, CourseForm, PlanForm, SessionForm, TopicForm
from bdg_training.courses.models import Course, CourseSession, Topic, TrainingPlan
from bdg_training.database import utcnow
from bdg_training.enrollment.rules import TARGET_GROUPS
from bdg_training.extensions import db
from bdg_training.forms import BaseForm
from bdg_training.rules_base import RuleViolation
from bdg_training.units.models import Signer, Unit
from bdg_training.units.services import unit_choices

bp = Blueprint("courses", __name__, url_prefix="/courses")

organizer_required = roles_required("organizer")


def vnum(value) -> str:
    """A number the Vietnamese way, without useless zeros: 5.00 → "5", 5.50 → "5,5", 80 → "80"."""
    if value is None:
        return ""
    return format(Decimal(str(value)).normalize(), "f").replace(".", ",")


@bp.context_processor
def _helpers() -> dict:
    return {"vnum": vnum}


def _int_arg(name: str, minimum: int = 0, maximum: int = 2**31 - 1) -> int | None:
    """A whole number from the query string, or ``None`` when absent or not one: ASCII digits only
    ("²".isdigit() is true, int("²") fails) and within ``minimum``…``maximum`` — by default what a
    database integer column holds, so that a huge id is "not found" instead of a database error."""
    value = (request.args.get(name) or "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        return None
    number = int(value)
    return number if minimum <= number <= maximum else None


def _year_arg(name: str = "year") -> int | None:
    return _int_arg(name, minimum=1, maximum=9999)  # what a date can hold


def _merge_errors(form, errors: dict[str, list[str]]) -> None:
    """Attach rule errors to fields that parsed (a field already showing a parse error, e.g.
    "Ngày không hợp lệ", does not also get "Vui lòng nhập ngày"); the rest go to the form."""
    for key, messages in errors.items():
        target = _field(form, key)
        if target is None:
            form.form_errors.extend(m for m in messages if m not in form.form_errors)
        elif not target.errors:
            target.errors = list(messages)


def _field(form, key: str):
    """The field for an error key: "title", or "targets.2.indicator" inside a FieldList."""
    if not key:
        return None
    obj = form
    for part in key.split("."):
        if part.isdigit():
            try:
                obj = obj[int(part)].form
            except (IndexError, TypeError, AttributeError):
                return None
        else:
            obj = getattr(obj, part, None)
            if obj is None:
                return None
    return obj if hasattr(obj, "errors") else None


def _registration(course: Course, now):
    """Registration state, its message in Vietnam time (the rules format the datetimes given)."""
    tz = services.local_tz()

    def local(value):
        value = services.utc(value)
        return value.astimezone(tz) if value is not None else None

    return rules.registration_state(course.status, local(course.reg_opens_at), local(course.reg_closes_at), now.astimezone(tz))


# --------------------------------------------------------------------------------------------
# Course list, detail, create, edit
# --------------------------------------------------------------------------------------------
@bp.get("/")
@organizer_required
def index():
    unit_id, year, topic_id = _int_arg("unit"), _year_arg(), _int_arg("topic")
    status = request.args.get("status") or ""
    q = (request.args.get("q") or "").strip()
    if unit_id is not None:
        ensure_in_scope(unit_id)
    query = services.course_query(unit_id=unit_id, year=year, topic_id=topic_id, status=status or None, q=q)
    page = db.paginate(query, per_page=current_app.config["PER_PAGE"], error_out=False)
    return render_template(
        "courses/index.html",
        page=page,
        filters={"unit": unit_id, "year": year, "topic": topic_id, "status": status, "q": q},
        units=unit_choices(),
        years=services.course_years(),
        topics=services.topics(),
        statuses=rules.COURSE_STATUS_CHOICES,
    )


def _signer_label(signer: Signer) -> str:
    return f"{signer.full_name} — {' '.join(signer.block[:-1])} ({signer.unit.label()})"


def _course_form(course: Course | None = None) -> CourseForm:
    form = CourseForm(obj=course)
    units = unit_choices()
    unit_ids = {i for i, _ in units}
    if course is not None and course.unit_id not in unit_ids:
        units.append((course.unit_id, course.unit.label()))
    form.unit_id.choices = [("", "— Chọn đơn vị —"), *units]
    form.topic_id.choices = [("", "— Chọn chủ đề —"), *services.topic_choices(course.topic_id if course else None)]
    form.plan_id.choices = [
        ("", "Tự động: kế hoạch của đơn vị trong năm kết thúc lớp (nếu có)"),
        *services.plan_choices(include_id=course.plan_id if course else None),
    ]
    issuers = list(units)
    if course is not None and course.issuing_unit_id and course.issuing_unit_id not in {i for i, _ in issuers}:
        issuers.append((course.issuing_unit_id, course.issuing_unit.label()))
    form.issuing_unit_id.choices = [("", "— Theo người ký (để trống) —"), *issuers]
    signers = db.session.scalars(
        select(Signer)
        .where(scope_filter(Signer.unit_id) | (Signer.id == (course.signer_id if course and course.signer_id else 0)))
        .options(joinedload(Signer.unit))
        .order_by(Signer.full_name)
    ).all()
    today = services.local_today()
    form.signer_id.choices = [
        ("", "— Chưa chọn —"),
        *[(s.id, _signer_label(s)) for s in signers if s.is_active_on(today) or (course and s.id == course.signer_id)],
    ]
    return form


def _save_course(form: CourseForm, course: Course | None):
    """Validate the form and the rules together (every error shown at once); save if clean."""
    parsed = form.validate()
    values = form.values()
    if parsed:
        try:
            if course is None:
                return services.create_course(current_user, **values)
            return services.update_course(current_user, course, **values)
        except RuleViolation as exc:
            _merge_errors(form, exc.errors)
            return None
    _merge_errors(form, services.course_form_errors(current_user, values, course))
    return None


@bp.route("/new", methods=["GET", "POST"])
@organizer_required
def new():
    form = _course_form()
    if request.method == "GET":
        plan = db.session.get(TrainingPlan, _int_arg("plan_id")) if _int_arg("plan_id") else None
        if plan is not None and in_scope(plan.unit_id):
            form.plan_id.data, form.unit_id.data = plan.id, plan.unit_id
        else:
            form.unit_id.data = current_user.unit_id if current_user.unit_id in {c[0] for c in form.unit_id.choices} else None
        unit = db.session.get(Unit, form.unit_id.data) if form.unit_id.data else None
        form.code.data = services.next_code(unit, plan.year if plan else services.local_today().year) if unit else ""
        form.pass_mark.data, form.min_attendance_pct.data = Decimal("5"), Decimal("80")
    if request.method == "POST":
        course = _save_course(form, None)
        if course is not None:
            db.session.commit()
            flash(f"Đã tạo lớp {course.code}. Hãy thêm các buổi học rồi mở đăng ký.", "success")
            return redirect(url_for("courses.detail", course_id=course.id))
    return render_template("courses/form.html", form=form, course=None, target_groups=TARGET_GROUPS)


@bp.get("/<int:course_id>")
@organizer_required
def detail(course_id: int):
    course = get_scoped_or_404(Course, course_id)
    now = utcnow()
    state = _registration(course, now)
    transitions = [(t, rules.transition_action(course.status, t)) for t in rules.allowed_transitions(course.status)]
    return render_template(
        "courses/detail.html",
        course=course,
        state=state,
        transitions=transitions,
        clashes=services.course_clash_warnings(course, actor=current_user),
        target_groups=TARGET_GROUPS,
        can_edit=rules.can_edit_course(course.status),
        can_add_session=rules.can_add_session(course.status),
        can_delete=rules.can_delete(course.status),
        cloned_from=_visible_course(course.cloned_from_id),
    )


def _visible_course(course_id: int | None) -> Course | None:
    other = db.session.get(Course, course_id) if course_id else None
    return other if other is not None and in_scope(other.unit_id) else None


@bp.route("/<int:course_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit(course_id: int):
    course = get_scoped_or_404(Course, course_id)
    if not rules.can_edit_course(course.status):
        flash(f"Lớp “{course.status_label}” không thể sửa.", "warning")
        return redirect(url_for("courses.detail", course_id=course.id))
    form = _course_form(course)
    if request.method == "GET":
        form.target_groups.data = list(course.target_groups or [])
    if request.method == "POST" and _save_course(form, course) is not None:
        db.session.commit()
        flash("Đã lưu lớp.", "success")
        return redirect(url_for("courses.detail", course_id=course.id))
    return render_template("courses/form.html", form=form, course=course, target_groups=TARGET_GROUPS)


@bp.post("/<int:course_id>/status")
@organizer_required
def transition(course_id: int):
    course = get_scoped_or_404(Course, course_id)
    target = request.form.get("target", "")
    if target == rules.CANCELLED:
        return redirect(url_for("courses.cancel", course_id=course.id))
    try:
        services.change_status(current_user, course, target, now=utcnow())
    except RuleViolation as exc:
        db.session.rollback()
        for message in exc.messages:
            flash(message, "danger")
    else:
        db.session.commit()
        flash(f"Lớp {course.code}: {course.status_label}.", "success")
    return redirect(url_for("courses.detail", course_id=course.id))


@bp.route("/<int:course_id>/cancel", methods=["GET", "POST"])
@organizer_required
def cancel(course_id: int):
    course = get_scoped_or_404(Course, course_id)
    if rules.CANCELLED not in rules.allowed_transitions(course.status):
        flash(f"Lớp “{course.status_label}” không thể hủy.", "warning")
        return redirect(url_for("courses.detail", course_id=course.id))
    form = CancelForm()
    if form.validate_on_submit():
        done = perform(lambda: services.change_status(current_user, course, rules.CANCELLED, now=utcnow(), reason=form.reason.data), form)
        if done:
            flash(f"Đã hủy lớp {course.code}.", "success")
            return redirect(url_for("courses.detail", course_id=course.id))
    return render_template("courses/cancel.html", form=form, course=course)


@bp.post("/<int:course_id>/delete")
@organizer_required
def delete(course_id: int):
    course = get_scoped_or_404(Course, course_id)
    code = course.code
    if not perform(lambda: services.delete_course(current_user, course)):
        return redirect(url_for("courses.detail", course_id=course_id))
    flash(f"Đã xóa lớp nháp {code}.", "success")
    return redirect(url_for("courses.index"))


@bp.route("/<int:course_id>/clone", methods=["GET", "POST"])
@organizer_required
def clone(course_id: int):
    course = get_scoped_or_404(Course, course_id)
    form = CloneForm()
    form.unit_id.choices = [("", "— Chọn đơn vị —"), *unit_choices()]
    if request.method == "GET":
        unit_ids = {c[0] for c in form.unit_id.choices}
        form.unit_id.data = course.unit_id if course.unit_id in unit_ids and not course.unit.is_closed() else current_user.unit_id
        form.start_date.data = rules.shift_to_next_year(course.start_date)
        form.title.data = course.title
    if form.validate_on_submit():
        try:
            new_course = services.clone_course(
                current_user,
                course,
                unit_id=form.unit_id.data,
                start_date=form.start_date.data,
                keep_weekday=form.keep_weekday.data,
                code=form.code.data,
                title=form.title.data,
            )
        except RuleViolation as exc:
            db.session.rollback()
            _merge_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(f"Đã nhân bản thành lớp nháp {new_course.code} với {len(new_course.sessions)} buổi học.", "success")
            return redirect(url_for("courses.detail", course_id=new_course.id))
    return render_template("courses/clone.html", form=form, course=course)


# --------------------------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------------------------
def _session_or_404(course: Course, session_id: int) -> CourseSession:
    session = db.session.get(CourseSession, session_id)
    if session is None or session.course_id != course.id:
        abort(404)
    return session


def _flash_clashes(warnings: list[str]) -> None:
    for warning in warnings:
        flash("Cảnh báo trùng lịch: " + warning, "warning")


@bp.route("/<int:course_id>/sessions/new", methods=["GET", "POST"])
@organizer_required
def session_new(course_id: int):
    course = get_scoped_or_404(Course, course_id)
    if not rules.can_add_session(course.status):
        flash(f"Lớp “{course.status_label}” không thể thêm buổi học.", "warning")
        return redirect(url_for("courses.detail", course_id=course.id))
    form = SessionForm()
    form.venue.render_kw = {"placeholder": course.venue or ""}
    if request.method == "GET":
        last = course.sessions[-1] if course.sessions else None
        form.date.data = min(last.date + timedelta(days=1), course.end_date) if last else course.start_date
        form.start_time.data = last.start_time if last else time(7, 30)
        form.end_time.data = last.end_time if last else time(11, 0)
        form.trainer.data = last.trainer if last else None
    if request.method == "POST":
        if not form.validate():
            _merge_errors(form, services.session_errors_for(course, form.values()))
        else:
            try:
                _, warnings = services.add_session(current_user, course, **form.values())
            except RuleViolation as exc:
                db.session.rollback()
                _merge_errors(form, exc.errors)
            else:
                db.session.commit()
                flash("Đã thêm buổi học.", "success")
                _flash_clashes(warnings)
                return redirect(url_for("courses.detail", course_id=course.id))
    return render_template("courses/session_form.html", form=form, course=course, session=None)


@bp.route("/<int:course_id>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@organizer_required
def session_edit(course_id: int, session_id: int):
    course = get_scoped_or_404(Course, course_id)
    session = _session_or_404(course, session_id)
    if not rules.can_add_session(course.status):
        flash(f"Lớp “{course.status_label}” không thể sửa buổi học.", "warning")
        return redirect(url_for("courses.detail", course_id=course.id))
    form = SessionForm(obj=session)
    form.venue.render_kw = {"placeholder": course.venue or ""}
    if request.method == "POST":
        if not form.validate():
            _merge_errors(form, services.session_errors_for(course, form.values(), session))
        else:
            try:
                warnings = services.update_session(current_user, session, **form.values())
            except RuleViolation as exc:
                db.session.rollback()
                _merge_errors(form, exc.errors)
            else:
                db.session.commit()
                flash("Đã lưu buổi học.", "success")
                _flash_clashes(warnings)
                return redirect(url_for("courses.detail", course_id=course.id))
    return render_template("courses/session_form.html", form=form, course=course, session=session)


@bp.post("/<int:course_id>/sessions/<int:session_id>/delete")
@organizer_required
def session_delete(course_id: int, session_id: int):
    course = get_scoped_or_404(Course, course_id)
    session = _session_or_404(course, session_id)
    if perform(lambda: services.delete_session(current_user, session)):
        flash("Đã xóa buổi học.", "success")
    return redirect(url_for("courses.detail", course_id=course.id))


# --------------------------------------------------------------------------------------------
# Month calendar
# --------------------------------------------------------------------------------------------
@bp.get("/calendar")
@organizer_required
def calendar():
    today = services.local_today()
    year, month = rules.parse_month(request.args.get("month"), (today.year, today.month))
    unit_id = _int_arg("unit")
    if unit_id is not None:
        ensure_in_scope(unit_id)
    first, last = rules.month_bounds(year, month)
    days = services.calendar_sessions(first=first, last=last, root_unit_id=unit_id)
    prev_month, next_month = rules.add_months(year, month, -1), rules.add_months(year, month, 1)
    return render_template(
        "courses/calendar.html",
        year=year,
        month=month,
        label=rules.month_label(year, month),
        weeks=rules.month_grid(year, month),
        weekdays=rules.WEEKDAY_LABELS,
        days=days,
        today=today,
        unit_id=unit_id,
        units=unit_choices(),
        prev_arg=f"{prev_month[0]:04d}-{prev_month[1]:02d}",
        next_arg=f"{next_month[0]:04d}-{next_month[1]:02d}",
        this_arg=f"{today.year:04d}-{today.month:02d}",
        count=sum(len(v) for v in days.values()),
    )


# --------------------------------------------------------------------------------------------
# Public: catalogue, course page, iCalendar
# --------------------------------------------------------------------------------------------


@bp.get("/catalogue")
@public
def catalogue():
    now = utcnow()
    q = (request.args.get("q") or "").strip()
    topic_id = _int_arg("topic")
    query = services.catalogue_query(now=now, today=services.local_today(now), q=q, topic_id=topic_id)
    page = db.paginate(query, per_page=current_app.config["PER_PAGE"], error_out=False)
    states = {course.id: _registration(course, now) for course in page.items}
    return render_template(
        "courses/catalogue.html", page=page, states=states, q=q, topic_id=topic_id, topics=services.topics(active_only=True), target_groups=TARGET_GROUPS
    )


@bp.get("/catalogue/<int:course_id>")
@public
def public_detail(course_id: int):
    course = db.session.scalar(
        select(Course).where(Course.id == course_id).options(joinedload(Course.topic), joinedload(Course.unit), selectinload(Course.sessions))
    )
    if course is None or not course.is_public:
        abort(404)
    return render_template("courses/public_detail.html", course=course, state=_registration(course, utcnow()), target_groups=TARGET_GROUPS)


def _is_staff_in_scope(course: Course) -> bool:
    return current_user.is_authenticated and current_user.role in ("admin", "organizer") and in_scope(course.unit_id)


@bp.get("/<int:course_id>/calendar.ics")
@public
def ical(course_id: int):
    """The sessions of a course as an iCalendar feed.

    Public once the course was published (opened for registration at least once — see
    :func:`rules.is_public`); a draft (or a course cancelled before publication) only for
    organizers in scope, and 404 for everyone else.
    """
    course = db.session.get(Course, course_id)
    if course is None or not (course.is_public or _is_staff_in_scope(course)):
        abort(404)
    public_url = current_app.config["BASE_URL"] + url_for("courses.public_detail", course_id=course.id) if course.is_public else None
    body = services.course_ical(course, now=utcnow(), base_url=current_app.config["BASE_URL"], public_url=public_url)
    response = Response(body, content_type="text/calendar; charset=utf-8")
    safe_name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in course.code) or "lop"
    response.headers["Content-Disposition"] = f'inline; filename="{safe_name}.ics"'
    if not course.is_public:
        response.headers["Cache-Control"] = "private, no-store"
    return response


# --------------------------------------------------------------------------------------------
# Annual plans
# --------------------------------------------------------------------------------------------
@bp.get("/plans")
@organizer_required
def plans():
    today = services.local_today()
    year = _year_arg() or today.year
    unit_id = _int_arg("unit")
    if unit_id is not None:
        ensure_in_scope(unit_id)
    rows = services.plans_for_year(year, root_unit_id=unit_id)
    summaries = services.plan_summaries(rows)
    totals = {
        "planned_courses": sum(s.planned_courses for s in summaries.values()),
        "scheduled_courses": sum(s.scheduled_courses for s in summaries.values()),
        "finished_courses": sum(s.finished_courses for s in summaries.values()),
        "cancelled_courses": sum(s.cancelled_courses for s in summaries.values()),
        "planned_trainees": sum(s.planned_trainees for s in summaries.values()),
    }
    years = sorted(set(services.plan_years()) | {today.year, today.year + 1, year}, reverse=True)
    return render_template(
        "courses/plans.html", plans=rows, summaries=summaries, totals=totals, year=year, years=years, unit_id=unit_id, units=unit_choices()
    )


def _plan_form(plan: TrainingPlan | None = None) -> PlanForm:
    # On POST the submitted rows are the whole truth: binding ``obj`` too would fill a row's
    # missing fields from the stored target at the same index.
    form = PlanForm(obj=plan if request.method == "GET" else None)
    form.unit_id.choices = [("", "— Chọn đơn vị —"), *unit_choices()]
    return form


def _plan_page(form: PlanForm, plan: TrainingPlan | None):
    return render_template("courses/plan_form.html", form=form, plan=plan)


def _save_plan(form: PlanForm, plan: TrainingPlan | None):
    if "add_row" in request.form:  # "Thêm dòng": re-show the form with one more empty row
        form.targets.append_entry()
        return None
    parsed = form.validate()
    values = {k: getattr(form, k).data for k in services.PLAN_FIELDS}
    values["source_document"] = values["source_document"] or None
    values["note"] = values["note"] or None
    if not parsed:
        _merge_errors(form, services.plan_form_errors(current_user, values, form.target_values(), plan))
        return None
    try:
        if plan is None:
            return services.create_plan(current_user, targets=form.target_values(), **values)
        return services.update_plan(current_user, plan, targets=form.target_values(), **values)
    except RuleViolation as exc:
        db.session.rollback()
        _merge_errors(form, exc.errors)
        return None


@bp.route("/plans/new", methods=["GET", "POST"])
@organizer_required
def plan_new():
    form = _plan_form()
    if request.method == "GET":
        form.year.data = _year_arg() or services.local_today().year
        unit_id = _int_arg("unit") or current_user.unit_id
        form.unit_id.data = unit_id if unit_id in {c[0] for c in form.unit_id.choices} else None
        form.planned_courses.data, form.planned_trainees.data = 0, 0
        for _ in range(3):
            form.targets.append_entry()
    if request.method == "POST":
        plan = _save_plan(form, None)
        if plan is not None:
            db.session.commit()
            flash(f"Đã lập kế hoạch năm {plan.year} của {plan.unit.label()}.", "success")
            return redirect(url_for("courses.plan_detail", plan_id=plan.id))
    return _plan_page(form, None)


@bp.get("/plans/<int:plan_id>")
@organizer_required
def plan_detail(plan_id: int):
    plan = get_scoped_or_404(TrainingPlan, plan_id)
    courses = db.session.scalars(
        select(Course)
        .where(Course.plan_id == plan.id, scope_filter(Course.unit_id))
        .options(joinedload(Course.topic), joinedload(Course.unit), selectinload(Course.sessions))
        .order_by(Course.start_date, Course.id)
    ).all()
    return render_template("courses/plan_detail.html", plan=plan, summary=services.plan_summary(plan), courses=courses)


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@organizer_required
def plan_edit(plan_id: int):
    plan = get_scoped_or_404(TrainingPlan, plan_id)
    form = _plan_form(plan)
    if request.method == "GET":
        for _ in range(2):
            form.targets.append_entry()
    if request.method == "POST":
        saved = _save_plan(form, plan)
        if saved is not None:
            db.session.commit()
            flash("Đã lưu kế hoạch.", "success")
            return redirect(url_for("courses.plan_detail", plan_id=plan.id))
    return _plan_page(form, plan)


@bp.post("/plans/<int:plan_id>/delete")
@organizer_required
def plan_delete(plan_id: int):
    plan = get_scoped_or_404(TrainingPlan, plan_id)
    year = plan.year
    if not perform(lambda: services.delete_plan(current_user, plan)):
        return redirect(url_for("courses.plan_detail", plan_id=plan_id))
    flash("Đã xóa kế hoạch.", "success")
    return redirect(url_for("courses.plans", year=year))


# --------------------------------------------------------------------------------------------
# Topics (admin)
# --------------------------------------------------------------------------------------------
@bp.get("/topics")
@admin_required
def topics():
    from sqlalchemy import func

    counts = dict(db.session.execute(select(Course.topic_id, func.count(Course.id)).group_by(Course.topic_id)).all())
    return render_template("courses/topics.html", topics=services.topics(), counts=counts, missing=services.missing_default_topics())


@bp.post("/topics/defaults")
@admin_required
def topic_defaults():
    added = services.add_default_topics(current_user)
    db.session.commit()
    flash(f"Đã thêm {len(added)} chủ đề mặc định." if added else "Đã có đủ các chủ đề mặc định.", "success")
    return redirect(url_for("courses.topics"))


def _topic_values(form: TopicForm) -> dict:
    return {
        "name": form.name.data or "",
        "description": form.description.data or None,
        "sort_order": form.sort_order.data or 0,
        "active": bool(form.active.data),
    }


@bp.route("/topics/new", methods=["GET", "POST"])
@admin_required
def topic_new():
    form = TopicForm()
    if form.validate_on_submit():
        done = perform(lambda: services.create_topic(current_user, **_topic_values(form)), form)
        if done:
            flash(f"Đã thêm chủ đề “{done.value.name}”.", "success")
            return redirect(url_for("courses.topics"))
    return render_template("courses/topic_form.html", form=form, topic=None)


@bp.route("/topics/<int:topic_id>/edit", methods=["GET", "POST"])
@admin_required
def topic_edit(topic_id: int):
    topic = db.get_or_404(Topic, topic_id)
    form = TopicForm(obj=topic)
    if form.validate_on_submit():
        done = perform(lambda: services.update_topic(current_user, topic, **_topic_values(form)), form)
        if done:
            flash("Đã lưu chủ đề.", "success")
            return redirect(url_for("courses.topics"))
    return render_template("courses/topic_form.html", form=form, topic=topic, delete_form=BaseForm())


@bp.post("/topics/<int:topic_id>/delete")
@admin_required
def topic_delete(topic_id: int):
    topic = db.get_or_404(Topic, topic_id)
    if not perform(lambda: services.delete_topic(current_user, topic)):
        return redirect(url_for("courses.topic_edit", topic_id=topic_id))
    flash("Đã xóa chủ đề.", "success")
    return redirect(url_for("courses.topics"))


