"""Trainees, registration, waiting list, class lists, attendance, import (blueprint "enrollment").

Who sees what:

- anyone: self sign-up (``/signup``) and a published course's registration page
  (``/register/<course>``), where a guest creates trainee + account and registers in one step
  (both rate-limited per IP);
- a trainee (role "trainee" only): their profile, their courses with status and waitlist
  position, registration, confirmation, withdrawal — their own records and nobody else's (404);
- an organizer (admin passes): trainees, class lists, enrolment, approval, attendance, import and
  exports of courses in their unit subtree (404 outside it);
- an admin: likely duplicates and merge; full personal IDs on request (audited).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from bdg_training.access import admin_required, get_scoped_or_404, in_scope, public, roles_required, scope_filter, trainee_required
from bdg_training.actions import perform
from bdg_training.audit.services import record
from bdg_training.clock import local_tz
from bdg_training.courses import rules as course_rules
from bdg_training.courses.models import Course, CourseSession
from bdg_training.database import as_utc, serialized_writes, utcnow
from bdg_training.downloads import attachment
from bdg_training.enrollment import exports, importer, rules, services
from bdg_training.enrollment.forms import DecisionForm, ImportForm, ProfileForm, SignUpForm, TraineeForm
from bdg_training.enrollment.models import Enrollment, ImportBatch, Trainee
from bdg_training.ethnicity import ethnicity_by_code
from bdg_training.extensions import db, limiter
from bdg_training.forms import BaseForm, apply_rule_errors, parse_id, parse_ids
from bdg_training.rules_base import RuleViolation
from bdg_training.text import fold, sort_key
from bdg_training.units.models import Unit
from bdg_training.units.services import unit_choices
from bdg_training.vn import display_phone, mask_id

bp = Blueprint("enrollment", __name__)

organizer_required = roles_required("organizer")


@bp.context_processor
def _helpers() -> dict:
    def ethnicity_name(code: str | None) -> str:
        found = ethnicity_by_code(code)
        return found.name if found else (code or "")

    return {"mask_id": mask_id, "display_phone": display_phone, "ethnicity_name": ethnicity_name}


def _signup_limit() -> str:
    return current_app.config.get("SIGNUP_LIMIT_PER_IP", "10 per hour")


def _registration_state(course: Course, now):
    """The state, with its message in Vietnam time (the rules format the datetimes they are given)."""
    tz = local_tz()

    def local(value):
        value = as_utc(value)
        return value.astimezone(tz) if value is not None else None

    return course_rules.registration_state(course.status, local(course.reg_opens_at), local(course.reg_closes_at), as_utc(now).astimezone(tz))


def _my_trainee() -> Trainee | None:
    return db.session.scalar(select(Trainee).where(Trainee.user_id == current_user.id))


def _public_unit_choices() -> list[tuple[str | int, str]]:
    """Every unit valid today, for people signing themselves up (units are not secret)."""
    today = services.local_today()
    units = db.session.scalars(select(Unit).where((Unit.valid_to.is_(None)) | (Unit.valid_to >= today))).all()
    return [("", "— Không chọn —"), *sorted(((u.id, u.label(today)) for u in units), key=lambda item: sort_key(item[1]))]


def _clean(form: TraineeForm) -> rules.CleanTrainee:
    return rules.clean_trainee(form.to_input(), services.local_today())


def _validated(form: TraineeForm) -> rules.CleanTrainee | None:
    """Check a submitted trainee form: the form's own validators *and* the trainee rules, so every
    problem shows at once. Returns the clean trainee, or ``None`` (errors are on the form)."""
    if not form.is_submitted():
        return None
    ok = form.validate()
    try:
        clean = _clean(form)
    except RuleViolation as exc:
        for key, messages in exc.errors.items():
            target = getattr(form, key, None) if key else None
            if target is None or not hasattr(target, "errors"):
                form.form_errors.extend(messages)
            elif not target.errors:
                target.errors = list(messages)
        return None
    return clean if ok else None


def _audit_read(action: str, obj, summary: str, **values) -> None:
    """Log a view or export of personal data from a GET request. The read transaction is ended
    first and the event written in its own serialized one, so on SQLite it cannot collide with
    a write that committed while the page was being read."""
    db.session.commit()
    with serialized_writes():
        record(current_user, action, obj, summary, **values)
        db.session.commit()


def _flash_warnings(clean: rules.CleanTrainee) -> None:
    for warning in clean.warnings:
        flash(f"Lưu ý: {warning}. Hãy kiểm tra lại số định danh.", "warning")


# --------------------------------------------------------------------------------------------
# Public: sign-up and registration
# --------------------------------------------------------------------------------------------
@bp.route("/signup", methods=["GET", "POST"])
@public
@limiter.limit(_signup_limit, methods=["POST"])
def signup():
    """Self sign-up: a trainee record and an account (login = phone number)."""
    if current_user.is_authenticated:
        return redirect(url_for("enrollment.my_courses" if current_user.role == "trainee" else "main.index"))
    form = SignUpForm()
    form.unit_id.choices = _public_unit_choices()
    if (clean := _validated(form)) is not None:
        done = perform(lambda: services.sign_up(clean, password=form.password.data, unit_id=form.unit_id.data, now=utcnow()), form)
        if done:
            user, _ = done.value
            login_user(user)
            flash(f"Đã tạo tài khoản. Tên đăng nhập của bạn là {user.username} (số điện thoại).", "success")
            _flash_warnings(clean)
            return redirect(url_for("enrollment.my_courses"))
    return render_template("enrollment/signup.html", form=form, course=None, state=None)


@bp.route("/register/<int:course_id>", methods=["GET", "POST"])
@public
@limiter.limit(_signup_limit, methods=["POST"])
def register(course_id: int):
    """A published course's registration page. Anonymous: the guest form (trainee + account +
    registration in one step). A signed-in trainee: one button. Staff: a pointer to the class list."""
    course = db.session.scalar(
        select(Course).where(Course.id == course_id).options(joinedload(Course.unit), selectinload(Course.sessions))
    )
    if course is None or not course.is_public:
        abort(404)
    now = utcnow()
    state = _registration_state(course, now)
    confirmed, _ = services.seat_counts(course.id)
    full = state.is_open and not course.needs_approval and rules.free_seats(course.capacity, confirmed) == 0  # told before registering
    if current_user.is_authenticated:
        if request.method == "POST":
            return redirect(url_for("enrollment.register", course_id=course.id))
        mine = None
        if current_user.role == "trainee" and (trainee := _my_trainee()) is not None:
            mine = db.session.scalar(select(Enrollment).where(Enrollment.course_id == course.id, Enrollment.trainee_id == trainee.id))
        return render_template("enrollment/register.html", course=course, state=state, full=full, form=None, mine=mine, action_form=BaseForm())
    form = SignUpForm()
    form.unit_id.choices = _public_unit_choices()
    if state.is_open and (clean := _validated(form)) is not None:

        def sign_up_and_register():
            user, trainee = services.sign_up(clean, password=form.password.data, unit_id=form.unit_id.data, now=now)
            return user, services.register(user, course.id, trainee, now=now)

        done = perform(sign_up_and_register, form)
        if done:
            user, enrollment = done.value
            login_user(user)
            flash(f"Đã tạo tài khoản (tên đăng nhập: {user.username}) và ghi nhận đăng ký của bạn.", "success")
            _flash_warnings(clean)
            return redirect(url_for("enrollment.confirmation", enrollment_id=enrollment.id))
    return render_template("enrollment/register.html", course=course, state=state, full=full, form=form, mine=None)


# --------------------------------------------------------------------------------------------
# Trainee: own pages
# --------------------------------------------------------------------------------------------
@bp.post("/register/<int:course_id>/self")
@trainee_required
def register_self(course_id: int):
    course = db.get_or_404(Course, course_id)
    if not course.is_public:
        abort(404)
    if not BaseForm().validate_on_submit():
        return redirect(url_for("enrollment.register", course_id=course.id))
    trainee = _my_trainee()
    if trainee is None:
        flash("Vui lòng hoàn thiện hồ sơ học viên trước khi đăng ký.", "warning")
        return redirect(url_for("enrollment.profile"))
    done = perform(lambda: services.register(current_user, course.id, trainee, now=utcnow()))
    if not done:
        return redirect(url_for("enrollment.register", course_id=course.id))
    return redirect(url_for("enrollment.confirmation", enrollment_id=done.value.id))


@bp.get("/me/courses")
@trainee_required
def my_courses():
    trainee = _my_trainee()
    enrollments = []
    if trainee is not None:
        enrollments = db.session.scalars(
            select(Enrollment)
            .where(Enrollment.trainee_id == trainee.id)
            .options(selectinload(Enrollment.course).selectinload(Course.sessions))
            .order_by(Enrollment.registered_at.desc())
        ).all()
    now = utcnow()
    taken = {e.course_id for e in enrollments if e.is_active}
    candidates = db.session.scalars(
        select(Course)
        .where(
            Course.status == course_rules.OPEN,
            Course.published_at.is_not(None),
            (Course.reg_closes_at.is_(None)) | (Course.reg_closes_at > now),
            Course.id.not_in(taken) if taken else Course.id.is_not(None),
        )
        .options(joinedload(Course.unit))
        .order_by(Course.start_date, Course.id)
        .limit(30)
    ).all()
    open_courses = [c for c in candidates if _registration_state(c, now).is_open]
    return render_template("enrollment/my_courses.html", trainee=trainee, enrollments=enrollments, open_courses=open_courses, action_form=BaseForm())


def _own_enrollment(enrollment_id: int) -> Enrollment:
    enrollment = db.session.get(Enrollment, enrollment_id)
    trainee = _my_trainee()
    if enrollment is None or trainee is None or enrollment.trainee_id != trainee.id:
        abort(404)
    return enrollment


@bp.get("/me/enrollments/<int:enrollment_id>")
@trainee_required
def confirmation(enrollment_id: int):
    enrollment = _own_enrollment(enrollment_id)
    return render_template("enrollment/confirmation.html", enrollment=enrollment, course=enrollment.course, action_form=BaseForm())


@bp.post("/me/enrollments/<int:enrollment_id>/withdraw")
@trainee_required
def my_withdraw(enrollment_id: int):
    enrollment = _own_enrollment(enrollment_id)
    if not BaseForm().validate_on_submit():
        return redirect(url_for("enrollment.my_courses"))
    if perform(lambda: services.withdraw(current_user, enrollment, now=utcnow())):
        flash(f"Đã rút đăng ký lớp {enrollment.course.title}.", "success")
    return redirect(url_for("enrollment.my_courses"))


@bp.route("/me/profile", methods=["GET", "POST"])
@trainee_required
def profile():
    trainee = _my_trainee()
    form = ProfileForm()
    form.unit_id.choices = _public_unit_choices()
    if trainee is not None and trainee.unit_id and all(c[0] != trainee.unit_id for c in form.unit_id.choices):
        form.unit_id.choices.append((trainee.unit_id, trainee.unit.label()))
    if request.method == "GET" and trainee is not None:
        form.fill_from(trainee)
    if (clean := _validated(form)) is not None:
        try:
            if trainee is None and not form.consent.data:
                RuleViolation.single("consent", "Vui lòng đọc và đồng ý với thông báo về xử lý dữ liệu cá nhân.")
            if trainee is None:
                trainee = services.create_trainee(current_user, clean, unit_id=form.unit_id.data, user=current_user, consent_at=utcnow())
            else:
                services.update_trainee(current_user, trainee, clean, unit_id=form.unit_id.data)
        except RuleViolation as exc:
            db.session.rollback()
            apply_rule_errors(form, exc)
        else:
            db.session.commit()
            flash("Đã lưu hồ sơ.", "success")
            _flash_warnings(clean)
            return redirect(url_for("enrollment.my_courses"))
    return render_template("enrollment/profile.html", form=form, trainee=trainee)


# --------------------------------------------------------------------------------------------
# Staff: trainees
# --------------------------------------------------------------------------------------------
def _trainee_or_404(trainee_id: int) -> Trainee:
    trainee = db.session.get(Trainee, trainee_id)
    if trainee is None or not services.trainee_in_scope(trainee.id):
        abort(404)
    return trainee


def _staff_unit_choices(form: TraineeForm, current_unit: Unit | None = None, *, required: bool) -> None:
    choices = list(unit_choices(user=current_user))
    if current_unit is not None and all(c[0] != current_unit.id for c in choices):
        choices.append((current_unit.id, current_unit.label()))
    form.unit_id.choices = ([] if required else [("", "— Không chọn —")]) + choices


@bp.get("/trainees")
@organizer_required
def trainees():
    q = (request.args.get("q") or "").strip()
    query = services.list_trainees_query(q).options(selectinload(Trainee.unit))
    page = db.paginate(query, per_page=current_app.config["PER_PAGE"], error_out=False)
    return render_template("enrollment/trainees.html", page=page, q=q)


@bp.route("/trainees/new", methods=["GET", "POST"])
@organizer_required
def trainee_new():
    form = TraineeForm()
    _staff_unit_choices(form, required=not current_user.is_admin)
    if request.method == "GET" and current_user.unit_id:
        form.unit_id.data = current_user.unit_id
    if (clean := _validated(form)) is not None:

        def create():
            if form.unit_id.data is not None and not in_scope(form.unit_id.data):
                abort(404)
            return services.create_trainee(current_user, clean, unit_id=form.unit_id.data)

        done = perform(create, form)
        if done:
            trainee = done.value
            flash(f"Đã thêm học viên {trainee.full_name}.", "success")
            _flash_warnings(clean)
            return redirect(url_for("enrollment.trainee_detail", trainee_id=trainee.id))
    return render_template("enrollment/trainee_form.html", form=form, trainee=None, course=None)


@bp.get("/trainees/<int:trainee_id>")
@organizer_required
def trainee_detail(trainee_id: int):
    trainee = _trainee_or_404(trainee_id)
    show_id = current_user.is_admin and request.args.get("show_id") == "1"
    if show_id:
        _audit_read("trainee.view_id", trainee, f"Xem đầy đủ số định danh của {trainee.full_name}")
    enrollments = db.session.scalars(
        select(Enrollment)
        .join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.trainee_id == trainee.id, scope_filter(Course.unit_id))
        .options(selectinload(Enrollment.course))
        .order_by(Course.start_date.desc())
    ).all()
    return render_template("enrollment/trainee_detail.html", trainee=trainee, enrollments=enrollments, show_id=show_id)


@bp.route("/trainees/<int:trainee_id>/edit", methods=["GET", "POST"])
@organizer_required
def trainee_edit(trainee_id: int):
    trainee = _trainee_or_404(trainee_id)
    form = TraineeForm()
    _staff_unit_choices(form, trainee.unit, required=False)
    if request.method == "GET":
        form.fill_from(trainee)
    if (clean := _validated(form)) is not None:

        def update():
            if form.unit_id.data not in (None, trainee.unit_id) and not in_scope(form.unit_id.data):
                abort(404)
            services.update_trainee(current_user, trainee, clean, unit_id=form.unit_id.data)

        if perform(update, form):
            flash("Đã lưu hồ sơ học viên.", "success")
            _flash_warnings(clean)
            return redirect(url_for("enrollment.trainee_detail", trainee_id=trainee.id))
    return render_template("enrollment/trainee_form.html", form=form, trainee=trainee, course=None)


@bp.get("/trainees/duplicates")
@admin_required
def duplicates():
    groups = services.duplicate_groups()
    return render_template("enrollment/duplicates.html", groups=groups, action_form=BaseForm())


@bp.post("/trainees/merge")
@admin_required
def merge():
    if not BaseForm().validate_on_submit():
        return redirect(url_for("enrollment.duplicates"))
    keep_id = request.form.get("keep_id", type=parse_id)
    ids = set(parse_ids(request.form.getlist("ids")))
    keep = db.session.get(Trainee, keep_id) if keep_id else None
    if keep is None or keep_id not in ids or len(ids) < 2:
        flash("Vui lòng chọn hồ sơ giữ lại.", "danger")
        return redirect(url_for("enrollment.duplicates"))

    def merge_all():
        for drop_id in sorted(ids - {keep_id}):
            drop = db.session.get(Trainee, drop_id)
            if drop is None:
                abort(404)
            services.merge_trainees(current_user, keep, drop, now=utcnow())

    if not perform(merge_all):
        return redirect(url_for("enrollment.duplicates"))
    flash(f"Đã gộp {len(ids) - 1} hồ sơ vào hồ sơ của {keep.full_name}; mọi ghi danh được giữ lại.", "success")
    return redirect(url_for("enrollment.trainee_detail", trainee_id=keep.id))


# --------------------------------------------------------------------------------------------
# Staff: courses and class lists
# --------------------------------------------------------------------------------------------
def _course(course_id: int) -> Course:
    return get_scoped_or_404(Course, course_id)


@bp.get("/classes")
@organizer_required
def courses():
    """Courses in scope with their enrolment counts: the way into each class list."""
    q = (request.args.get("q") or "").strip()
    status = request.args.get("status") or ""
    query = select(Course).where(scope_filter(Course.unit_id)).options(joinedload(Course.unit)).order_by(Course.start_date.desc(), Course.id.desc())
    if status in course_rules.COURSE_STATUSES:
        query = query.where(Course.status == status)
    if q:
        query = query.where(Course.search_key.contains(fold(q), autoescape=True))
    page = db.paginate(query, per_page=current_app.config["PER_PAGE"], error_out=False)
    counts = services.status_counts(c.id for c in page.items)
    return render_template("enrollment/courses.html", page=page, counts=counts, q=q, status=status, statuses=course_rules.COURSE_STATUS_CHOICES)


ROSTER_FILTERS = {
    "": ("Đang trong danh sách", tuple(sorted(rules.ACTIVE_STATUSES))),
    "all": ("Tất cả", rules.ENROLLMENT_STATUSES),
    **{status: (label, (status,)) for status, label in rules.ENROLLMENT_STATUS_CHOICES},
}


@bp.get("/classes/<int:course_id>")
@organizer_required
def roster(course_id: int):
    course = _course(course_id)
    today = services.local_today()
    status = request.args.get("status", "")
    if status not in ROSTER_FILTERS:
        status = ""
    rows = services.roster(course, today=today, statuses=ROSTER_FILTERS[status][1])
    if status == rules.WAITLISTED:
        rows.sort(key=lambda row: row.enrollment.waitlist_position or 0)
    counts = services.status_counts([course.id])[course.id]
    held = services.held_sessions(course, today)
    return render_template(
        "enrollment/roster.html",
        course=course,
        rows=rows,
        counts=counts,
        status=status,
        filters=ROSTER_FILTERS,
        held=held,
        state=_registration_state(course, utcnow()),
        decision_form=DecisionForm(),
        action_form=BaseForm(),
        can_enrol=course.status in rules.ORGANIZER_ENROLLABLE_COURSE_STATUSES,
        can_attend=course_rules.can_take_attendance(course.status),
    )


@bp.get("/classes/<int:course_id>/add")
@organizer_required
def add(course_id: int):
    course = _course(course_id)
    q = (request.args.get("q") or "").strip()
    found = services.search_trainees(q, user=current_user) if q else []
    enrolled = {}
    if found:
        enrolled = {
            e.trainee_id: e
            for e in db.session.scalars(select(Enrollment).where(Enrollment.course_id == course.id, Enrollment.trainee_id.in_([t.id for t in found])))
        }
    visible = {t.id for t in found if services.trainee_in_scope(t.id)} if found else set()
    return render_template("enrollment/add.html", course=course, q=q, found=found, enrolled=enrolled, visible=visible, action_form=BaseForm())


@bp.route("/classes/<int:course_id>/add/new", methods=["GET", "POST"])
@organizer_required
def add_new(course_id: int):
    course = _course(course_id)
    form = TraineeForm()
    _staff_unit_choices(form, required=False)
    if (clean := _validated(form)) is not None:

        def create_and_enrol():
            if form.unit_id.data is not None and not in_scope(form.unit_id.data):
                abort(404)
            trainee = services.create_trainee(current_user, clean, unit_id=form.unit_id.data)
            return trainee, services.enrol_by_organizer(current_user, course.id, trainee, now=utcnow())

        done = perform(create_and_enrol, form)
        if done:
            trainee, enrollment = done.value
            flash(f"Đã thêm {trainee.full_name} vào lớp: {enrollment.status_label.lower()}.", "success")
            _flash_warnings(clean)
            return redirect(url_for("enrollment.roster", course_id=course.id))
    return render_template("enrollment/trainee_form.html", form=form, trainee=None, course=course)


@bp.post("/classes/<int:course_id>/enrol")
@organizer_required
def enrol(course_id: int):
    course = _course(course_id)
    if not BaseForm().validate_on_submit():
        return redirect(url_for("enrollment.add", course_id=course.id))
    trainee = db.session.get(Trainee, request.form.get("trainee_id", type=parse_id) or 0)
    if trainee is None:
        abort(404)
    done = perform(lambda: services.enrol_by_organizer(current_user, course.id, trainee, now=utcnow()))
    if not done:
        return redirect(url_for("enrollment.add", course_id=course.id, q=request.form.get("q", "")))
    enrollment = done.value
    placed = enrollment.status_label.lower() + (f" (vị trí {enrollment.waitlist_position})" if enrollment.waitlist_position else "")
    flash(f"Đã ghi danh {trainee.full_name}: {placed}.", "success")
    return redirect(url_for("enrollment.roster", course_id=course.id))


@bp.post("/classes/<int:course_id>/decide")
@organizer_required
def decide(course_id: int):
    course = _course(course_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return redirect(url_for("enrollment.roster", course_id=course.id, status="pending"))
    action = request.form.get("action")
    if action not in ("approve", "reject"):
        abort(400)
    ids = parse_ids(request.form.getlist("ids"))
    done = perform(
        lambda: services.decide(current_user, course, ids, approve=action == "approve", now=utcnow(), note=form.note.data or None)
    )
    if not done:
        return redirect(url_for("enrollment.roster", course_id=course.id, status="pending"))
    result = done.value
    if action == "approve":
        flash(
            f"Đã duyệt {sum(result.values())} đăng ký: {result.get('confirmed', 0)} vào lớp, {result.get('waitlisted', 0)} vào danh sách chờ.",
            "success",
        )
    else:
        flash(f"Đã từ chối {result.get('rejected', 0)} đăng ký.", "success")
    return redirect(url_for("enrollment.roster", course_id=course.id, status="pending"))


@bp.post("/enrollments/<int:enrollment_id>/withdraw")
@organizer_required
def staff_withdraw(enrollment_id: int):
    enrollment = get_scoped_or_404(Enrollment, enrollment_id)
    course_id = enrollment.course_id
    if not BaseForm().validate_on_submit():
        return redirect(url_for("enrollment.roster", course_id=course_id))
    name = enrollment.trainee.full_name
    try:
        promoted = services.withdraw(current_user, enrollment, now=utcnow(), reason=(request.form.get("reason") or "").strip()[:500] or None)
    except RuleViolation as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("enrollment.roster", course_id=course_id))
    names = ", ".join(e.trainee.full_name for e in promoted)
    db.session.commit()
    flash(f"Đã rút {name} khỏi lớp." + (f" Chuyển từ danh sách chờ vào lớp: {names}." if names else ""), "success")
    return redirect(url_for("enrollment.roster", course_id=course_id))


# --------------------------------------------------------------------------------------------
# Exports and the sign-in sheet
# --------------------------------------------------------------------------------------------
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/classes/<int:course_id>/export.xlsx")
@organizer_required
def export(course_id: int):
    course = _course(course_id)
    full_ids = current_user.is_admin and request.args.get("full_ids") == "1"
    status = request.args.get("status", "")
    rows = services.roster(course, today=services.local_today(), statuses=ROSTER_FILTERS.get(status, ROSTER_FILTERS[""])[1])
    data = exports.roster_workbook(course, rows, full_ids=full_ids, today=services.local_today())
    _audit_read(
        "enrollment.export",
        course,
        f"Xuất danh sách lớp {course.code} ({len(rows)} người{', số định danh đầy đủ' if full_ids else ''})",
        object_type="courses",
        object_id=course_id,
    )
    return attachment(data, f"danh-sach-{course.code}.xlsx", XLSX)


@bp.get("/classes/<int:course_id>/sessions/<int:session_id>/sign-in")
@organizer_required
def sign_in_sheet(course_id: int, session_id: int):
    """Danh sách ký tên for one session: the confirmed trainees, sorted, with a signature column."""
    course = _course(course_id)
    session = db.session.get(CourseSession, session_id)
    if session is None or session.course_id != course.id:
        abort(404)
    rows = services.roster(course, today=services.local_today(), statuses=(rules.CONFIRMED,))
    as_html = request.args.get("format") == "html"
    html = render_template("enrollment/sign_in_sheet.html", course=course, session=session, rows=rows, for_pdf=not as_html)
    _audit_read("enrollment.sign_in_sheet", course, f"In danh sách ký tên lớp {course.code}, buổi {session.date:%d/%m/%Y}", object_type="courses", object_id=course_id)
    if as_html:
        return html
    from bdg_training.pdf import html_to_pdf

    pdf = html_to_pdf(html, stylesheets=["css/sign_in_sheet.css"])
    return attachment(pdf, f"ky-ten-{course.code}-{session.date:%Y%m%d}.pdf", "application/pdf", inline=True)


# --------------------------------------------------------------------------------------------
# Attendance
# --------------------------------------------------------------------------------------------
@bp.route("/classes/<int:course_id>/attendance", methods=["GET", "POST"])
@organizer_required
def attendance(course_id: int):
    course = _course(course_id)
    today = services.local_today()
    form = BaseForm()
    if request.method == "POST" and form.validate_on_submit():
        marks: dict[tuple[int, int], str | None] = {}
        for name, value in request.form.items():
            parts = name.split("-")
            if len(parts) == 3 and parts[0] == "m" and parse_id(parts[1]) is not None and parse_id(parts[2]) is not None:
                marks[(parse_id(parts[1]), parse_id(parts[2]))] = value or None
        done = perform(lambda: services.save_attendance(current_user, course, marks, today=today, now=utcnow()))
        if done:
            changed = done.value
            flash(f"Đã lưu điểm danh ({changed} thay đổi)." if changed else "Không có thay đổi nào.", "success")
            return redirect(url_for("enrollment.attendance", course_id=course.id))
    rows = services.roster(course, today=today, statuses=(rules.CONFIRMED,))
    marks = services.attendance_map(course.id)
    return render_template(
        "enrollment/attendance.html",
        course=course,
        rows=rows,
        marks=marks,
        sessions=course.sessions,
        held={s.id for s in services.held_sessions(course, today)},
        form=form,
        can_attend=course_rules.can_take_attendance(course.status),
    )


@bp.post("/classes/<int:course_id>/attendance/<int:session_id>/all-present")
@organizer_required
def all_present(course_id: int, session_id: int):
    course = _course(course_id)
    session = db.session.get(CourseSession, session_id)
    if session is None or session.course_id != course.id:
        abort(404)
    if BaseForm().validate_on_submit():
        done = perform(lambda: services.mark_all_present(current_user, course, session, today=services.local_today(), now=utcnow()))
        if done:
            flash(f"Buổi {session.date:%d/%m/%Y}: tất cả có mặt ({done.value} thay đổi).", "success")
    return redirect(url_for("enrollment.attendance", course_id=course.id))


# --------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------
@bp.get("/import-template.xlsx")
@organizer_required
def import_template():
    return attachment(exports.template_workbook(), "mau-danh-sach-hoc-vien.xlsx", XLSX)


@bp.route("/classes/<int:course_id>/import", methods=["GET", "POST"])
@organizer_required
def import_upload(course_id: int):
    course = _course(course_id)
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(importer.MAX_BYTES + 1)
        try:
            if course.status not in rules.ORGANIZER_ENROLLABLE_COURSE_STATUSES:
                rules.check_organizer_enrollment(None, course.status)
            table = importer.read_table(upload.filename or "", data)
        except RuleViolation as exc:
            form.file.errors = [*exc.messages]
        else:
            batch = services.store_batch(current_user, course, upload.filename or "danh-sach", table, now=utcnow())
            db.session.commit()
            return redirect(url_for("enrollment.import_preview", batch_id=batch.id))
    return render_template(
        "enrollment/import.html", form=form, course=course, columns=importer.COLUMNS, max_rows=importer.MAX_ROWS, max_mb=importer.MAX_BYTES // 1024 // 1024
    )


def _batch(batch_id: int) -> ImportBatch:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.user_id != current_user.id:
        abort(404)
    get_scoped_or_404(Course, batch.course_id)
    return batch


@bp.get("/imports/<int:batch_id>")
@organizer_required
def import_preview(batch_id: int):
    batch = _batch(batch_id)
    report = importer.detect_encoding(services.batch_table(batch))
    refused = bool(batch.encoding) and not batch.convert
    preview = None if refused else services.preview_batch(batch, today=services.local_today())
    return render_template(
        "enrollment/import_preview.html",
        batch=batch,
        course=batch.course,
        report=report,
        refused=refused,
        preview=preview,
        nfd_note=importer.nfd_note(report),
        action_form=BaseForm(),
    )


@bp.post("/imports/<int:batch_id>/convert")
@organizer_required
def import_convert(batch_id: int):
    batch = _batch(batch_id)
    if BaseForm().validate_on_submit() and batch.encoding:
        batch.convert = True
        record(current_user, "enrollment.import_convert", batch.course, f"Chuyển tệp {batch.filename} từ {importer.ENCODING_LABELS[batch.encoding]} sang Unicode", object_type="courses", object_id=batch.course_id)
        db.session.commit()
    return redirect(url_for("enrollment.import_preview", batch_id=batch.id))


@bp.post("/imports/<int:batch_id>/commit")
@organizer_required
def import_commit(batch_id: int):
    batch = _batch(batch_id)
    course_id = batch.course_id
    if not BaseForm().validate_on_submit():
        return redirect(url_for("enrollment.import_preview", batch_id=batch.id))
    done = perform(lambda: services.commit_import(current_user, batch, today=services.local_today(), now=utcnow()))
    if not done:
        return redirect(url_for("enrollment.import_preview", batch_id=batch_id))
    counts = done.value
    flash(
        f"Đã nhập {counts.get('new', 0) + counts.get('existing', 0)} học viên ({counts.get('new', 0)} hồ sơ mới): "
        f"{counts.get('confirmed', 0)} vào lớp, {counts.get('waitlisted', 0)} vào danh sách chờ.",
        "success",
    )
    return redirect(url_for("enrollment.roster", course_id=course_id))


@bp.post("/imports/<int:batch_id>/cancel")
@organizer_required
def import_cancel(batch_id: int):
    batch = _batch(batch_id)
    course_id = batch.course_id
    if BaseForm().validate_on_submit():
        db.session.delete(batch)
        db.session.commit()
        flash("Đã hủy tệp nhập; không có dữ liệu nào được ghi.", "info")
    return redirect(url_for("enrollment.roster", course_id=course_id))
