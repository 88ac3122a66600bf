"""The demo seeder of assessments: a real question bank, plausible results, idempotent."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from bdg_training import demo
from bdg_training.assessments import rules, services
from bdg_training.assessments.models import Attempt, EvaluationResponse, Question, TestForm
from bdg_training.courses.models import Course
from bdg_training.enrollment.models import Enrollment
from bdg_training.extensions import db
from tests.conftest import login


def _seed():
    passwords = {u: "mat-khau-demo-1" for u in demo.demo_usernames()}
    summary = demo.seed_all(today=date(2026, 3, 10), passwords=passwords)
    db.session.commit()
    return summary


def test_demo_bank_results_and_idempotence(app, client):
    summary = _seed()
    assert 15 <= summary["câu hỏi"] <= 25
    gioi = db.session.scalar(select(Question).where(Question.text.like("Theo Điều 5 Luật Bình đẳng giới, «giới»%")))
    assert gioi.options[0].is_correct and gioi.options[0].text.startswith("Đặc điểm, vị trí, vai trò của nam và nữ")
    month = db.session.scalar(select(Question).where(Question.text.like("Tháng hành động%")))
    assert [o.text for o in month.options if o.is_correct] == ["Từ 15/11 đến 15/12"]

    finished = db.session.scalars(select(Course).where(Course.status == "finished", Course.id.in_(select(TestForm.course_id)))).all()
    assert len(finished) >= 4
    lower = missing = 0
    for course in finished:
        results = services.course_results(course)
        total = next(s for s in results.summaries if s.key == "total").summary
        assert total.n_matched >= 10 and total.mean_post > total.mean_pre, course.code
        lower += sum(1 for r in results.rows if r.gain is not None and r.gain < 0)
        missing += total.n_pre_only + total.n_post_only + total.n_no_score
        for s in results.summaries:
            if s.summary.n_matched:
                assert rules.hake_band(s.summary.class_g) is not None
    assert lower >= 3 and missing >= 3  # a few did worse, a few missed a test
    online = db.session.scalar(select(func.count(Attempt.id)).where(Attempt.source == "online"))
    assert online >= 30
    assert db.session.scalar(select(func.count(EvaluationResponse.id))) >= 20

    counts = (db.session.scalar(select(func.count(Question.id))), db.session.scalar(select(func.count(Attempt.id))))
    _seed()
    assert (db.session.scalar(select(func.count(Question.id))), db.session.scalar(select(func.count(Attempt.id)))) == counts

    # the demo trainee can start the pre-test of the course she registered for
    from bdg_training.auth.models import User

    hocvien = db.session.scalar(select(User).where(User.username == "hocvien"))
    login(client, hocvien)
    page = client.get("/assessments/me").get_data(as_text=True)
    assert "Vào bài" in page
    codo = db.session.scalar(
        select(Enrollment).where(Enrollment.trainee_id == hocvien.trainee.id, Enrollment.status == "confirmed").order_by(Enrollment.id)
    )
    assert client.get(f"/assessments/me/courses/{codo.course_id}/pre").status_code == 200
