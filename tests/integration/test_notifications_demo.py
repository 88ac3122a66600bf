"""The demo, as the issue's "done when" describes it: withdrawing a trainee of the full open course
sends the promoted trainee a mail (in the development outbox), and hocvien can check in today."""

from __future__ import annotations

from sqlalchemy import func, select

from bdg_training.auth.models import User
from bdg_training.checkin import services as checkin_services
from bdg_training.checkin.demo import DEMO_CODE
from bdg_training.courses.models import Course
from bdg_training.database import utcnow
from bdg_training.enrollment import services as enrollment_services
from bdg_training.enrollment.models import Enrollment
from bdg_training.extensions import db
from bdg_training.notifications import rules
from bdg_training.notifications.models import OutboxMessage
from tests.conftest import fresh


def test_demo_withdrawal_mails_the_promoted_trainee_and_hocvien_checks_in(app, tmp_path):
    app.config["DEMO_CREDENTIALS_FILE"] = str(tmp_path / "logins.txt")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo", "--password", "mat-khau-demo-1"]).exit_code == 0
    fresh()
    queued = db.session.scalar(select(func.count(OutboxMessage.id)))
    assert queued > 40  # the open courses' registration mails
    assert runner.invoke(args=["seed-demo", "--password", "mat-khau-demo-1"]).exit_code == 0
    fresh()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == queued  # idempotent

    course = db.session.scalar(select(Course).where(Course.status == "open", Course.needs_approval.is_(False)))
    leaving = db.session.scalar(select(Enrollment).where(Enrollment.course_id == course.id, Enrollment.status == "confirmed").limit(1))
    head = db.session.scalar(select(Enrollment).where(Enrollment.course_id == course.id, Enrollment.waitlist_position == 1))
    organizer = db.session.scalar(select(User).where(User.username == "tochuc.codo"))
    enrollment_services.withdraw(organizer, leaving, now=utcnow())
    db.session.commit()
    [mail] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.event == rules.ENROLLMENT_PROMOTED)).all()
    assert mail.trainee_id == head.trainee_id and mail.to_address.endswith("@example.com")

    hocvien = db.session.scalar(select(User).where(User.username == "hocvien")).trainee
    session = db.session.scalar(select(Course).where(Course.code == DEMO_CODE)).sessions[0]
    result = checkin_services.check_in(hocvien.user, session, hocvien, now=utcnow(), method="qr")
    db.session.commit()
    assert not result.already and checkin_services.arrivals(session)[0] == 1
