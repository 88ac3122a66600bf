"""Assessments: question bank, test forms, attempts, paper results, results and item analysis, evaluation.

Services load → call rules → change → ``flush()``; they never commit (the view or command does, once).
Time always comes in as ``now`` (aware, UTC). Every change a person makes is audited, except saving
answers during an attempt (each save would be an event); starting, submitting and a closure at the
deadline are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from flask import current_app
from sqlalchemy import and_, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload, selectinload

from bdg_training.assessments import rules
from bdg_training.assessments.models import (
    Attempt,
    AttemptAnswer,
    EvaluationForm,
    EvaluationResponse,
    EvaluationSubmission,
    Option,
    Question,
    TestForm,
    TestFormItem,
)
from bdg_training.audit.services import diff, record
from bdg_training.courses.models import Course, Topic
from bdg_training.database import as_utc
from bdg_training.enrollment.models import Enrollment, Trainee
from bdg_training.extensions import db
from bdg_training.notifications.services import notify_pretest_form  # notifications (issue 9): mails join this transaction
from bdg_training.rules_base import RuleViolation
from bdg_training.text import fold

CONFIRMED = "confirmed"
SEX_GROUPS: tuple[tuple[str, str], ...] = (("nam", "Nam"), ("nu", "Nữ"), ("total", "Tổng"))


def grace_seconds() -> int:
    return int(current_app.config.get("ASSESSMENT_GRACE_SECONDS", rules.DEFAULT_GRACE_SECONDS))


# ==================================================================================================
# Question bank
# ==================================================================================================


def question_snapshot(question: Question) -> dict:
    return {
        "topic_id": question.topic_id,
        "kind": question.kind,
        "text": question.text,
        "explanation": question.explanation,
        "points": str(question.points),
        "options": [[o.text, o.is_correct] for o in question.options],
    }


def _values_snapshot(topic_id, kind, text, explanation, points, options: Sequence[rules.OptionInput]) -> dict:
    return {
        "topic_id": topic_id,
        "kind": kind,
        "text": text,
        "explanation": explanation,
        "points": str(rules.round_score(points)),
        "options": [[o.text, o.is_correct] for o in options],
    }


def _check_topic(topic_id: int | None) -> None:
    if topic_id is None or db.session.get(Topic, topic_id) is None:
        RuleViolation.single("topic_id", "Chọn chủ đề của câu hỏi.")


def create_question(
    actor,
    *,
    topic_id: int,
    kind: str,
    text: str,
    options: Sequence[rules.OptionInput],
    points: Decimal | int = 1,
    explanation: str | None = None,
    unit_id: int | None = None,
    audit: bool = True,
) -> Question:
    """Add version 1 of a question to the bank of ``topic_id``, owned by ``unit_id`` (default: the actor's)."""
    _check_topic(topic_id)
    rules.validate_question(kind, text, options, points)
    question = Question(
        topic_id=topic_id,
        kind=kind,
        text=text,
        explanation=explanation or None,
        points=rules.round_score(points),
        unit_id=unit_id if unit_id is not None else getattr(actor, "unit_id", None),
        search_key=rules.question_fingerprint(text),
        created_by_id=getattr(actor, "id", None),
        version=1,
        status="active",
    )
    question.options = [Option(position=i, text=o.text, is_correct=o.is_correct) for i, o in enumerate(options)]
    db.session.add(question)
    db.session.flush()
    question.root_id = question.id
    db.session.flush()
    if audit:
        record(actor, "question.create", question, f"Thêm câu hỏi: {text[:200]}")
    return question


def locked_form_ids_select():
    """SELECT of the ids of forms whose question list is in use: forms with an attempt, and pre-tests
    whose course's post-test reuses them (``same_as_pre``) and has an attempt."""
    with_attempts = select(Attempt.form_id).where(Attempt.form_id.is_not(None))
    pre, post = aliased(TestForm), aliased(TestForm)
    via_post = (
        select(pre.id)
        .join(post, and_(post.course_id == pre.course_id, post.kind == rules.POST, post.same_as_pre.is_(True)))
        .where(pre.kind == rules.PRE, post.id.in_(select(Attempt.form_id).where(Attempt.form_id.is_not(None))))
    )
    return with_attempts.union(via_post)


def question_is_used(question: Question) -> bool:
    """A question version is used once a form holding it is in use (see ``locked_form_ids_select``),
    or an answer to it was saved."""
    locked = locked_form_ids_select().subquery()
    on_locked_form = select(TestFormItem.id).where(TestFormItem.question_id == question.id, TestFormItem.form_id.in_(select(locked.c[0])))
    answered = select(AttemptAnswer.id).where(AttemptAnswer.question_id == question.id)
    return db.session.scalar(select(on_locked_form.exists())) or db.session.scalar(select(answered.exists())) or False


def form_is_locked(form: TestForm) -> bool:
    locked = locked_form_ids_select().subquery()
    return db.session.scalar(select(select(locked.c[0]).where(locked.c[0] == form.id).exists())) or False


def update_question(
    actor,
    question: Question,
    *,
    topic_id: int,
    kind: str,
    text: str,
    options: Sequence[rules.OptionInput],
    points: Decimal | int = 1,
    explanation: str | None = None,
) -> Question:
    """Edit a question. Returns the question as it now is.

    * Only the current version (status active) can be edited.
    * Unused (no form holding it is in use): changed in place.
    * Used: the row stays as it was (attempts were scored on it); a new row ``version + 1`` with the same
      ``root_id`` is created and the old one marked superseded. Forms not yet in use move to the new
      version; forms in use keep the old one.
    """
    if question.status != "active":
        RuleViolation.single("", "Chỉ sửa được phiên bản hiện hành của câu hỏi.")
    _check_topic(topic_id)
    rules.validate_question(kind, text, options, points)
    before = question_snapshot(question)
    after = _values_snapshot(topic_id, kind, text, explanation or None, points, options)
    if before == after:
        return question
    if not question_is_used(question):
        question.topic_id, question.kind, question.text = topic_id, kind, text
        question.explanation = explanation or None
        question.points = rules.round_score(points)
        question.search_key = rules.question_fingerprint(text)
        existing = list(question.options)
        for i, option in enumerate(options):
            if i < len(existing):
                existing[i].text, existing[i].is_correct = option.text, option.is_correct
            else:
                question.options.append(Option(position=i, text=option.text, is_correct=option.is_correct))
        for surplus in existing[len(options) :]:
            question.options.remove(surplus)
        db.session.flush()
        record(actor, "question.update", question, f"Sửa câu hỏi (chưa dùng): {text[:200]}", changes=diff(before, after))
        return question

    latest = db.session.scalar(select(func.max(Question.version)).where(Question.root_id == question.root_id)) or question.version
    new = Question(
        root_id=question.root_id,
        version=latest + 1,
        topic_id=topic_id,
        kind=kind,
        text=text,
        explanation=explanation or None,
        points=rules.round_score(points),
        unit_id=question.unit_id,
        search_key=rules.question_fingerprint(text),
        created_by_id=getattr(actor, "id", None),
        status="active",
    )
    new.options = [Option(position=i, text=o.text, is_correct=o.is_correct) for i, o in enumerate(options)]
    question.status = "superseded"
    db.session.add(new)
    db.session.flush()
    locked = locked_form_ids_select().subquery()
    movable = db.session.scalars(
        select(TestFormItem).where(TestFormItem.question_id == question.id, TestFormItem.form_id.not_in(select(locked.c[0])))
    ).all()
    for item in movable:
        clash = db.session.scalar(select(TestFormItem.id).where(TestFormItem.form_id == item.form_id, TestFormItem.question_id == new.id))
        if clash is None:
            item.question_id = new.id
    db.session.flush()
    record(
        actor,
        "question.new_version",
        new,
        f"Câu hỏi đã dùng trong bài làm: tạo phiên bản {new.version} (bản {question.version} giữ nguyên cho các bài đã làm)",
        changes=diff(before, after),
    )
    return new


def set_question_retired(actor, question: Question, retired: bool) -> None:
    """Retire (hide from new forms; forms holding it keep it) or restore the current version."""
    if question.status == "superseded":
        RuleViolation.single("", "Phiên bản này đã được thay thế; hãy thao tác trên phiên bản hiện hành.")
    target = "retired" if retired else "active"
    if question.status == target:
        return
    question.status = target
    db.session.flush()
    record(
        actor,
        "question.retire" if retired else "question.restore",
        question,
        ("Ngừng dùng" if retired else "Dùng lại") + f" câu hỏi: {question.text[:200]}",
    )


def question_versions(question: Question) -> list[Question]:
    return list(
        db.session.scalars(
            select(Question)
            .where(Question.root_id == question.root_id)
            .options(selectinload(Question.options))
            .order_by(Question.version.desc())
        )
    )


def question_list_query(*, topic_id: int | None = None, q: str = "", status: str = "active", kind: str | None = None):
    """The bank, newest first: current versions by default (``status="all"`` for every status but superseded)."""
    query = select(Question).options(selectinload(Question.options), joinedload(Question.topic), joinedload(Question.unit))
    if status == "all":
        query = query.where(Question.status != "superseded")
    else:
        query = query.where(Question.status == status)
    if topic_id:
        query = query.where(Question.topic_id == topic_id)
    if kind in rules.QUESTION_KINDS:
        query = query.where(Question.kind == kind)
    if q:
        for word in fold(q).split():
            query = query.where(Question.search_key.contains(word, autoescape=True))
    return query.order_by(Question.id.desc())


def topic_choices() -> list[tuple[int, str]]:
    return [(t.id, t.name) for t in db.session.scalars(select(Topic).order_by(Topic.sort_order, Topic.name))]


# ==================================================================================================
# Test forms
# ==================================================================================================


def forms_of(course: Course) -> dict[str, TestForm]:
    forms = db.session.scalars(
        select(TestForm)
        .where(TestForm.course_id == course.id)
        .options(selectinload(TestForm.items).joinedload(TestFormItem.question).selectinload(Question.options))
    ).all()
    return {f.kind: f for f in forms}


def question_source(form: TestForm, forms: Mapping[str, TestForm] | None = None) -> TestForm | None:
    """The form whose question list ``form`` uses: itself, or the pre-test for a post-test ``same_as_pre``."""
    if form.kind == rules.POST and form.same_as_pre:
        if forms is not None:
            return forms.get(rules.PRE)
        return db.session.scalar(select(TestForm).where(TestForm.course_id == form.course_id, TestForm.kind == rules.PRE))
    return form


def form_questions(form: TestForm, forms: Mapping[str, TestForm] | None = None) -> list[Question]:
    source = question_source(form, forms)
    return [] if source is None else [item.question for item in source.items]


def save_test_form(
    actor,
    course: Course,
    kind: str,
    *,
    question_ids: Sequence[int],
    title: str | None = None,
    instructions: str | None = None,
    time_limit_minutes: int | None = None,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    same_as_pre: bool = False,
    shuffle_questions: bool = True,
    shuffle_options: bool = True,
) -> TestForm:
    """Create or change the pre- or post-test of ``course``.

    Once a form is in use (an attempt exists on it, or on a post-test reusing it) its questions and
    ``same_as_pre`` can no longer change; the window, time limit and texts can (a new time limit applies
    to attempts started afterwards). New questions must be current (active) versions; questions already
    on the form may stay even if retired since.
    """
    if kind not in rules.TEST_KINDS:
        RuleViolation.single("kind", "Loại bài kiểm tra không hợp lệ.")
    form = db.session.scalar(select(TestForm).where(TestForm.course_id == course.id, TestForm.kind == kind))
    same_as_pre = bool(same_as_pre) and kind == rules.POST
    ids = [] if same_as_pre else list(dict.fromkeys(int(i) for i in question_ids))
    errors = RuleViolation()
    current_ids = [item.question_id for item in form.items] if form else []
    questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(ids)))} if ids else {}
    for qid in ids:
        q = questions.get(qid)
        if q is None or (q.status != "active" and qid not in current_ids):
            errors.add("question_ids", "Có câu hỏi không còn trong ngân hàng (đã ngừng dùng hoặc có phiên bản mới); hãy chọn lại.")
            break
    if same_as_pre:
        pre = db.session.scalar(select(TestForm).where(TestForm.course_id == course.id, TestForm.kind == rules.PRE))
        if pre is None or not pre.items:
            errors.add("same_as_pre", "Chưa có đề kiểm tra đầu vào để dùng lại.")
    if form is not None and (ids != current_ids or bool(form.same_as_pre) != same_as_pre) and form_is_locked(form):
        errors.add("question_ids", "Đã có học viên làm bài này, không thể thay đổi câu hỏi của đề.")
    try:
        rules.validate_form_settings(kind, time_limit_minutes, opens_at, closes_at, len(ids), same_as_pre)
    except RuleViolation as exc:
        for key, messages in exc.errors.items():
            for message in messages:
                if message not in errors.errors.get(key, []):
                    errors.add(key, message)
    errors.raise_if_any()

    values = {
        "title": title or None,
        "instructions": instructions or None,
        "time_limit_minutes": time_limit_minutes,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "same_as_pre": same_as_pre,
        "shuffle_questions": bool(shuffle_questions),
        "shuffle_options": bool(shuffle_options),
    }
    if form is None:
        form = TestForm(course_id=course.id, kind=kind, created_by_id=getattr(actor, "id", None), **values)
        db.session.add(form)
        before: dict = {}
        action = "test_form.create"
    else:
        before = {k: getattr(form, k) for k in values} | {"question_ids": current_ids}
        for key, value in values.items():
            setattr(form, key, value)
        action = "test_form.update"
    if ids != current_ids:
        # Rewrite the list: delete then insert, flushed in that order (unique form × question).
        if form.id is not None:
            db.session.execute(delete(TestFormItem).where(TestFormItem.form_id == form.id))
            db.session.expire(form, ["items"])
        db.session.flush()
        for position, qid in enumerate(ids):
            db.session.add(TestFormItem(form_id=form.id, question_id=qid, position=position))
        db.session.flush()
        db.session.expire(form, ["items"])
    db.session.flush()
    after = values | {"question_ids": ids}
    record(
        actor,
        action,
        form,
        f"{rules.kind_label(kind)} lớp {course.code}: {len(ids) if not same_as_pre else 'dùng lại đề đầu vào'}"
        + (" câu hỏi" if not same_as_pre else ""),
        object_type="test_forms",
        unit_id=course.unit_id,
        changes=diff(before, after),
    )
    notify_pretest_form(form)  # notifications: "pre-test open" once per trainee, if its window is open now
    return form


def close_form_now(actor, form: TestForm, now: datetime) -> int:
    """Close the window now (releasing the key to trainees) and close every attempt still in progress,
    scored with what was saved. Returns the number of attempts closed."""
    closes = as_utc(form.closes_at)
    if closes is None or closes > now:
        form.closes_at = now
        if form.opens_at is not None and as_utc(form.opens_at) >= now:
            form.opens_at = None
    in_progress = db.session.scalars(select(Attempt).where(Attempt.form_id == form.id, Attempt.status == rules.IN_PROGRESS)).all()
    for attempt in in_progress:
        _finish(attempt, now, by_deadline=True)
    db.session.flush()
    record(
        actor,
        "test_form.close",
        form,
        f"Đóng {rules.kind_label(form.kind).lower()} lớp {form.course.code}; {len(in_progress)} bài đang làm được thu",
        object_type="test_forms",
        unit_id=form.course.unit_id,
    )
    return len(in_progress)


# ==================================================================================================
# Attempts (online)
# ==================================================================================================


def trainee_enrollment(user, course_id: int) -> Enrollment | None:
    """The confirmed enrolment of a trainee login in a course, or ``None``."""
    trainee = getattr(user, "trainee", None)
    if trainee is None:
        return None
    return db.session.scalar(
        select(Enrollment)
        .where(Enrollment.course_id == course_id, Enrollment.trainee_id == trainee.id, Enrollment.status == CONFIRMED)
        .options(joinedload(Enrollment.course), joinedload(Enrollment.trainee))
    )


def find_attempt(enrollment_id: int, kind: str) -> Attempt | None:
    return db.session.scalar(select(Attempt).where(Attempt.enrollment_id == enrollment_id, Attempt.kind == kind))


def start_attempt(actor, enrollment: Enrollment, kind: str, now: datetime) -> tuple[Attempt, bool]:
    """Start (or resume) the online ``kind`` test of an enrolment. Returns ``(attempt, created)``.

    One attempt per enrolment and kind: an existing one (in progress, completed, or entered on paper) is
    returned, never a second. Two parallel requests both inserting hit the unique constraint; the loser's
    insert is rolled back to a savepoint and it returns the winner's attempt. The deadline is fixed now:
    the earlier of start + time limit and the window's close.
    """
    existing = find_attempt(enrollment.id, kind)
    if existing is not None:
        return existing, False
    form = db.session.scalar(select(TestForm).where(TestForm.course_id == enrollment.course_id, TestForm.kind == kind))
    if form is None:
        RuleViolation.single("", "Lớp chưa có bài kiểm tra này.")
    question_ids = [q.id for q in form_questions(form)]
    opens, closes = as_utc(form.opens_at), as_utc(form.closes_at)
    rules.check_can_start(now, opens, closes, len(question_ids))
    attempt = Attempt(
        enrollment_id=enrollment.id,
        kind=kind,
        form_id=form.id,
        source=rules.ONLINE,
        status=rules.IN_PROGRESS,
        question_ids=question_ids,
        started_at=now,
        deadline=rules.deadline(now, form.time_limit_minutes, closes),
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
            db.session.flush()
    except IntegrityError:
        winner = find_attempt(enrollment.id, kind)
        if winner is None:  # pragma: no cover - another constraint failed
            raise
        return winner, False
    record(
        actor,
        "attempt.start",
        attempt,
        f"Bắt đầu {rules.kind_label(kind).lower()} lớp {enrollment.course.code}",
        unit_id=enrollment.course.unit_id,
    )
    return attempt, True


def _attempt_questions(attempts: Iterable[Attempt]) -> dict[int, Question]:
    ids = {qid for a in attempts for qid in (a.question_ids or [])}
    if not ids:
        return {}
    return {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(ids)).options(selectinload(Question.options)))}


def _finish(attempt: Attempt, now: datetime, *, by_deadline: bool, questions: Mapping[int, Question] | None = None) -> None:
    """Score an online attempt with the answers saved so far and mark it completed."""
    questions = questions if questions is not None else _attempt_questions([attempt])
    form_questions_ = [questions[qid] for qid in attempt.question_ids if qid in questions]
    saved = {a.question_id: a for a in attempt.answers}
    result = rules.score_attempt([q.as_rule() for q in form_questions_], {qid: set(a.chosen or []) for qid, a in saved.items()})
    for qid, answer in saved.items():
        answer.is_correct = result.correct.get(qid, False)
    attempt.status = rules.COMPLETED
    attempt.score = result.score
    attempt.raw_points = result.raw_points
    attempt.max_points = result.max_points
    deadline = as_utc(attempt.deadline)
    attempt.submitted_at = min(now, deadline) if by_deadline and deadline is not None else now
    attempt.closed_by_deadline = by_deadline


def close_if_expired(attempt: Attempt, now: datetime) -> bool:
    """Close an online attempt in progress whose deadline (plus grace) has passed, scoring what was saved."""
    if attempt.status != rules.IN_PROGRESS or not rules.is_late(now, as_utc(attempt.deadline), grace_seconds()):
        return False
    _finish(attempt, now, by_deadline=True)
    db.session.flush()
    record(
        None,
        "attempt.timeout",
        attempt,
        "Hết giờ làm bài: bài được chấm với các câu trả lời đã lưu",
        unit_id=attempt.enrollment.course.unit_id,
    )
    return True


def expired_attempts(course: Course, now: datetime) -> list[Attempt]:
    """Attempts of ``course`` in progress past their deadline (plus grace)."""
    attempts = db.session.scalars(
        select(Attempt)
        .join(Enrollment, Attempt.enrollment_id == Enrollment.id)
        .where(Enrollment.course_id == course.id, Attempt.status == rules.IN_PROGRESS, Attempt.deadline.is_not(None))
    ).all()
    return [a for a in attempts if rules.is_late(now, as_utc(a.deadline), grace_seconds())]


def close_expired_attempts(course: Course, now: datetime) -> int:
    """Close every attempt of the course that ran out of time (results and grids show final scores)."""
    attempts = expired_attempts(course, now)
    if not attempts:
        return 0
    questions = _attempt_questions(attempts)
    for attempt in attempts:
        _finish(attempt, now, by_deadline=True, questions=questions)
        record(None, "attempt.timeout", attempt, "Hết giờ làm bài: bài được chấm với các câu trả lời đã lưu", unit_id=course.unit_id)
    db.session.flush()
    return len(attempts)


SAVED, SUBMITTED, LATE = "saved", "submitted", "late"


def save_answers(actor, attempt: Attempt, answers: Mapping[int, Iterable[int]], now: datetime, *, submit: bool = False) -> str:
    """Save the answers of the whole page as submitted, and submit if asked. Returns ``saved``,
    ``submitted`` or ``late``.

    * Late (``now`` after deadline + grace): the posted answers are **refused**; the attempt is closed and
      scored with what was saved before. The caller commits (the closure is real) and tells the trainee.
    * Every question of the attempt is written: a question missing from ``answers`` has nothing chosen
      (an unticked checkbox is not posted). Option ids must belong to the question; a single-answer or
      true/false question takes at most one.
    * A completed attempt cannot be changed.
    """
    if attempt.status == rules.COMPLETED:
        RuleViolation.single("", "Bài đã nộp, không thể sửa câu trả lời.")
    if rules.is_late(now, as_utc(attempt.deadline), grace_seconds()):
        close_if_expired(attempt, now)
        record(
            actor, "attempt.late_refused", attempt, "Câu trả lời gửi sau khi hết giờ bị từ chối", unit_id=attempt.enrollment.course.unit_id
        )
        return LATE
    questions = _attempt_questions([attempt])
    errors = RuleViolation()
    clean: dict[int, list[int]] = {}
    for qid in attempt.question_ids:
        question = questions.get(qid)
        if question is None:
            continue
        chosen = sorted({int(o) for o in answers.get(qid, ())})
        valid = {o.id for o in question.options}
        if any(o not in valid for o in chosen):
            errors.add(str(qid), "Phương án không thuộc câu hỏi này.")
        elif question.kind in ("single", "true_false") and len(chosen) > 1:
            errors.add(str(qid), "Câu này chỉ chọn một phương án.")
        clean[qid] = chosen
    unknown = set(answers) - set(attempt.question_ids)
    if unknown:
        errors.add("", "Câu hỏi không thuộc bài làm này.")
    errors.raise_if_any()
    saved = {a.question_id: a for a in attempt.answers}
    for qid, chosen in clean.items():
        answer = saved.get(qid)
        if answer is None:
            if chosen:
                attempt.answers.append(AttemptAnswer(question_id=qid, chosen=chosen, answered_at=now))
        elif list(answer.chosen or []) != chosen:
            answer.chosen = chosen
            answer.answered_at = now
    db.session.flush()
    if submit:
        _finish(attempt, now, by_deadline=False, questions=questions)
        db.session.flush()
        record(
            actor,
            "attempt.submit",
            attempt,
            f"Nộp {rules.kind_label(attempt.kind).lower()}: {rules.format_decimal(attempt.score)} điểm",
            unit_id=attempt.enrollment.course.unit_id,
        )
        return SUBMITTED
    return SAVED


def _sharing_closes(attempt: Attempt, forms: Mapping[str, TestForm]) -> list[datetime | None]:
    own = set(attempt.question_ids or [])
    return [
        as_utc(form.closes_at) for form in forms.values() if form.id == attempt.form_id or own & {q.id for q in form_questions(form, forms)}
    ]


def attempt_key_released(attempt: Attempt, forms: Mapping[str, TestForm], now: datetime) -> bool:
    """Whether the trainee may see the key of this attempt (``rules.key_released``): its own form and every
    form of the course sharing a question with it must have closed."""
    return rules.key_released(now, _sharing_closes(attempt, forms))


def key_release_at(attempt: Attempt, forms: Mapping[str, TestForm]) -> datetime | None:
    """When the key of this attempt will be shown (the last closing time), or ``None`` if a form sharing
    its questions has no closing time yet."""
    closes = _sharing_closes(attempt, forms)
    return max(closes) if closes and all(c is not None for c in closes) else None


@dataclass
class PresentedOption:
    option: Option
    letter: str  # its letter on paper (position), shown in the review
    chosen: bool


@dataclass
class PresentedQuestion:
    number: int
    question: Question
    options: list[PresentedOption]
    answered: bool
    is_correct: bool | None = None


def presented_questions(attempt: Attempt, questions: Mapping[int, Question] | None = None) -> list[PresentedQuestion]:
    """The attempt's questions in this attempt's order (shuffled by its stored seed when the form says
    so: the same order after every reload) with the options in this attempt's order and what was chosen."""
    questions = questions if questions is not None else _attempt_questions([attempt])
    form = attempt.form
    shuffle_q = form.shuffle_questions if form is not None else False
    shuffle_o = form.shuffle_options if form is not None else False
    ids = [qid for qid in attempt.question_ids if qid in questions]
    order = rules.shuffled_order(ids, f"{attempt.seed}:questions") if shuffle_q else ids
    saved = {a.question_id: a for a in attempt.answers}
    result = []
    for number, qid in enumerate(order, start=1):
        question = questions[qid]
        options = list(question.options)
        if shuffle_o and question.kind != "true_false":
            options = rules.shuffled_order(options, f"{attempt.seed}:options:{qid}")
        answer = saved.get(qid)
        chosen = set(answer.chosen or []) if answer else set()
        result.append(
            PresentedQuestion(
                number=number,
                question=question,
                options=[PresentedOption(o, o.letter, o.id in chosen) for o in options],
                answered=bool(chosen),
                is_correct=(answer.is_correct if answer and answer.is_correct is not None else False) if attempt.is_completed else None,
            )
        )
    return result


# ==================================================================================================
# Paper results
# ==================================================================================================


@dataclass
class GridRow:
    enrollment: Enrollment
    attempts: dict[str, Attempt]

    @property
    def trainee(self) -> Trainee:
        return self.enrollment.trainee

    def editable(self, kind: str) -> bool:
        attempt = self.attempts.get(kind)
        return attempt is None or attempt.source == rules.PAPER

    def cell_text(self, kind: str) -> str:
        attempt = self.attempts.get(kind)
        if attempt is None or attempt.score is None:
            return ""
        return rules.format_decimal(attempt.score)


def confirmed_enrollments(course: Course) -> list[Enrollment]:
    """Confirmed enrolments with their trainee, in class-list order (tên → tên đệm → họ)."""
    rows = db.session.scalars(
        select(Enrollment).where(Enrollment.course_id == course.id, Enrollment.status == CONFIRMED).options(joinedload(Enrollment.trainee))
    ).all()
    return sorted(rows, key=lambda e: e.trainee.name_key())


def attempts_by_enrollment(course: Course) -> dict[int, dict[str, Attempt]]:
    attempts = db.session.scalars(
        select(Attempt).join(Enrollment, Attempt.enrollment_id == Enrollment.id).where(Enrollment.course_id == course.id)
    ).all()
    result: dict[int, dict[str, Attempt]] = defaultdict(dict)
    for attempt in attempts:
        result[attempt.enrollment_id][attempt.kind] = attempt
    return result


def paper_grid(course: Course) -> list[GridRow]:
    by_enrollment = attempts_by_enrollment(course)
    return [GridRow(e, by_enrollment.get(e.id, {})) for e in confirmed_enrollments(course)]


def cell_name(kind: str, enrollment_id: int) -> str:
    return f"{kind}-{enrollment_id}"


@dataclass
class PaperOutcome:
    created: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deleted


def save_paper_scores(actor, course: Course, cells: Mapping[str, str | None], now: datetime) -> PaperOutcome:
    """Save the whole class's paper scores at once; all or nothing.

    ``cells`` maps ``"pre-<enrollment id>"`` / ``"post-<enrollment id>"`` to the typed text. "7,5" and "7.5"
    are accepted, 0–10, blank = not taken (a paper score already saved and now blank is deleted). A cell
    of a trainee who took that test online is not editable here. Any bad cell → ``RuleViolation`` with
    one message per bad cell, keyed by the cell name, and nothing saved.
    """
    # PostgreSQL: one grid save per course at a time (SQLite: the POST already holds the write lock).
    db.session.execute(select(Course.id).where(Course.id == course.id).with_for_update())
    rows = {row.enrollment.id: row for row in paper_grid(course)}
    labels: dict[str, str] = {}
    parsed_cells: dict[str, str | None] = {}
    errors = RuleViolation()
    targets: dict[str, tuple[int, str]] = {}
    for name, text in cells.items():
        kind, _, raw_id = name.partition("-")
        if kind not in rules.TEST_KINDS or not raw_id.isdigit() or int(raw_id) not in rows:
            errors.add("", "Bảng điểm có dòng không thuộc lớp này; vui lòng tải lại trang.")
            continue
        row = rows[int(raw_id)]
        labels[name] = f"{row.trainee.full_name} ({rules.TEST_KIND_SHORT[kind].lower()})"
        targets[name] = (int(raw_id), kind)
        parsed_cells[name] = text
    values: dict = {}
    try:
        values = rules.parse_score_grid(parsed_cells, labels)
    except RuleViolation as exc:
        for key, messages in exc.errors.items():
            for message in messages:
                errors.add(key, message)
    for name, value in values.items():
        enrollment_id, kind = targets[name]
        attempt = rows[enrollment_id].attempts.get(kind)
        if attempt is not None and attempt.source == rules.ONLINE:
            same = value is not None and attempt.score is not None and value == attempt.score
            if not same:
                errors.add(name, f"{labels[name]}: đã làm bài trực tuyến, không nhập điểm trên giấy.")
    errors.raise_if_any()

    forms = {f.kind: f for f in db.session.scalars(select(TestForm).where(TestForm.course_id == course.id))}
    outcome = PaperOutcome()
    changes: dict[str, list] = {}
    try:
        with db.session.begin_nested():
            for name, value in values.items():
                enrollment_id, kind = targets[name]
                row = rows[enrollment_id]
                attempt = row.attempts.get(kind)
                if attempt is not None and attempt.source == rules.ONLINE:
                    continue
                label = labels[name]
                if value is None:
                    if attempt is not None:
                        changes[label] = [str(attempt.score), None]
                        db.session.delete(attempt)
                        outcome.deleted += 1
                elif attempt is None:
                    form = forms.get(kind)
                    db.session.add(
                        Attempt(
                            enrollment_id=enrollment_id,
                            kind=kind,
                            form_id=form.id if form else None,
                            source=rules.PAPER,
                            status=rules.COMPLETED,
                            score=value,
                            submitted_at=now,
                            entered_by_id=getattr(actor, "id", None),
                        )
                    )
                    changes[label] = [None, str(value)]
                    outcome.created += 1
                elif attempt.score != value:
                    changes[label] = [str(attempt.score), str(value)]
                    attempt.score = value
                    attempt.submitted_at = now
                    attempt.entered_by_id = getattr(actor, "id", None)
                    outcome.updated += 1
            db.session.flush()
    except IntegrityError:
        RuleViolation.single("", "Có học viên vừa bắt đầu làm bài trực tuyến trong lúc nhập điểm; vui lòng tải lại trang và nhập lại.")
    if outcome.changed:
        record(
            actor,
            "attempt.paper_scores",
            course,
            f"Nhập điểm trên giấy lớp {course.code}: {outcome.created} mới, {outcome.updated} sửa, {outcome.deleted} xóa",
            changes=changes,
        )
    return outcome


# ==================================================================================================
# Results: per trainee, by sex, distribution, item analysis
# ==================================================================================================


@dataclass
class TraineeResult:
    enrollment: Enrollment
    pre: Attempt | None
    post: Attempt | None
    pre_score: Decimal | None
    post_score: Decimal | None
    gain: Decimal | None
    g: Decimal | None
    passed: bool | None  # None: no post-test score

    @property
    def trainee(self) -> Trainee:
        return self.enrollment.trainee


@dataclass
class SummaryRow:
    key: str
    label: str
    summary: rules.ClassSummary
    relative_change: Decimal | None


@dataclass
class OptionStat:
    letter: str
    text: str
    is_correct: bool
    count: int


@dataclass
class ItemRow:
    number: int
    question: Question
    stats: rules.ItemStats | None
    options: list[OptionStat]


@dataclass
class CourseResults:
    course: Course
    rows: list[TraineeResult]
    summaries: list[SummaryRow]
    distribution: dict[str, list[int]]
    items: dict[str, list[ItemRow]]
    n_online: dict[str, int]
    forms: dict[str, TestForm] = field(default_factory=dict)


def _result_row(enrollment: Enrollment, attempts: Mapping[str, Attempt], pass_mark: Decimal) -> TraineeResult:
    pre, post = attempts.get(rules.PRE), attempts.get(rules.POST)
    pre_score = pre.score if pre is not None and pre.is_completed else None
    post_score = post.score if post is not None and post.is_completed else None
    return TraineeResult(
        enrollment=enrollment,
        pre=pre,
        post=post,
        pre_score=pre_score,
        post_score=post_score,
        gain=rules.gain(pre_score, post_score),
        g=rules.normalized_gain(pre_score, post_score),
        passed=None if post_score is None else rules.passed(post_score, pass_mark),
    )


def _item_rows(form_question_ids: list[int], attempts: list[Attempt], questions: Mapping[int, Question]) -> list[ItemRow]:
    responses = []
    for attempt in sorted(attempts, key=lambda a: a.id):
        saved = {a.question_id: a for a in attempt.answers}
        items = {}
        for qid in attempt.question_ids:
            answer = saved.get(qid)
            items[qid] = (bool(answer.is_correct), list(answer.chosen or [])) if answer else (False, [])
        responses.append(rules.AttemptResponse(attempt.id, attempt.score, items))
    option_ids = {qid: [o.id for o in q.options] for qid, q in questions.items()}
    stats = rules.item_analysis(responses, option_ids) if responses else {}
    ordered = list(dict.fromkeys([*form_question_ids, *stats.keys()]))
    rows = []
    for number, qid in enumerate(ordered, start=1):
        question = questions.get(qid)
        if question is None:
            continue
        stat = stats.get(qid)
        counts = stat.option_counts if stat else {}
        rows.append(
            ItemRow(
                number=number,
                question=question,
                stats=stat,
                options=[OptionStat(o.letter, o.text, o.is_correct, counts.get(o.id, 0)) for o in question.options],
            )
        )
    return rows


def course_results(course: Course) -> CourseResults:
    """Everything the results page shows, in a fixed number of queries whatever the class size.

    * One row per confirmed enrolment: pre, post, gain, g, pass (pass at the course's pass mark).
    * Class summaries for nam, nữ and everyone (``rules.class_summary``: matched pairs, ⟨g⟩ from class
      means beside the mean of individual g, pass rate over post-test takers), plus the relative change of
      the mean (QĐ 1790's "+10–15 %").
    * Score distributions (one-point bins) of every completed pre- and post-test.
    * Item analysis of each form over the completed online attempts of confirmed enrolments.
    """
    pass_mark = course.pass_mark if course.pass_mark is not None else rules.DEFAULT_PASS_MARK
    enrollments = confirmed_enrollments(course)
    enrollment_ids = {e.id for e in enrollments}
    attempts = db.session.scalars(
        select(Attempt)
        .join(Enrollment, Attempt.enrollment_id == Enrollment.id)
        .where(Enrollment.course_id == course.id, Enrollment.status == CONFIRMED)
        .options(selectinload(Attempt.answers))
    ).all()
    by_enrollment: dict[int, dict[str, Attempt]] = defaultdict(dict)
    for attempt in attempts:
        by_enrollment[attempt.enrollment_id][attempt.kind] = attempt
    rows = [_result_row(e, by_enrollment.get(e.id, {}), pass_mark) for e in enrollments]

    summaries = []
    for key, label in SEX_GROUPS:
        group = [r for r in rows if key == "total" or r.trainee.sex == key]
        summary = rules.class_summary([(r.pre_score, r.post_score) for r in group], pass_mark)
        summaries.append(SummaryRow(key, label, summary, rules.relative_change(summary.mean_pre, summary.mean_post)))

    distribution = {
        rules.PRE: rules.score_distribution(r.pre_score for r in rows),
        rules.POST: rules.score_distribution(r.post_score for r in rows),
    }
    forms = forms_of(course)
    online = [a for a in attempts if a.source == rules.ONLINE and a.is_completed and a.enrollment_id in enrollment_ids]
    questions = {item.question.id: item.question for f in forms.values() for item in f.items}
    missing = {qid for a in online for qid in a.question_ids} - set(questions)
    if missing:
        questions.update(
            {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(missing)).options(selectinload(Question.options)))}
        )
    items: dict[str, list[ItemRow]] = {}
    n_online: dict[str, int] = {}
    for kind in rules.TEST_KINDS:
        form = forms.get(kind)
        kind_attempts = [a for a in online if a.kind == kind]
        n_online[kind] = len(kind_attempts)
        form_ids = [q.id for q in form_questions(form, forms)] if form else []
        items[kind] = _item_rows(form_ids, kind_attempts, questions) if (kind_attempts or form_ids) else []
    return CourseResults(course, rows, summaries, distribution, items, n_online, forms)


def results_chart(results: CourseResults) -> str:
    """The pre vs post score distribution as an SVG string (see ``bdg_training.charts``)."""
    from bdg_training.charts import svg_histogram

    return svg_histogram(
        list(rules.SCORE_BIN_LABELS),
        [
            ("Đầu vào", results.distribution[rules.PRE]),
            ("Cuối khóa", results.distribution[rules.POST]),
        ],
        title=f"Phân bố điểm đầu vào và cuối khóa — {results.course.code}",
        x_label="Điểm (thang 10)",
        y_label="Số học viên",
    )


def results_workbook(results: CourseResults) -> bytes:
    """The results as an .xlsx file: scores as numbers (2 decimals), one sheet per table."""
    from io import BytesIO

    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Kết quả"
    bold = Font(bold=True)
    course = results.course
    ws.append([f"Kết quả kiểm tra lớp {course.code} — {course.title}"])
    ws["A1"].font = bold
    ws.append([f"Điểm đạt: {rules.format_decimal(course.pass_mark)}; g = (cuối khóa − đầu vào) / (10 − đầu vào)"])
    header = [
        "STT",
        "Họ và tên",
        "Giới tính",
        "Năm sinh",
        "Đơn vị công tác",
        "Đầu vào",
        "Nguồn đầu vào",
        "Cuối khóa",
        "Nguồn cuối khóa",
        "Tăng (điểm)",
        "g",
        "Đạt",
    ]
    ws.append(header)
    for cell in ws[3]:
        cell.font = bold
    for i, row in enumerate(results.rows, start=1):
        t = row.trainee
        ws.append(
            [
                i,
                t.full_name,
                t.sex_label,
                t.birth_date.year if t.birth_date else t.birth_year,
                t.work_unit or "",
                row.pre_score,
                row.pre.source_label if row.pre and row.pre_score is not None else "",
                row.post_score,
                row.post.source_label if row.post and row.post_score is not None else "",
                rules.round_score(row.gain) if row.gain is not None else None,
                rules.round_score(row.g) if row.g is not None else None,
                "" if row.passed is None else ("Đạt" if row.passed else "Chưa đạt"),
            ]
        )
    for column in ("F", "H", "J", "K"):
        for cell in ws[column][3:]:
            cell.number_format = "0.00"
    ws.column_dimensions["B"].width = 28
    ws.column_dimensions["E"].width = 28

    summary = wb.create_sheet("Tổng hợp theo giới tính")
    summary.append(
        [
            "Nhóm",
            "Số cặp điểm",
            "TB đầu vào",
            "TB cuối khóa",
            "Tăng TB (điểm)",
            "Tăng tương đối",
            rules.CLASS_G_LABEL,
            "TB g cá nhân",
            "Mức Hake",
            "Số người làm bài cuối khóa",
            "Số người đạt",
            "Tỷ lệ đạt",
        ]
    )
    for cell in summary[1]:
        cell.font = bold
    for srow in results.summaries:
        s = srow.summary

        def r(value):
            return None if value is None else rules.round_score(value)

        summary.append(
            [
                srow.label,
                s.n_matched,
                r(s.mean_pre),
                r(s.mean_post),
                r(s.mean_gain),
                None if srow.relative_change is None else float(rules.round_to(srow.relative_change, 4)),
                r(s.class_g),
                r(s.mean_individual_g),
                s.hake_label,
                s.n_post_takers,
                s.n_passed,
                None if s.pass_rate is None else float(rules.round_to(s.pass_rate, 4)),
            ]
        )
    for row in summary.iter_rows(min_row=2):
        for cell in row[2:5] + row[6:8]:
            cell.number_format = "0.00"
        row[5].number_format = "0.00%"
        row[11].number_format = "0.00%"

    for kind, item_rows in results.items.items():
        if not item_rows:
            continue
        sheet = wb.create_sheet(f"Phân tích câu hỏi {rules.TEST_KIND_SHORT[kind].lower()}")
        sheet.append(
            ["Câu", "Nội dung", "Đáp án", "Số bài", "Độ khó (tỷ lệ đúng)", "Độ phân biệt", "Số lần chọn từng phương án", "Cảnh báo"]
        )
        for cell in sheet[1]:
            cell.font = bold
        for item in item_rows:
            st = item.stats
            sheet.append(
                [
                    item.number,
                    item.question.text,
                    item.question.key_letters,
                    st.n if st else 0,
                    float(st.facility) if st else None,
                    float(rules.round_score(st.discrimination)) if st and st.discrimination is not None else None,
                    "; ".join(f"{o.letter}: {o.count}" for o in item.options) + (f"; bỏ trống: {st.n_blank}" if st else ""),
                    ", ".join(st.flag_labels) if st else "",
                ]
            )
        for row in sheet.iter_rows(min_row=2):
            row[4].number_format = "0.00%"
            row[5].number_format = "0.00"
        sheet.column_dimensions["B"].width = 60
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


# ==================================================================================================
# Trainee side
# ==================================================================================================


@dataclass
class TraineeCourse:
    enrollment: Enrollment
    forms: dict[str, TestForm]
    attempts: dict[str, Attempt]
    evaluation: EvaluationForm | None
    evaluated: bool

    @property
    def course(self) -> Course:
        return self.enrollment.course


def trainee_courses(user) -> list[TraineeCourse]:
    """The trainee's confirmed enrolments with their test forms, attempts and evaluation, newest course first."""
    trainee = getattr(user, "trainee", None)
    if trainee is None:
        return []
    enrollments = db.session.scalars(
        select(Enrollment)
        .where(Enrollment.trainee_id == trainee.id, Enrollment.status == CONFIRMED)
        .options(joinedload(Enrollment.course))
        .join(Course, Enrollment.course_id == Course.id)
        .order_by(Course.start_date.desc(), Course.id.desc())
    ).all()
    course_ids = [e.course_id for e in enrollments]
    enrollment_ids = [e.id for e in enrollments]
    forms: dict[int, dict[str, TestForm]] = defaultdict(dict)
    for form in db.session.scalars(select(TestForm).where(TestForm.course_id.in_(course_ids))):
        forms[form.course_id][form.kind] = form
    attempts: dict[int, dict[str, Attempt]] = defaultdict(dict)
    for attempt in db.session.scalars(select(Attempt).where(Attempt.enrollment_id.in_(enrollment_ids))):
        attempts[attempt.enrollment_id][attempt.kind] = attempt
    evaluations = {f.course_id: f for f in db.session.scalars(select(EvaluationForm).where(EvaluationForm.course_id.in_(course_ids)))}
    submitted = set(
        db.session.scalars(select(EvaluationSubmission.enrollment_id).where(EvaluationSubmission.enrollment_id.in_(enrollment_ids)))
    )
    return [
        TraineeCourse(e, forms.get(e.course_id, {}), attempts.get(e.id, {}), evaluations.get(e.course_id), e.id in submitted)
        for e in enrollments
    ]


# ==================================================================================================
# Course evaluation (anonymous)
# ==================================================================================================


def evaluation_form_of(course: Course) -> EvaluationForm | None:
    return db.session.scalar(select(EvaluationForm).where(EvaluationForm.course_id == course.id))


def save_evaluation_form(actor, course: Course, *, item_keys: Sequence[str], allow_comment: bool, is_open: bool) -> EvaluationForm:
    """Create or change the course's evaluation form. Items cannot change once someone has answered
    (their answers would no longer match); opening, closing and comments can."""
    keys = list(item_keys)
    rules.check_evaluation_items(keys)
    form = evaluation_form_of(course)
    items = [{"key": k, "label": rules.EVALUATION_ITEMS[k]} for k in keys]
    if form is None:
        form = EvaluationForm(
            course_id=course.id, items=items, allow_comment=allow_comment, is_open=is_open, created_by_id=getattr(actor, "id", None)
        )
        db.session.add(form)
        before: dict = {}
    else:
        before = {"items": form.item_keys, "allow_comment": form.allow_comment, "is_open": form.is_open}
        if keys != form.item_keys:
            answered = db.session.scalar(select(func.count(EvaluationSubmission.id)).where(EvaluationSubmission.form_id == form.id))
            if answered:
                RuleViolation.single("items", "Đã có học viên gửi phiếu, không thể đổi các tiêu chí.")
            form.items = items
        form.allow_comment = allow_comment
        form.is_open = is_open
    db.session.flush()
    record(
        actor,
        "evaluation_form.save",
        form,
        f"Phiếu đánh giá lớp {course.code}: {len(keys)} tiêu chí, {'đang mở' if is_open else 'đóng'}",
        object_type="evaluation_forms",
        unit_id=course.unit_id,
        changes=diff(before, {"items": keys, "allow_comment": allow_comment, "is_open": is_open}),
    )
    return form


def has_evaluated(enrollment: Enrollment) -> bool:
    return db.session.scalar(select(EvaluationSubmission.id).where(EvaluationSubmission.enrollment_id == enrollment.id)) is not None


def submit_evaluation(actor, enrollment: Enrollment, form: EvaluationForm, ratings: Mapping[str, object], comment: str | None) -> None:
    """Record one anonymous evaluation: a marker that this enrolment answered (unique: once only, even
    for two parallel posts) and, separately, the answers without any link to the person."""
    if not form.is_open:
        RuleViolation.single("", "Phiếu đánh giá chưa mở hoặc đã đóng.")
    if has_evaluated(enrollment):
        RuleViolation.single("", "Bạn đã gửi phiếu đánh giá cho lớp này.")
    values = rules.parse_ratings(form.item_keys, ratings)
    text = (comment or "").strip() if form.allow_comment else ""
    if len(text) > rules.MAX_COMMENT_LENGTH:
        RuleViolation.single("comment", f"Ý kiến không được dài quá {rules.MAX_COMMENT_LENGTH} ký tự.")
    try:
        with db.session.begin_nested():
            db.session.add(EvaluationSubmission(form_id=form.id, enrollment_id=enrollment.id))
            db.session.add(EvaluationResponse(form_id=form.id, ratings=values, comment=text or None))
            db.session.flush()
    except IntegrityError:
        RuleViolation.single("", "Bạn đã gửi phiếu đánh giá cho lớp này.")
    # The audit names the person and the form, never the response.
    record(
        actor,
        "evaluation.submit",
        object_type="evaluation_forms",
        object_id=form.id,
        unit_id=enrollment.course.unit_id,
        summary="Gửi phiếu đánh giá khóa học",
    )


@dataclass
class EvaluationItemResult:
    key: str
    label: str
    summary: rules.RatingSummary


@dataclass
class EvaluationResults:
    form: EvaluationForm
    n_responses: int
    n_enrolled: int
    visible: bool
    items: list[EvaluationItemResult]
    comments: list[str]


def evaluation_results(form: EvaluationForm) -> EvaluationResults:
    """Per item: number of answers, mean and distribution 1–5; the comments. Hidden (``visible`` false)
    below ``rules.ANONYMITY_THRESHOLD`` responses."""
    responses = db.session.scalars(
        select(EvaluationResponse).where(EvaluationResponse.form_id == form.id).order_by(EvaluationResponse.id)
    ).all()
    n_enrolled = db.session.scalar(
        select(func.count(Enrollment.id)).where(Enrollment.course_id == form.course_id, Enrollment.status == CONFIRMED)
    )
    visible = rules.evaluation_results_visible(len(responses))
    items = []
    for item in form.items:
        values = [r.ratings.get(item["key"]) for r in responses] if visible else []
        items.append(EvaluationItemResult(item["key"], item["label"], rules.rating_summary(values)))
    comments = sorted((r.comment for r in responses if r.comment), key=fold) if visible else []
    return EvaluationResults(form, len(responses), n_enrolled or 0, visible, items, comments)


# ==================================================================================================
# Course overview (organizers)
# ==================================================================================================


def course_overview(course: Course) -> dict:
    """Counts for the course's assessments page: forms, attempts by kind and source, evaluation."""
    forms = forms_of(course)
    counts = defaultdict(int)
    rows = db.session.execute(
        select(Attempt.kind, Attempt.source, Attempt.status, func.count(Attempt.id))
        .join(Enrollment, Attempt.enrollment_id == Enrollment.id)
        .where(Enrollment.course_id == course.id)
        .group_by(Attempt.kind, Attempt.source, Attempt.status)
    ).all()
    for kind, source, status, n in rows:
        counts[(kind, source, status)] += n
    n_confirmed = (
        db.session.scalar(select(func.count(Enrollment.id)).where(Enrollment.course_id == course.id, Enrollment.status == CONFIRMED)) or 0
    )
    evaluation = evaluation_form_of(course)
    n_evaluated = (
        db.session.scalar(select(func.count(EvaluationSubmission.id)).where(EvaluationSubmission.form_id == evaluation.id))
        if evaluation
        else 0
    )
    return {"forms": forms, "counts": counts, "n_confirmed": n_confirmed, "evaluation": evaluation, "n_evaluated": n_evaluated or 0}


# ==================================================================================================
# Import
# ==================================================================================================


def import_lookups() -> tuple[dict[str, int], set[tuple[int, str]]]:
    """What the importer needs from the database: topics by folded name, and (topic, fingerprint) of the
    active questions in the bank."""
    topics = {fold(t.name): t.id for t in db.session.scalars(select(Topic))}
    existing = {
        (topic_id, key)
        for topic_id, key in db.session.execute(select(Question.topic_id, Question.search_key).where(Question.status == "active"))
    }
    return topics, existing


def import_questions(actor, preview, *, filename: str = "") -> int:
    """Save every new question of a checked import (all or nothing: a preview with any bad row is
    refused). Questions already in the bank are skipped. Returns how many were added."""
    if not preview.ok:
        RuleViolation.single("file", "Tệp còn dòng lỗi; không câu hỏi nào được lưu.")
    rows = preview.new_rows
    for row in rows:
        create_question(
            actor,
            topic_id=row.topic_id,
            kind=row.kind,
            text=row.text,
            options=row.options,
            points=row.points,
            explanation=row.explanation,
            audit=False,
        )
    record(
        actor,
        "question.import",
        object_type="questions",
        unit_id=getattr(actor, "unit_id", None),
        summary=f"Nhập {len(rows)} câu hỏi từ tệp {filename}; bỏ qua {len(preview.skipped_rows)} câu đã có trong ngân hàng",
    )
    return len(rows)
