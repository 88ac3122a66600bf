"""The demo fills the demo courses with plausible trainees, idempotently."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from bdg_training.auth.models import User
from bdg_training.courses.models import Course
from bdg_training.courses.services import local_today
from bdg_training.enrollment.models import Attendance, Enrollment, Trainee
from bdg_training.extensions import db


def _counts():
    db.session.expire_all()
    return tuple(db.session.scalar(select(func.count(m.id))) for m in (Trainee, Enrollment, Attendance))


def test_seed_demo_fills_courses_realistically_and_only_once(app, tmp_path):
    app.config["DEMO_CREDENTIALS_FILE"] = str(tmp_path / "logins.txt")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--password", "mat-khau-demo-1"])
    assert result.exit_code == 0, result.output
    first = _counts()
    assert first[0] > 200 and first[1] > 250 and first[2] > 300
    assert runner.invoke(args=["seed-demo", "--password", "mat-khau-demo-1"]).exit_code == 0
    assert _counts() == first

    trainees = db.session.scalars(select(Trainee)).all()
    women = sum(t.sex == "nu" for t in trainees) / len(trainees)
    assert 0.5 <= women <= 0.7
    ethnicities = Counter(t.ethnicity_code for t in trainees)
    assert ethnicities["05"] / len(trainees) > 0.08 and ethnicities["04"] / len(trainees) > 0.03  # Khmer and Hoa
    assert len({t.personal_id for t in trainees if t.personal_id}) == sum(1 for t in trainees if t.personal_id)

    # the full open course has a waiting list 1..n; the approval course has pending registrations
    by_status = Counter()
    for course in db.session.scalars(select(Course).where(Course.status == "open")):
        rows = db.session.scalars(select(Enrollment).where(Enrollment.course_id == course.id)).all()
        confirmed = sum(e.status == "confirmed" for e in rows)
        assert confirmed <= course.capacity
        positions = sorted(e.waitlist_position for e in rows if e.status == "waitlisted")
        assert positions == list(range(1, len(positions) + 1))
        by_status.update(e.status for e in rows)
    assert by_status["waitlisted"] >= 3 and by_status["pending"] >= 3

    # attendance only for sessions held, only for confirmed people
    today = local_today()  # the demo dates "today" in Vietnam time, like the pages
    marks = db.session.scalars(select(Attendance)).all()
    assert all(m.session.date <= today and m.enrollment.status == "confirmed" for m in marks)

    from bdg_training.enrollment.services import duplicate_groups

    assert any({t.full_name for t in group} == {"Nguyễn Thị Hoà", "Nguyễn Thị Hòa"} for group in duplicate_groups())

    hocvien = db.session.scalar(select(User).where(User.username == "hocvien")).trainee
    assert hocvien.full_name == "Thạch Thị Sa Rươl" and hocvien.ethnicity_code == "05"
    statuses = {e.course.status: e.status for e in hocvien.enrollments}
    assert statuses.get("open") == "confirmed" and statuses.get("finished") == "confirmed"
