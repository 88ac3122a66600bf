"""Assessments services with a database: versioning, forms, attempts, deadlines, paper grid, item
analysis and results computed by hand, anonymous evaluation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bdg_training.assessments import rules, services
from bdg_training.assessments.models import Attempt, AttemptAnswer, EvaluationResponse, EvaluationSubmission, Question, TestFormItem
from bdg_training.audit.models import AuditEvent
from bdg_training.database import as_utc
from bdg_training.extensions import db
from bdg_training.rules_base import RuleViolation

D = Decimal
NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


def opts(*texts, key=(0,)):
    return [rules.OptionInput(t, i in key) for i, t in enumerate(texts)]


@pytest.fixture
def world(make):
    unit = make.unit("Cờ Đỏ", kind="xa")
    organizer = make.user("organizer", unit=unit)
    topic = make.topic("Luật Bình đẳng giới")
    course = make.course(unit, topic=topic, status="running", pass_mark=D("5.00"))
    return {"unit": unit, "organizer": organizer, "topic": topic, "course": course}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# ------------------------------------------------------------------------------------------- questions


def test_create_question_sets_root_and_audits(world):
    q = services.create_question(
        world["organizer"], topic_id=world["topic"].id, kind="single", text="Giới là gì?", options=opts("Xã hội", "Sinh học")
    )
    db.session.commit()
    assert (q.root_id, q.version, q.status, q.unit_id) == (q.id, 1, "active", world["unit"].id)
    assert [o.letter for o in q.options] == ["A", "B"] and q.key_letters == "A"
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.object_id == str(q.id))) == "question.create"


def test_create_question_refuses_bad_definition(world):
    with pytest.raises(RuleViolation) as info:
        services.create_question(world["organizer"], topic_id=world["topic"].id, kind="single", text="", options=opts("a", "b", key=()))
    assert set(info.value.errors) == {"text", "options"}
    assert _count(Question) == 0


def test_editing_an_unused_question_changes_it_in_place(world, make):
    q = services.create_question(world["organizer"], topic_id=world["topic"].id, kind="single", text="Câu cũ?", options=opts("a", "b", "c"))
    make.test_form(world["course"], "pre", [q])  # on a form nobody has taken yet
    result = services.update_question(
        world["organizer"], q, topic_id=world["topic"].id, kind="single", text="Câu mới?", options=opts("x", "y", key=(1,))
    )
    db.session.commit()
    assert result.id == q.id and q.version == 1 and q.text == "Câu mới?"
    assert [(o.position, o.text, o.is_correct) for o in q.options] == [(0, "x", False), (1, "y", True)]
    assert _count(Question) == 1


def test_editing_a_used_question_creates_a_version_and_keeps_the_old_one(world, make):
    org, course = world["organizer"], world["course"]
    q = services.create_question(
        org, topic_id=world["topic"].id, kind="single", text="Luật BĐG thông qua năm nào?", options=opts("2005", "2006", key=(1,))
    )
    used_form = make.test_form(course, "pre", [q])
    other_course = make.course(world["unit"], topic=world["topic"])
    draft_form = make.test_form(other_course, "pre", [q])  # nobody took it: moves to the new version
    enrollment = make.enrollment(course)
    attempt, _ = services.start_attempt(org, enrollment, "pre", NOW)
    services.save_answers(org, attempt, {q.id: [q.options[1].id]}, NOW, submit=True)
    db.session.commit()
    assert services.question_is_used(q)

    new = services.update_question(
        org,
        q,
        topic_id=world["topic"].id,
        kind="single",
        text="Luật Bình đẳng giới được thông qua năm nào?",
        options=opts("2005", "2006", "2007", key=(1,)),
    )
    db.session.commit()
    assert new.id != q.id and (new.root_id, new.version) == (q.root_id, 2)
    assert q.status == "superseded" and q.text == "Luật BĐG thông qua năm nào?" and len(q.options) == 2
    assert [i.question_id for i in used_form.items] == [q.id]  # the taken form keeps version 1
    db.session.expire_all()
    assert [i.question_id for i in draft_form.items] == [new.id]
    assert attempt.score == D("10.00")  # scored on version 1, unchanged
    assert [v.version for v in services.question_versions(new)] == [2, 1]
    with pytest.raises(RuleViolation):
        services.update_question(org, q, topic_id=world["topic"].id, kind="single", text="x", options=opts("a", "b"))


def test_unchanged_edit_is_a_no_op(world):
    q = services.create_question(
        world["organizer"], topic_id=world["topic"].id, kind="true_false", text="Đúng hay sai?", options=rules.true_false_options(True)
    )
    same = services.update_question(
        world["organizer"], q, topic_id=world["topic"].id, kind="true_false", text="Đúng hay sai?", options=rules.true_false_options(True)
    )
    assert same is q and _count(AuditEvent) == 1


def test_retire_and_restore(world):
    q = services.create_question(world["organizer"], topic_id=world["topic"].id, kind="single", text="?", options=opts("a", "b"))
    services.set_question_retired(world["organizer"], q, True)
    assert q.status == "retired"
    assert db.session.scalars(services.question_list_query()).all() == []
    services.set_question_retired(world["organizer"], q, False)
    assert q.status == "active"


def test_question_search_folds_diacritics(world):
    services.create_question(
        world["organizer"], topic_id=world["topic"].id, kind="single", text="Định kiến giới là gì?", options=opts("a", "b")
    )
    services.create_question(
        world["organizer"], topic_id=world["topic"].id, kind="single", text="Bạo lực gia đình?", options=opts("a", "b")
    )
    found = db.session.scalars(services.question_list_query(q="dinh KIEN")).all()
    assert [q.text for q in found] == ["Định kiến giới là gì?"]


# ------------------------------------------------------------------------------------------- forms


def test_save_test_form_and_lock_after_an_attempt(world, make):
    org, course = world["organizer"], world["course"]
    q1, q2, q3 = (make.question(topic=world["topic"]) for _ in range(3))
    form = services.save_test_form(org, course, "pre", question_ids=[q2.id, q1.id], time_limit_minutes=20)
    db.session.commit()
    assert [i.question_id for i in form.items] == [q2.id, q1.id]
    form = services.save_test_form(org, course, "pre", question_ids=[q1.id, q3.id], time_limit_minutes=20)
    db.session.commit()
    assert [i.question_id for i in form.items] == [q1.id, q3.id]

    post = services.save_test_form(org, course, "post", question_ids=[], same_as_pre=True)
    db.session.commit()
    assert [q.id for q in services.form_questions(post)] == [q1.id, q3.id]

    enrollment = make.enrollment(course)
    services.start_attempt(org, enrollment, "post", NOW)  # an attempt on the post-test locks the pre-test's list
    db.session.commit()
    assert services.form_is_locked(post) and services.form_is_locked(form)
    with pytest.raises(RuleViolation) as info:
        services.save_test_form(org, course, "pre", question_ids=[q2.id])
    assert "không thể thay đổi câu hỏi" in str(info.value)
    db.session.rollback()
    # the window and the time limit can still change
    services.save_test_form(org, course, "pre", question_ids=[q1.id, q3.id], time_limit_minutes=45, closes_at=NOW + timedelta(days=1))
    db.session.commit()
    assert form.time_limit_minutes == 45


def test_save_test_form_refuses_retired_questions_and_missing_pre(world, make):
    org, course = world["organizer"], world["course"]
    q = make.question(topic=world["topic"], status="retired")
    with pytest.raises(RuleViolation) as info:
        services.save_test_form(org, course, "pre", question_ids=[q.id])
    assert "question_ids" in info.value.errors
    with pytest.raises(RuleViolation) as info:
        services.save_test_form(org, course, "post", question_ids=[], same_as_pre=True)
    assert "same_as_pre" in info.value.errors
    with pytest.raises(RuleViolation) as info:
        services.save_test_form(org, course, "pre", question_ids=[make.question().id], opens_at=NOW, closes_at=NOW - timedelta(hours=1))
    assert "closes_at" in info.value.errors


# ------------------------------------------------------------------------------------------- attempts


def _class_form(make, world, *, n=3, **form_values):
    questions = [make.question(topic=world["topic"], text=f"Câu {i + 1}?") for i in range(n)]
    form = make.test_form(world["course"], "pre", questions, **form_values)
    return form, questions


def test_start_fixes_the_deadline_and_returns_the_same_attempt_twice(world, make):
    _class_form(make, world, time_limit_minutes=15, closes_at=NOW + timedelta(minutes=10))
    enrollment = make.enrollment(world["course"])
    attempt, created = services.start_attempt(world["organizer"], enrollment, "pre", NOW)
    again, created_again = services.start_attempt(world["organizer"], enrollment, "pre", NOW + timedelta(minutes=1))
    db.session.commit()
    assert created and not created_again and again.id == attempt.id
    assert as_utc(attempt.deadline) == NOW + timedelta(minutes=10)  # the window's close comes before start + 15 min
    assert _count(Attempt) == 1


@pytest.mark.both_dbs
def test_start_recovers_from_a_parallel_insert(world, make, monkeypatch):
    """The loser of a race hits the unique constraint; it gets the winner's attempt, not an error."""
    _class_form(make, world)
    enrollment = make.enrollment(world["course"])
    winner = Attempt(enrollment_id=enrollment.id, kind="pre", source="online", status="in_progress", question_ids=[], started_at=NOW)
    db.session.add(winner)
    db.session.commit()
    real_find = services.find_attempt
    calls = []

    def find_nothing_first(enrollment_id, kind):  # the loser checked before the winner committed
        calls.append(1)
        return None if len(calls) == 1 else real_find(enrollment_id, kind)

    monkeypatch.setattr(services, "find_attempt", find_nothing_first)
    attempt, created = services.start_attempt(world["organizer"], enrollment, "pre", NOW)
    db.session.commit()
    assert not created and attempt.id == winner.id and _count(Attempt) == 1


def test_start_outside_the_window_is_refused(world, make):
    _class_form(make, world, opens_at=NOW + timedelta(hours=1))
    enrollment = make.enrollment(world["course"])
    with pytest.raises(RuleViolation, match="chưa mở"):
        services.start_attempt(world["organizer"], enrollment, "pre", NOW)


def test_answers_are_saved_as_submitted_then_scored(world, make):
    form, (q1, q2, q3) = _class_form(make, world)
    enrollment = make.enrollment(world["course"])
    attempt, _ = services.start_attempt(world["organizer"], enrollment, "pre", NOW)
    assert services.save_answers(None, attempt, {q1.id: [q1.options[0].id], q2.id: [q2.options[1].id]}, NOW) == services.SAVED
    db.session.commit()
    db.session.expire_all()
    assert {a.question_id: a.chosen for a in attempt.answers} == {q1.id: [q1.options[0].id], q2.id: [q2.options[1].id]}
    # a later page without q2 clears it (an unticked box is not posted); q3 answered correctly
    services.save_answers(None, attempt, {q1.id: [q1.options[0].id], q3.id: [q3.options[0].id]}, NOW, submit=True)
    db.session.commit()
    assert attempt.status == "completed" and attempt.raw_points == 2 and attempt.max_points == 3
    assert attempt.score == D("6.67")  # 2/3 × 10 = 6.666… → half-up 6.67
    with pytest.raises(RuleViolation, match="đã nộp"):
        services.save_answers(None, attempt, {}, NOW)


def test_answers_must_belong_to_the_attempt(world, make):
    form, (q1, q2, _) = _class_form(make, world)
    attempt, _ = services.start_attempt(None, make.enrollment(world["course"]), "pre", NOW)
    for bad in ({q1.id: [q2.options[0].id]}, {q1.id: [q1.options[0].id, q1.options[1].id]}, {999999: [1]}):
        with pytest.raises(RuleViolation):
            services.save_answers(None, attempt, bad, NOW)


def test_answer_after_the_deadline_is_refused_and_the_saved_answers_are_scored(world, make):
    form, (q1, q2, q3) = _class_form(make, world, time_limit_minutes=10)
    attempt, _ = services.start_attempt(None, make.enrollment(world["course"]), "pre", NOW)
    services.save_answers(None, attempt, {q1.id: [q1.options[0].id]}, NOW + timedelta(minutes=5))
    grace = rules.DEFAULT_GRACE_SECONDS
    # within the grace after the deadline: still accepted (network delay)
    services.save_answers(None, attempt, {q1.id: [q1.options[0].id], q2.id: [q2.options[0].id]}, NOW + timedelta(minutes=10, seconds=grace))
    db.session.commit()
    late = NOW + timedelta(minutes=10, seconds=grace + 1)
    all_right = {q.id: [q.options[0].id] for q in (q1, q2, q3)}
    assert services.save_answers(None, attempt, all_right, late, submit=True) == services.LATE
    db.session.commit()
    assert attempt.status == "completed" and attempt.closed_by_deadline
    assert as_utc(attempt.submitted_at) == NOW + timedelta(minutes=10)
    assert attempt.raw_points == 2 and attempt.score == D("6.67")  # q3 sent late was not counted
    assert {a.question_id for a in attempt.answers} == {q1.id, q2.id}
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "attempt.late_refused")) == 1


def test_expired_attempts_are_closed_for_the_course(world, make):
    form, (q1, *_rest) = _class_form(make, world, time_limit_minutes=10)
    a1, _ = services.start_attempt(None, make.enrollment(world["course"]), "pre", NOW)
    a2, _ = services.start_attempt(None, make.enrollment(world["course"]), "pre", NOW + timedelta(minutes=5))
    services.save_answers(None, a1, {q1.id: [q1.options[0].id]}, NOW)
    db.session.commit()
    later = NOW + timedelta(minutes=12)
    assert services.expired_attempts(world["course"], later) == [a1]
    assert services.close_expired_attempts(world["course"], later) == 1
    db.session.commit()
    assert a1.status == "completed" and a1.score == D("3.33") and a2.status == "in_progress"


def test_close_form_now_collects_attempts_in_progress(world, make):
    form, (q1, *_rest) = _class_form(make, world)
    attempt, _ = services.start_attempt(None, make.enrollment(world["course"]), "pre", NOW)
    services.save_answers(None, attempt, {q1.id: [q1.options[0].id]}, NOW)
    assert services.close_form_now(world["organizer"], form, NOW + timedelta(minutes=3)) == 1
    db.session.commit()
    assert attempt.status == "completed" and attempt.score == D("3.33")
    assert as_utc(form.closes_at) == NOW + timedelta(minutes=3)
    assert form.window_state(NOW + timedelta(minutes=3)) == "closed"


def test_presented_order_is_shuffled_per_attempt_and_stable(world, make):
    questions = [make.question(topic=world["topic"]) for _ in range(8)]
    make.test_form(world["course"], "pre", questions, shuffle_questions=True, shuffle_options=True)
    orders = set()
    for _ in range(4):
        attempt, _ = services.start_attempt(None, make.enrollment(world["course"]), "pre", NOW)
        db.session.commit()
        first = [(p.question.id, tuple(o.option.id for o in p.options)) for p in services.presented_questions(attempt)]
        db.session.expire_all()
        assert [(p.question.id, tuple(o.option.id for o in p.options)) for p in services.presented_questions(attempt)] == first
        assert sorted(q for q, _ in first) == sorted(q.id for q in questions)
        orders.add(tuple(q for q, _ in first))
    assert len(orders) > 1  # 4 attempts, 8! orders: the same order four times would be a bug


# ------------------------------------------------------------------------------------------- paper grid


def test_paper_grid_all_or_nothing(world, make):
    course = world["course"]
    a, b, c = (make.enrollment(course, make.trainee(name)) for name in ("Lê Văn An", "Trần Thị Bình", "Ngô Văn Cường"))
    make.enrollment(course, status="waitlisted", waitlist_position=1)  # not in the grid
    cells = {f"pre-{a.id}": "7,5", f"post-{a.id}": "8.25", f"pre-{b.id}": "11", f"post-{b.id}": "abc", f"pre-{c.id}": ""}
    with pytest.raises(RuleViolation) as info:
        services.save_paper_scores(world["organizer"], course, cells, NOW)
    db.session.rollback()
    assert set(info.value.errors) == {f"pre-{b.id}", f"post-{b.id}"}
    assert "Trần Thị Bình (đầu vào)" in info.value.errors[f"pre-{b.id}"][0]
    assert _count(Attempt) == 0  # the good cells of An were not saved either

    cells[f"pre-{b.id}"], cells[f"post-{b.id}"] = "", "6"
    outcome = services.save_paper_scores(world["organizer"], course, cells, NOW)
    db.session.commit()
    assert (outcome.created, outcome.updated, outcome.deleted) == (3, 0, 0)
    scores = {(x.enrollment_id, x.kind): x.score for x in db.session.scalars(select(Attempt))}
    assert scores == {(a.id, "pre"): D("7.50"), (a.id, "post"): D("8.25"), (b.id, "post"): D("6.00")}
    # change one, clear one
    outcome = services.save_paper_scores(
        world["organizer"], course, {f"pre-{a.id}": "7,75", f"post-{a.id}": "", f"post-{b.id}": "6,00"}, NOW
    )
    db.session.commit()
    assert (outcome.created, outcome.updated, outcome.deleted) == (0, 1, 1)
    assert {(x.enrollment_id, x.kind): x.score for x in db.session.scalars(select(Attempt))} == {
        (a.id, "pre"): D("7.75"),
        (b.id, "post"): D("6.00"),
    }


def test_paper_grid_cannot_overwrite_an_online_attempt_or_reach_another_class(world, make):
    course = world["course"]
    form, (q1, *_r) = _class_form(make, world)
    e = make.enrollment(course)
    attempt, _ = services.start_attempt(None, e, "pre", NOW)
    services.save_answers(None, attempt, {q1.id: [q1.options[0].id]}, NOW, submit=True)
    outsider = make.enrollment(make.course(world["unit"]))
    db.session.commit()
    with pytest.raises(RuleViolation) as info:
        services.save_paper_scores(world["organizer"], course, {f"pre-{e.id}": "9", f"pre-{outsider.id}": "5"}, NOW)
    db.session.rollback()
    assert "trực tuyến" in info.value.errors[f"pre-{e.id}"][0]
    assert info.value.errors[""]
    assert attempt.score == D("3.33") and _count(Attempt) == 1


# ------------------------------------------------------------------------------------------- item analysis by hand


def build_item_analysis_class(make, world):
    """Six trainees answer six questions online (1 point each). Keys: Q1 A, Q2 B, Q3 A+C (multiple),
    Q4 Đúng, Q5 Sai, Q6 C. Returns (questions, enrollments)."""
    t = world["topic"]
    q1 = make.question("Q1", topic=t, options=["A1", "B1", "C1"], key=(0,))
    q2 = make.question("Q2", topic=t, options=["A2", "B2", "C2"], key=(1,))
    q3 = make.question("Q3", topic=t, kind="multiple", options=["A3", "B3", "C3"], key=(0, 2))
    q4 = make.question("Q4", topic=t, kind="true_false", key=(0,))
    q5 = make.question("Q5", topic=t, kind="true_false", key=(1,))
    q6 = make.question("Q6", topic=t, options=["A6", "B6", "C6"], key=(2,))
    qs = [q1, q2, q3, q4, q5, q6]
    make.test_form(world["course"], "pre", qs)
    A, B, C = 0, 1, 2  # noqa: N806
    T, F = 0, 1  # noqa: N806  (Đúng, Sai)
    # answers per trainee: (Q1, Q2, Q3, Q4, Q5, Q6), each a tuple of option positions
    table = [
        ((A,), (B,), (A, C), (T,), (T,), (A,)),  # T1: Q1 Q2 Q3 Q4 right → 4/6 → 6.67
        ((A,), (B,), (A,), (T,), (T,), (A,)),  # T2: Q1 Q2 Q4 → 3/6 → 5.00
        ((A,), (C,), (A, C), (F,), (T,), (A,)),  # T3: Q1 Q3 → 2/6 → 3.33
        ((A,), (A,), (), (F,), (F,), (A,)),  # T4: Q1 Q5 → 3.33
        ((B,), (B,), (A, B, C), (F,), (F,), (A,)),  # T5: Q2 Q5 → 3.33
        ((A,), (), (C,), (F,), (F,), (A,)),  # T6: Q1 Q5 → 3.33
    ]
    enrollments = []
    for i, answers in enumerate(table, start=1):
        e = make.enrollment(world["course"], make.trainee(f"Học Viên Số{i}", sex="nu" if i % 2 else "nam"))
        attempt, _ = services.start_attempt(None, e, "pre", NOW)
        chosen = {q.id: [q.options[p].id for p in positions] for q, positions in zip(qs, answers, strict=True)}
        services.save_answers(None, attempt, chosen, NOW, submit=True)
        enrollments.append(e)
    db.session.commit()
    return qs, enrollments


def test_item_analysis_of_a_small_class_by_hand(world, make):
    qs, enrollments = build_item_analysis_class(make, world)
    results = services.course_results(world["course"])
    scores = [r.pre_score for r in sorted(results.rows, key=lambda r: r.enrollment.id)]
    assert scores == [D("6.67"), D("5.00"), D("3.33"), D("3.33"), D("3.33"), D("3.33")]
    items = {row.question.text: row for row in results.items["pre"]}
    # N = 6 → groups of round(0.27 × 6 = 1.62) = 2. Ranked by (score, attempt id): T3, T4, T5, T6 tie at 3.33;
    # the cut takes the lowest ids, so the bottom group is T3, T4 (T5, T6 left out); the top group is T2, T1.
    expected = {
        # text: (n correct, facility, upper, lower, D, flags)
        "Q1": (5, "0.8333", "1", "1", "0", ("weak",)),  # T1 T2 T3 T4 T6 right; top 2/2, bottom 2/2
        "Q2": (3, "0.5", "1", "0", "1", ()),  # T1 T2 T5; bottom T3 (C) T4 (A) wrong
        "Q3": (2, "0.3333", "0.5", "0.5", "0", ("weak",)),  # T1 T3; top T1 only, bottom T3 only
        "Q4": (2, "0.3333", "1", "0", "1", ()),  # T1 T2
        "Q5": (3, "0.5", "0", "0.5", "-0.5", ("negative",)),  # T4 T5 T6: the weak ones get it right
        "Q6": (0, "0", "0", "0", "0", ("too_hard", "weak")),  # nobody
    }
    for text, (n_correct, facility, upper, lower, d, flags) in expected.items():
        st = items[text].stats
        assert st.n == 6 and st.n_correct == n_correct, text
        assert rules.round_to(st.facility, 4) == D(facility), text
        assert (st.upper_facility, st.lower_facility, st.discrimination) == (D(upper), D(lower), D(d)), text
        assert st.flags == flags, text
    counts = {text: [(o.letter, o.count) for o in row.options] for text, row in items.items()}
    assert counts["Q1"] == [("A", 5), ("B", 1), ("C", 0)]
    assert counts["Q2"] == [("A", 1), ("B", 3), ("C", 1)] and items["Q2"].stats.n_blank == 1
    assert counts["Q3"] == [("A", 4), ("B", 1), ("C", 4)] and items["Q3"].stats.n_blank == 1  # T5 ticked all three
    assert counts["Q4"] == [("A", 2), ("B", 4)]
    assert counts["Q6"] == [("A", 6), ("B", 0), ("C", 0)]


# ------------------------------------------------------------------------------------------- results by sex, by hand

RESULTS_CLASS = [
    # (name, sex, pre, post)
    ("Nguyễn Văn An", "nam", "4", "7"),  # gain 3, g 3/6 = 0.5
    ("Trần Văn Bình", "nam", "6", "5"),  # gain −1, g −1/4 = −0.25; passes at exactly 5
    ("Lê Văn Cường", "nam", "5", None),  # pre only
    ("Phạm Thị Dung", "nu", "2", "8"),  # gain 6, g 6/8 = 0.75
    ("Võ Thị Em", "nu", "10", "9"),  # gain −1, g undefined (pre = 10)
    ("Đặng Thị Phương", "nu", None, "4.5"),  # post only, fails
    ("Huỳnh Thị Giang", "nu", "7.5", "9.5"),  # gain 2, g 2/2.5 = 0.8
]


def build_results_class(make, course):
    enrollments = {}
    for name, sex, pre, post in RESULTS_CLASS:
        e = make.enrollment(course, make.trainee(name, sex=sex))
        if pre is not None:
            make.paper_score(e, "pre", pre)
        if post is not None:
            make.paper_score(e, "post", post)
        enrollments[name] = e
    dropped = make.enrollment(course, make.trainee("Người Đã Rút", sex="nam"), status="withdrawn")
    make.paper_score(dropped, "pre", "0")  # a withdrawn enrolment is not in the class
    return enrollments


def test_results_by_sex_equal_a_hand_calculation(world, make):
    build_results_class(make, world["course"])
    results = services.course_results(world["course"])
    assert len(results.rows) == 7
    by = {row.key: row for row in results.summaries}
    nam, nu, total = by["nam"].summary, by["nu"].summary, by["total"].summary
    # Nam: pairs An (4 → 7), Bình (6 → 5): means 5 and 6, gain 1, ⟨g⟩ = 1/5 = 0.2 (low);
    # mean g = (0.5 − 0.25)/2 = 0.125 → "0,13"; post takers 7 and 5 both ≥ 5 → 100 %; +20 %.
    assert (nam.n_matched, nam.n_pre_only, nam.mean_pre, nam.mean_post, nam.mean_gain) == (2, 1, D(5), D(6), D(1))
    assert (nam.class_g, nam.mean_individual_g, nam.hake_band, nam.pass_rate) == (D("0.2"), D("0.125"), "low", D(1))
    assert by["nam"].relative_change == D("0.2")
    # Nữ: pairs Dung (2 → 8), Em (10 → 9), Giang (7.5 → 9.5): pre 19.5/3 = 6.5, post 26.5/3 = 8.83,
    # gain 7/3 = 2.33, ⟨g⟩ = (7/3)/3.5 = 2/3 → 0.67 (medium); mean g over Dung, Giang = 0.775 → 0.78;
    # post takers 8, 9, 4.5, 9.5 → 3/4.
    assert (nu.n_matched, nu.n_post_only, nu.mean_pre, nu.n_g_defined) == (3, 1, D("6.5"), 2)
    assert nu.display() == {
        "mean_pre": "6,50",
        "mean_post": "8,83",
        "mean_gain": "2,33",
        "class_g": "0,67",
        "mean_individual_g": "0,78",
        "hake_band": "Trung bình",
        "pass_rate": "75%",
    }
    # Total: pairs 4/7, 6/5, 2/8, 10/9, 7.5/9.5: pre 29.5/5 = 5.9, post 38.5/5 = 7.7, gain 1.8,
    # ⟨g⟩ = 1.8/4.1 = 0.439 → 0.44; mean g of 0.5, −0.25, 0.75, 0.8 = 0.45; pass 5/6.
    assert total.display() == {
        "mean_pre": "5,90",
        "mean_post": "7,70",
        "mean_gain": "1,80",
        "class_g": "0,44",
        "mean_individual_g": "0,45",
        "hake_band": "Trung bình",
        "pass_rate": "83,33%",
    }
    assert rules.format_percent(by["total"].relative_change) == "30,51%"  # 1.8 / 5.9
    row = {r.trainee.full_name: r for r in results.rows}
    assert (row["Trần Văn Bình"].gain, row["Trần Văn Bình"].g, row["Trần Văn Bình"].passed) == (D(-1), D("-0.25"), True)
    assert row["Võ Thị Em"].g is None and row["Lê Văn Cường"].passed is None and row["Đặng Thị Phương"].passed is False
    assert results.distribution["pre"] == [0, 0, 1, 0, 1, 1, 1, 1, 0, 1]  # 2, 4, 5, 6, 7.5, 10
    assert results.distribution["post"] == [0, 0, 0, 0, 1, 1, 0, 1, 1, 2]  # 4.5, 5, 7, 8, 9, 9.5


def test_results_workbook_has_numbers_as_numbers(world, make):
    from io import BytesIO

    from openpyxl import load_workbook

    build_results_class(make, world["course"])
    content = services.results_workbook(services.course_results(world["course"]))
    wb = load_workbook(BytesIO(content))
    sheet = wb["Kết quả"]
    header = [c.value for c in sheet[3]]
    rows = {r[1]: dict(zip(header, r, strict=False)) for r in sheet.iter_rows(min_row=4, values_only=True)}
    an = rows["Nguyễn Văn An"]
    assert (an["Đầu vào"], an["Cuối khóa"], an["Tăng (điểm)"], an["g"], an["Đạt"]) == (4, 7, 3, 0.5, "Đạt")
    assert isinstance(an["Đầu vào"], int | float)
    assert rows["Võ Thị Em"]["g"] is None
    summary = wb["Tổng hợp theo giới tính"]
    nu = [r for r in summary.iter_rows(min_row=2, values_only=True) if r[0] == "Nữ"][0]
    assert nu[1:4] == (3, 6.5, 8.83) and nu[11] == 0.75


# ------------------------------------------------------------------------------------------- evaluation


@pytest.mark.both_dbs
def test_evaluation_is_anonymous_and_once_per_enrolment(world, make):
    org, course = world["organizer"], world["course"]
    form = services.save_evaluation_form(org, course, item_keys=["content", "trainer"], allow_comment=True, is_open=True)
    enrollments = [make.enrollment(course) for _ in range(3)]
    ratings = [{"content": "5", "trainer": "4"}, {"content": "4", "trainer": "4"}, {"content": "3", "trainer": "5"}]
    services.submit_evaluation(None, enrollments[0], form, ratings[0], "Rất bổ ích")
    db.session.commit()
    assert not services.evaluation_results(form).visible  # 1 response: hidden
    with pytest.raises(RuleViolation, match="đã gửi"):
        services.submit_evaluation(None, enrollments[0], form, ratings[1], None)
    db.session.rollback()
    for e, r in zip(enrollments[1:], ratings[1:], strict=True):
        services.submit_evaluation(None, e, form, r, None)
    db.session.commit()
    data = services.evaluation_results(form)
    assert data.visible and data.n_responses == 3 and data.n_enrolled == 3
    content, trainer = data.items
    assert (content.summary.mean, content.summary.distribution[5], content.summary.distribution[3]) == (D(4), 1, 1)
    assert trainer.summary.mean == D("4.333333333333333333333333333")  # 13/3
    assert data.comments == ["Rất bổ ích"]
    # nothing links a response to a person: no enrolment, user or time column
    assert {c.name for c in EvaluationResponse.__table__.columns} == {"id", "form_id", "ratings", "comment"}
    assert _count(EvaluationSubmission) == 3 and _count(EvaluationResponse) == 3
    with pytest.raises(RuleViolation, match="tiêu chí"):
        services.save_evaluation_form(org, course, item_keys=["content"], allow_comment=True, is_open=True)


def test_evaluation_refuses_when_closed_or_incomplete(world, make):
    form = services.save_evaluation_form(
        world["organizer"], world["course"], item_keys=["content", "usefulness"], allow_comment=False, is_open=False
    )
    e = make.enrollment(world["course"])
    with pytest.raises(RuleViolation, match="chưa mở"):
        services.submit_evaluation(None, e, form, {"content": "5", "usefulness": "5"}, None)
    form.is_open = True
    with pytest.raises(RuleViolation) as info:
        services.submit_evaluation(None, e, form, {"content": "5"}, "bỏ qua vì không cho ý kiến")
    assert set(info.value.errors) == {"usefulness"}
    services.submit_evaluation(None, e, form, {"content": "5", "usefulness": "2"}, "không lưu")
    db.session.commit()
    assert db.session.scalar(select(EvaluationResponse.comment)) is None


def test_answers_table_is_enough_for_item_analysis(world, make):
    """Unanswered questions have no row, and the analysis still counts them as wrong and blank."""
    form, (q1, q2, q3) = _class_form(make, world)
    for _ in range(2):
        attempt, _ = services.start_attempt(None, make.enrollment(world["course"]), "pre", NOW)
        services.save_answers(None, attempt, {q1.id: [q1.options[0].id]}, NOW, submit=True)
    db.session.commit()
    assert _count(AttemptAnswer) == 2
    stats = {row.question.id: row.stats for row in services.course_results(world["course"]).items["pre"]}
    assert (stats[q1.id].n_correct, stats[q2.id].n_correct, stats[q2.id].n_blank) == (2, 0, 2)
    assert _count(TestFormItem) == 3
