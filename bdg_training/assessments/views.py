"""Pre/post tests, question bank, results, item analysis and course evaluation (blueprint "assessments").

- Organizers (admin passes): the question bank (shared by every unit; a question is edited only by its
  owner unit's subtree), the tests of the courses in their scope, paper results, results and item
  analysis, export, the evaluation form and its results. Signers may read results (certificates
  depend on the post-test).
- Trainees: the tests and the evaluation of the courses they hold a **confirmed** enrolment in; any
  other course answers 404.

Writes during a GET (closing an attempt whose time ran out) end the read transaction first and run
inside ``serialized_writes()``, so on SQLite they take the write lock up front like a POST.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from bdg_training.access import get_scoped_or_404, in_scope, roles_required, trainee_required
from bdg_training.actions import perform
from bdg_training.assessments import importer, rules, services
from bdg_training.assessments.forms import ActionForm, EvaluationAnswerForm, EvaluationSetupForm, ImportForm, QuestionForm, TestFormForm
from bdg_training.assessments.models import Attempt, Question
from bdg_training.courses.models import Course
from bdg_training.database import as_utc, serialized_writes, utcnow
from bdg_training.downloads import attachment
from bdg_training.extensions import db
from bdg_training.forms import apply_rule_errors, parse_id, parse_ids
from bdg_training.rules_base import RuleViolation

bp = Blueprint("assessments", __name__, url_prefix="/assessments")

organizer_required = roles_required("organizer")
results_readers = roles_required("organizer", "signer")


def _kind_or_404(kind: str) -> str:
    if kind not in rules.TEST_KINDS:
        abort(404)
    return kind


def _write_now(work):
    """Run ``work()`` in a fresh write transaction (see the module docstring) and commit it."""
    db.session.commit()  # ends the read-only transaction of this GET; nothing was written
    with serialized_writes():
        result = work()
        db.session.commit()
    return result


def _scoped_course(course_id: int) -> Course:
    return get_scoped_or_404(Course, course_id)


# ==================================================================================================
# Question bank
# ==================================================================================================


@bp.get("/questions")
@organizer_required
def questions():
    topic_id = request.args.get("topic", type=parse_id)
    kind = request.args.get("kind") or None
    status = request.args.get("status", "active")
    if status not in ("active", "retired", "all"):
        status = "active"
    q = (request.args.get("q") or "").strip()
    page = db.paginate(
        services.question_list_query(topic_id=topic_id, q=q, status=status, kind=kind),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
    )
    return render_template(
        "assessments/questions.html",
        page=page,
        topics=services.topic_choices(),
        topic_id=topic_id,
        kind=kind,
        status=status,
        q=q,
        kinds=rules.QUESTION_KINDS,
        can_edit=lambda question: in_scope(question.unit_id),
    )


def _question_form(obj: Question | None = None) -> QuestionForm:
    form = QuestionForm()
    form.topic_id.choices = services.topic_choices()
    if request.method == "GET":
        if obj is not None:
            form.fill_from(obj)
        elif parse_id(request.args.get("topic")) is not None:
            form.topic_id.data = parse_id(request.args["topic"])
    return form


def _question_values(form: QuestionForm) -> dict:
    try:
        points = form.points_value()
    except ValueError as exc:
        raise RuleViolation({"points": [str(exc)]}) from None
    return {
        "topic_id": form.topic_id.data,
        "kind": form.kind.data,
        "text": form.text.data,
        "options": form.options_input(),
        "points": points,
        "explanation": form.explanation.data or None,
    }


@bp.route("/questions/new", methods=["GET", "POST"])
@organizer_required
def question_new():
    form = _question_form()
    if form.validate_on_submit():
        try:
            question = services.create_question(current_user, **_question_values(form))
        except RuleViolation as exc:
            apply_rule_errors(form, exc)
        else:
            db.session.commit()
            flash("Đã thêm câu hỏi vào ngân hàng.", "success")
            if request.form.get("again"):
                return redirect(url_for("assessments.question_new", topic=question.topic_id))
            return redirect(url_for("assessments.question_detail", question_id=question.id))
    return render_template("assessments/question_form.html", form=form, question=None)


def _question_or_404(question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None:
        abort(404)
    return question


def _editable_question(question_id: int) -> Question:
    question = _question_or_404(question_id)
    if not in_scope(question.unit_id):
        abort(403)
    return question


@bp.get("/questions/<int:question_id>")
@organizer_required
def question_detail(question_id: int):
    question = _question_or_404(question_id)
    return render_template(
        "assessments/question_detail.html",
        question=question,
        versions=services.question_versions(question),
        used=services.question_is_used(question),
        can_edit=in_scope(question.unit_id),
        action_form=ActionForm(),
    )


@bp.route("/questions/<int:question_id>/edit", methods=["GET", "POST"])
@organizer_required
def question_edit(question_id: int):
    question = _editable_question(question_id)
    if question.status != "active":
        flash("Chỉ sửa được phiên bản hiện hành đang dùng.", "warning")
        return redirect(url_for("assessments.question_detail", question_id=question.id))
    form = _question_form(question)
    if form.validate_on_submit():
        try:
            result = services.update_question(current_user, question, **_question_values(form))
        except RuleViolation as exc:
            apply_rule_errors(form, exc)
        else:
            db.session.commit()
            if result.id != question.id:
                flash(f"Câu hỏi đã được dùng trong bài làm nên đã tạo phiên bản {result.version}; bài đã làm vẫn giữ phiên bản cũ.", "info")
            else:
                flash("Đã lưu câu hỏi.", "success")
            return redirect(url_for("assessments.question_detail", question_id=result.id))
    return render_template("assessments/question_form.html", form=form, question=question, used=services.question_is_used(question))


@bp.post("/questions/<int:question_id>/retire")
@organizer_required
def question_retire(question_id: int):
    question = _editable_question(question_id)
    retire = request.form.get("retired") == "1"
    if ActionForm().validate_on_submit() and perform(lambda: services.set_question_retired(current_user, question, retire)):
        flash("Đã ngừng dùng câu hỏi; các đề đã có câu này vẫn giữ nguyên." if retire else "Đã dùng lại câu hỏi.", "success")
    return redirect(url_for("assessments.question_detail", question_id=question.id))


@bp.get("/questions/import-template.xlsx")
@organizer_required
def import_template():
    return _xlsx_response(importer.template_workbook(), "mau-nhap-cau-hoi.xlsx")


@bp.route("/questions/import", methods=["GET", "POST"])
@organizer_required
def question_import():
    """Upload → check every row → save all (or nothing when any row is bad, listing every bad row)."""
    form = ImportForm()
    topics = services.topic_choices()
    default_topic = request.form.get("default_topic", type=parse_id)
    convert = request.form.get("convert") or None
    preview = legacy = None
    if form.validate_on_submit():
        upload = form.file.data
        filename = upload.filename or ""
        try:
            table = importer.read_table(filename, upload.read(importer.MAX_BYTES + 1))
        except importer.ImportRefused as exc:
            apply_rule_errors(form, exc)
        else:
            report = importer.detect_encoding(table)
            if report.encoding and convert != report.encoding:
                legacy = report
                form.form_errors.append(
                    f"Tệp có vẻ dùng bảng mã cũ {report.label}. Đánh dấu ô «Chuyển từ bảng mã cũ» rồi chọn lại tệp, hoặc chuyển tệp sang Unicode trước."
                )
            else:
                topic_map, existing = services.import_lookups()
                preview = importer.check_rows(table, topic_map, existing, default_topic_id=default_topic, convert=report.encoding)
                if preview.ok:
                    count = services.import_questions(current_user, preview, filename=filename)
                    db.session.commit()
                    skipped = len(preview.skipped_rows)
                    flash(f"Đã nhập {count} câu hỏi." + (f" Bỏ qua {skipped} câu đã có trong ngân hàng." if skipped else ""), "success")
                    return redirect(url_for("assessments.questions"))
                form.form_errors.append(
                    f"Tệp có {len(preview.bad_rows)} dòng lỗi; chưa có câu hỏi nào được lưu. Sửa các dòng dưới đây rồi tải lên lại."
                )
    return render_template(
        "assessments/import.html",
        form=form,
        topics=topics,
        default_topic=default_topic,
        preview=preview,
        legacy=legacy,
        columns=importer.COLUMNS,
    )


# ==================================================================================================
# A course's tests (organizer)
# ==================================================================================================


@bp.get("/courses/<int:course_id>")
@results_readers
def course(course_id: int):
    course = _scoped_course(course_id)
    overview = services.course_overview(course)
    return render_template("assessments/course.html", course=course, now=utcnow(), action_form=ActionForm(), **overview)


def _candidate_questions(course: Course, form_obj, topic_id: int | None) -> list[Question]:
    """Questions offered for a form: those already on it (in order), then the active bank questions of
    the chosen topic (default: the course's topic)."""
    current = [item.question for item in form_obj.items] if form_obj is not None else []
    query = services.question_list_query(topic_id=topic_id, status="active")
    others = [q for q in db.session.scalars(query.limit(300)) if q.id not in {c.id for c in current}]
    return current + others


@bp.route("/courses/<int:course_id>/forms/<kind>", methods=["GET", "POST"])
@organizer_required
def form_edit(course_id: int, kind: str):
    course = _scoped_course(course_id)
    kind = _kind_or_404(kind)
    forms = services.forms_of(course)
    existing = forms.get(kind)
    form = TestFormForm(obj=existing)
    if request.method == "GET" and existing is None:
        form.shuffle_questions.data = True
        form.shuffle_options.data = True
        if kind == rules.POST and rules.PRE in forms:
            form.same_as_pre.data = True
    topic_id = request.values.get("topic", type=parse_id)
    if topic_id is None and "topic" not in request.values:
        topic_id = course.topic_id
    candidates = _candidate_questions(course, existing, topic_id)
    selected = [item.question_id for item in existing.items] if existing else []
    locked = existing is not None and services.form_is_locked(existing)
    if request.method == "POST" and form.validate():
        ticked = list(dict.fromkeys(parse_ids(request.form.getlist("question_ids"))))
        order = {qid: request.form.get(f"order-{qid}", type=int) for qid in ticked}
        chosen = sorted(ticked, key=lambda qid: (order[qid] if order[qid] is not None else 10**6, ticked.index(qid)))
        same_as_pre = form.same_as_pre.data
        if locked:  # the question list is frozen (and not posted: its fieldset is disabled)
            chosen, same_as_pre = list(selected), existing.same_as_pre
        selected = chosen
        done = perform(
            lambda: services.save_test_form(
                current_user,
                course,
                kind,
                question_ids=chosen,
                title=form.title.data,
                instructions=form.instructions.data,
                time_limit_minutes=form.time_limit_minutes.data,
                opens_at=form.opens_at.data,
                closes_at=form.closes_at.data,
                same_as_pre=same_as_pre,
                shuffle_questions=form.shuffle_questions.data,
                shuffle_options=form.shuffle_options.data,
            ),
            form,
        )
        if done:
            flash(f"Đã lưu {rules.kind_label(kind).lower()}.", "success")
            return redirect(url_for("assessments.course", course_id=course.id))
    elif request.method == "POST":
        selected = parse_ids(request.form.getlist("question_ids"))
    return render_template(
        "assessments/form_edit.html",
        course=course,
        kind=kind,
        form=form,
        existing=existing,
        candidates=candidates,
        selected=selected,
        locked=locked,
        topics=services.topic_choices(),
        topic_id=topic_id,
        has_pre=rules.PRE in forms,
    )


@bp.post("/courses/<int:course_id>/forms/<kind>/close")
@organizer_required
def form_close(course_id: int, kind: str):
    course = _scoped_course(course_id)
    kind = _kind_or_404(kind)
    test_form = services.forms_of(course).get(kind)
    if test_form is None:
        abort(404)
    if ActionForm().validate_on_submit():
        closed = services.close_form_now(current_user, test_form, utcnow())
        db.session.commit()
        flash(
            f"Đã đóng {rules.kind_label(kind).lower()}; học viên xem được đáp án." + (f" Đã thu {closed} bài đang làm." if closed else ""),
            "success",
        )
    return redirect(url_for("assessments.course", course_id=course.id))


@bp.get("/courses/<int:course_id>/forms/<kind>/print")
@organizer_required
def form_print(course_id: int, kind: str):
    """The test on paper (questions in form order, options A, B, …) and, with ``?key=1``, its key."""
    course = _scoped_course(course_id)
    kind = _kind_or_404(kind)
    forms = services.forms_of(course)
    test_form = forms.get(kind)
    if test_form is None:
        abort(404)
    return render_template(
        "assessments/form_print.html",
        course=course,
        test_form=test_form,
        questions=services.form_questions(test_form, forms),
        show_key=request.args.get("key") == "1",
    )


# ==================================================================================================
# Paper results
# ==================================================================================================


@bp.route("/courses/<int:course_id>/paper", methods=["GET", "POST"])
@organizer_required
def paper(course_id: int):
    course = _scoped_course(course_id)
    action_form = ActionForm()
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    posted: dict[str, str] = {}
    if request.method == "POST" and action_form.validate_on_submit():
        cells = {name: value for name, value in request.form.items() if name.split("-")[0] in rules.TEST_KINDS}
        posted = dict(cells)
        try:
            outcome = services.save_paper_scores(current_user, course, cells, utcnow())
        except RuleViolation as exc:
            db.session.rollback()
            errors = {k: v for k, v in exc.errors.items() if k}
            general = exc.errors.get("", [])
        else:
            db.session.commit()
            if outcome.changed:
                flash(f"Đã lưu điểm: {outcome.created} điểm mới, {outcome.updated} điểm sửa, {outcome.deleted} điểm xóa.", "success")
            else:
                flash("Không có điểm nào thay đổi.", "info")
            return redirect(url_for("assessments.paper", course_id=course.id))
    if request.method == "GET" and services.expired_attempts(course, utcnow()):
        _write_now(lambda: services.close_expired_attempts(course, utcnow()))
    rows = services.paper_grid(course)
    return render_template(
        "assessments/paper.html",
        course=course,
        rows=rows,
        action_form=action_form,
        errors=errors,
        general=general,
        posted=posted,
        cell_name=services.cell_name,
        kinds=rules.TEST_KINDS,
        short=rules.TEST_KIND_SHORT,
    )


# ==================================================================================================
# Results
# ==================================================================================================


def _results(course: Course) -> services.CourseResults:
    if services.expired_attempts(course, utcnow()):
        _write_now(lambda: services.close_expired_attempts(course, utcnow()))
    return services.course_results(course)


@bp.get("/courses/<int:course_id>/results")
@results_readers
def results(course_id: int):
    course = _scoped_course(course_id)
    data = _results(course)
    # Markup is safe here: charts.svg_histogram builds the SVG itself and escapes every text in it.
    chart = Markup(services.results_chart(data))
    return render_template(
        "assessments/results.html",
        course=course,
        results=data,
        chart=chart,
        fmt=rules.format_decimal,
        pct=rules.format_percent,
        band=rules.hake_band_label,
        kinds=rules.TEST_KINDS,
        class_g_label=rules.CLASS_G_LABEL,
        bins=rules.SCORE_BIN_LABELS,
    )


@bp.get("/courses/<int:course_id>/results.xlsx")
@results_readers
def results_export(course_id: int):
    course = _scoped_course(course_id)
    data = _results(course)
    return _xlsx_response(services.results_workbook(data), f"ket-qua-kiem-tra-{course.code}.xlsx")


def _xlsx_response(content: bytes, filename: str) -> Response:
    return attachment(content, filename, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# ==================================================================================================
# Evaluation (organizer)
# ==================================================================================================


@bp.route("/courses/<int:course_id>/evaluation", methods=["GET", "POST"])
@organizer_required
def evaluation_setup(course_id: int):
    course = _scoped_course(course_id)
    existing = services.evaluation_form_of(course)
    form = EvaluationSetupForm()
    if request.method == "GET":
        form.items.data = existing.item_keys if existing else list(rules.EVALUATION_ITEMS)
        form.allow_comment.data = existing.allow_comment if existing else True
        form.is_open.data = existing.is_open if existing else False
    if form.validate_on_submit():
        keys = [k for k in rules.EVALUATION_ITEMS if k in (form.items.data or [])]
        done = perform(
            lambda: services.save_evaluation_form(
                current_user, course, item_keys=keys, allow_comment=form.allow_comment.data, is_open=form.is_open.data
            ),
            form,
        )
        if done:
            flash("Đã lưu phiếu đánh giá khóa học.", "success")
            return redirect(url_for("assessments.course", course_id=course.id))
    return render_template("assessments/evaluation_setup.html", course=course, form=form, existing=existing)


@bp.get("/courses/<int:course_id>/evaluation/results")
@results_readers
def evaluation_results(course_id: int):
    course = _scoped_course(course_id)
    existing = services.evaluation_form_of(course)
    if existing is None:
        flash("Lớp chưa có phiếu đánh giá.", "info")
        return redirect(url_for("assessments.course", course_id=course.id))
    return render_template(
        "assessments/evaluation_results.html",
        course=course,
        data=services.evaluation_results(existing),
        scale=rules.RATING_SCALE,
        fmt=rules.format_decimal,
        pct=rules.format_percent,
        threshold=rules.ANONYMITY_THRESHOLD,
    )


# ==================================================================================================
# Trainee
# ==================================================================================================


def _own_enrollment(course_id: int):
    enrollment = services.trainee_enrollment(current_user, course_id)
    if enrollment is None:
        abort(404)
    return enrollment


@bp.get("/me")
@trainee_required
def my_tests():
    return render_template("assessments/my_tests.html", items=services.trainee_courses(current_user), now=utcnow(), kinds=rules.TEST_KINDS)


@bp.get("/me/courses/<int:course_id>/<kind>")
@trainee_required
def take(course_id: int, kind: str):
    kind = _kind_or_404(kind)
    enrollment = _own_enrollment(course_id)
    forms = services.forms_of(enrollment.course)
    test_form = forms.get(kind)
    attempt = services.find_attempt(enrollment.id, kind)
    now = utcnow()
    if (
        attempt is not None
        and attempt.status == rules.IN_PROGRESS
        and rules.is_late(now, as_utc(attempt.deadline), services.grace_seconds())
    ):
        attempt_id = attempt.id

        def close():
            fresh = db.session.get(Attempt, attempt_id)
            return services.close_if_expired(fresh, utcnow())

        if _write_now(close):
            flash("Đã hết giờ làm bài; bài được chấm với các câu trả lời đã lưu.", "warning")
        attempt = db.session.get(Attempt, attempt_id)
        forms = services.forms_of(enrollment.course)
        test_form = forms.get(kind)
    n_questions = len(services.form_questions(test_form, forms)) if test_form else 0
    presented = services.presented_questions(attempt) if attempt is not None and attempt.source == rules.ONLINE else []
    show_key = (
        attempt is not None
        and attempt.is_completed
        and attempt.source == rules.ONLINE
        and services.attempt_key_released(attempt, forms, now)
    )
    key_note = services.key_release_at(attempt, forms) if attempt is not None and attempt.is_completed and not show_key else None
    return render_template(
        "assessments/take.html",
        course=enrollment.course,
        enrollment=enrollment,
        kind=kind,
        test_form=test_form,
        attempt=attempt,
        presented=presented,
        n_questions=n_questions,
        window=test_form.window_state(now) if test_form else None,
        window_labels=rules.WINDOW_LABELS,
        show_key=show_key,
        key_note=key_note,
        action_form=ActionForm(),
        fmt=rules.format_decimal,
        now=now,
        deadline_iso=as_utc(attempt.deadline).isoformat() if attempt is not None and attempt.deadline is not None else "",
    )


@bp.post("/me/courses/<int:course_id>/<kind>/start")
@trainee_required
def start(course_id: int, kind: str):
    kind = _kind_or_404(kind)
    enrollment = _own_enrollment(course_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    done = perform(lambda: services.start_attempt(current_user, enrollment, kind, utcnow()))
    if done:
        _, created = done.value
        if not created:
            flash("Bạn đã có bài làm cho bài kiểm tra này; mỗi người chỉ làm một lần.", "info")
    return redirect(url_for("assessments.take", course_id=course_id, kind=kind))


@bp.post("/me/courses/<int:course_id>/<kind>/answers")
@trainee_required
def answer(course_id: int, kind: str):
    kind = _kind_or_404(kind)
    enrollment = _own_enrollment(course_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    attempt = services.find_attempt(enrollment.id, kind)
    if attempt is None or attempt.source != rules.ONLINE:
        abort(404)
    answers: dict[int, list[int]] = {}
    for name in request.form:
        if name.startswith("q-") and parse_id(name[2:]) is not None:
            answers[parse_id(name[2:])] = parse_ids(request.form.getlist(name))
    submit = request.form.get("action") == "submit"
    done = perform(lambda: services.save_answers(current_user, attempt, answers, utcnow(), submit=submit))
    if not done:
        return redirect(url_for("assessments.take", course_id=course_id, kind=kind))
    outcome = done.value
    if outcome == services.LATE:
        flash(
            "Đã hết giờ làm bài: câu trả lời vừa gửi không được nhận. Bài được chấm với các câu trả lời đã lưu trước thời hạn.",
            "warning",
        )
    elif outcome == services.SUBMITTED:
        flash(f"Đã nộp bài. Điểm của bạn: {rules.format_decimal(attempt.score)}/10.", "success")
    else:
        answered = sum(1 for qid in attempt.question_ids if answers.get(qid))
        flash(f"Đã lưu câu trả lời ({answered}/{len(attempt.question_ids)} câu đã trả lời). Nhớ bấm «Nộp bài» khi làm xong.", "success")
    return redirect(url_for("assessments.take", course_id=course_id, kind=kind))


@bp.route("/me/courses/<int:course_id>/evaluation", methods=["GET", "POST"])
@trainee_required
def evaluate(course_id: int):
    enrollment = _own_enrollment(course_id)
    evaluation = services.evaluation_form_of(enrollment.course)
    if evaluation is None:
        abort(404)
    form = EvaluationAnswerForm()
    done = services.has_evaluated(enrollment)
    rating_errors: dict[str, list[str]] = {}
    if form.validate_on_submit() and not done:
        ratings = {key: request.form.get(f"rating-{key}") for key in evaluation.item_keys}
        try:
            services.submit_evaluation(current_user, enrollment, evaluation, ratings, form.comment.data)
        except RuleViolation as exc:
            db.session.rollback()
            rating_errors = {k: v for k, v in exc.errors.items() if k in evaluation.item_keys}
            apply_rule_errors(form, RuleViolation({k: v for k, v in exc.errors.items() if k not in evaluation.item_keys}))
        else:
            db.session.commit()
            flash("Cảm ơn bạn đã gửi phiếu đánh giá. Phiếu được ghi nhận ẩn danh.", "success")
            return redirect(url_for("assessments.my_tests"))
    return render_template(
        "assessments/evaluate.html",
        course=enrollment.course,
        evaluation=evaluation,
        form=form,
        done=done,
        scale=rules.RATING_SCALE,
        rating_errors=rating_errors,
        chosen={key: request.form.get(f"rating-{key}") for key in evaluation.item_keys} if request.method == "POST" else {},
    )
