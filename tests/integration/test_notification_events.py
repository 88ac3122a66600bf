"""The features' services queue their mails in their own transaction: registration, organizer
enrolment, promotion from the waiting list (exactly one mail), approval and rejection, certificate
issued, pre-test open."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bdg_training.database import utcnow
from bdg_training.enrollment import services as enrollment_services
from bdg_training.extensions import db
from bdg_training.notifications import rules
from bdg_training.notifications.models import OutboxMessage


def _mails(**where) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    for key, value in where.items():
        query = query.where(getattr(OutboxMessage, key) == value)
    return list(db.session.scalars(query))


@pytest.fixture
def open_course(make):
    return make.course(
        make.unit("Cờ Đỏ"), status="open", capacity=1, start_date=utcnow().date() + timedelta(days=30), title="Luật Bình đẳng giới"
    )


def _person(make, name: str, email: str):
    return make.trainee(name, email=email)


def test_registration_mails_confirmed_then_waitlisted_with_position(make, open_course):
    now = utcnow()
    lan = _person(make, "Nguyễn Thị Lan", "lan@example.vn")
    hoa = _person(make, "Trần Thị Hoa", "hoa@example.vn")
    enrollment_services.register(None, open_course.id, lan, now=now)
    enrollment_services.register(None, open_course.id, hoa, now=now)
    db.session.commit()
    confirmed, waitlisted = _mails()
    assert (confirmed.event, confirmed.to_address) == (rules.ENROLLMENT_CONFIRMED, "lan@example.vn")
    assert (waitlisted.event, waitlisted.to_address) == (rules.ENROLLMENT_WAITLISTED, "hoa@example.vn")
    assert waitlisted.subject == "Danh sách chờ lớp “Luật Bình đẳng giới” — vị trí số 1"


def test_a_registration_that_rolls_back_leaves_no_mail(make, open_course):
    enrollment_services.register(None, open_course.id, _person(make, "Nguyễn Thị Lan", "lan@example.vn"), now=utcnow())
    db.session.rollback()
    assert _mails() == []


def test_a_course_needing_approval_sends_received_then_the_decision(make, open_course):
    open_course.needs_approval, open_course.capacity = True, 5
    db.session.commit()
    organizer = make.user("organizer", unit=open_course.unit)
    lan = enrollment_services.register(None, open_course.id, _person(make, "Nguyễn Thị Lan", "lan@example.vn"), now=utcnow())
    hoa = enrollment_services.register(None, open_course.id, _person(make, "Trần Thị Hoa", "hoa@example.vn"), now=utcnow())
    db.session.commit()
    assert [m.event for m in _mails()] == [rules.REGISTRATION_RECEIVED] * 2
    enrollment_services.decide(organizer, open_course, [lan.id], approve=True, now=utcnow())
    enrollment_services.decide(organizer, open_course, [hoa.id], approve=False, now=utcnow(), note="Lớp dành cho cán bộ Hội Phụ nữ")
    db.session.commit()
    confirmed = _mails(event=rules.ENROLLMENT_CONFIRMED)
    rejected = _mails(event=rules.ENROLLMENT_REJECTED)
    assert [m.to_address for m in confirmed] == ["lan@example.vn"]
    assert [m.to_address for m in rejected] == ["hoa@example.vn"]
    assert "Lý do: Lớp dành cho cán bộ Hội Phụ nữ" in rejected[0].body_text


@pytest.mark.both_dbs
def test_a_withdrawal_sends_exactly_one_mail_to_the_promoted_trainee(make, open_course):
    now = utcnow()
    first = enrollment_services.register(None, open_course.id, _person(make, "Nguyễn Thị Lan", "lan@example.vn"), now=now)
    enrollment_services.register(None, open_course.id, _person(make, "Trần Thị Hoa", "hoa@example.vn"), now=now)
    enrollment_services.register(None, open_course.id, _person(make, "Lê Thị Cúc", "cuc@example.vn"), now=now)
    db.session.commit()
    organizer = make.user("organizer", unit=open_course.unit)
    promoted = enrollment_services.withdraw(organizer, first, now=now)
    enrollment_services.rebalance_course(open_course, organizer, now)  # e.g. the course form saved again: nothing new
    db.session.commit()
    [mail] = _mails(event=rules.ENROLLMENT_PROMOTED)
    assert [e.trainee.email for e in promoted] == ["hoa@example.vn"]
    assert mail.to_address == "hoa@example.vn" and mail.course_id == open_course.id
    assert mail.subject == "Anh/chị đã có chỗ chính thức trong lớp “Luật Bình đẳng giới”"
    assert len(_mails()) == 4  # 1 confirmed + 2 waitlisted + 1 promoted: nothing for the one still waiting


def test_a_reactivated_enrolment_is_told_again(make, open_course):
    now = utcnow()
    lan = _person(make, "Nguyễn Thị Lan", "lan@example.vn")
    enrollment = enrollment_services.register(None, open_course.id, lan, now=now)
    enrollment_services.withdraw(None, enrollment, now=now)
    db.session.commit()
    enrollment_services.register(None, open_course.id, lan, now=now + timedelta(minutes=5))
    db.session.commit()
    assert [m.event for m in _mails()] == [rules.ENROLLMENT_CONFIRMED, rules.ENROLLMENT_CONFIRMED]


def test_an_organizer_enrolment_is_announced(make, open_course):
    organizer = make.user("organizer", unit=open_course.unit)
    enrollment_services.enrol_by_organizer(organizer, open_course.id, _person(make, "Nguyễn Thị Lan", "lan@example.vn"), now=utcnow())
    enrollment_services.enrol_by_organizer(organizer, open_course.id, make.trainee("Không Có Mail"), now=utcnow())
    db.session.commit()
    assert [(m.event, m.to_address) for m in _mails()] == [(rules.ENROLLMENT_CONFIRMED, "lan@example.vn")]


def test_issuing_a_certificate_mails_the_verification_link_and_nothing_else(app, make):
    from bdg_training.certificates import services as certificate_services

    world = make.certificate_class(
        [{"name": "Nguyễn Thị Đủ", "email": "du@example.vn"}, {"name": "Trần Thị Khác", "email": "khac@example.vn", "score": 2}]
    )
    signer = make.user("signer", unit=world["issuer"])
    [certificate] = certificate_services.issue_all(signer, world["course"].id, now=utcnow())
    db.session.commit()
    [mail] = _mails()
    assert (mail.event, mail.to_address, mail.attachments) == (rules.CERTIFICATE_ISSUED, "du@example.vn", [])
    assert f"Giấy chứng nhận số: {certificate.number}" in mail.body_text
    assert f"http://127.0.0.1:5000/verify/{certificate.verify_code}" in mail.body_text
    new = certificate_services.reissue(signer, certificate, reason="Sai ngày sinh", now=utcnow())
    db.session.commit()
    assert [m.to_address for m in _mails()] == ["du@example.vn", "du@example.vn"]
    assert new.verify_code in _mails()[-1].body_text


def test_saving_an_open_pre_test_tells_confirmed_trainees_once(app, make):
    from bdg_training.assessments import services as assessment_services
    from bdg_training.notifications import services

    course = make.course(status="running", start_date=utcnow().date())
    make.enrollment(course, make.trainee(email="lan@example.vn"))
    make.enrollment(course, make.trainee(email="cho@example.vn"), status="waitlisted", waitlist_position=1)
    questions = [make.question(), make.question()]
    organizer = make.user("organizer", unit=course.unit)
    later = utcnow() + timedelta(days=2)
    assessment_services.save_test_form(
        organizer, course, "pre", question_ids=[q.id for q in questions], opens_at=later, closes_at=later + timedelta(days=1)
    )
    db.session.commit()
    assert _mails() == []  # not open yet
    assert services.queue_open_pretests(now=later + timedelta(hours=1)) == 1  # the scheduled case (flask send-reminders)
    db.session.commit()
    assessment_services.save_test_form(organizer, course, "pre", question_ids=[q.id for q in questions])  # opened now
    db.session.commit()
    [mail] = _mails()
    assert (mail.event, mail.to_address) == (rules.PRETEST_OPEN, "lan@example.vn")
    assert f"/assessments/me/courses/{course.id}/pre" in mail.body_text
