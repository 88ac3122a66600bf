"""Certificate services: eligibility of a class, overrides, issuing, snapshot, lifecycle, register, verify."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bdg_training.audit.models import AuditEvent
from bdg_training.certificates import services
from bdg_training.certificates.models import Certificate
from bdg_training.database import utcnow
from bdg_training.extensions import db
from bdg_training.rules_base import RuleViolation


def _today():
    return services.local_date(utcnow())


def _class(make):
    """Five trainees of a 5-session course (minimum 80 %, pass mark 5): one eligible, one of each failure."""
    return make.certificate_class(
        [
            {"name": "Nguyễn Thị Đủ"},  # eligible
            {"name": "Trần Văn Vắng", "sex": "nam", "attended": 3},  # 60 % < 80 %
            {"name": "Lê Thị Điểm", "score": "4.5"},  # 4,50 < 5,00
            {"name": "Phạm Văn Chưa", "sex": "nam", "score": None},  # no post-test
            {"name": "Hồ Thị Chờ", "status": "pending", "attended": 0, "score": None},
        ],
        sessions=5,
    )


def _rows_by_name(course):
    return {r.trainee.full_name: r for r in services.review(course, today=_today())}


def test_review_lists_every_failed_reason(app, make):
    world = _class(make)
    rows = _rows_by_name(world["course"])
    assert rows["Nguyễn Thị Đủ"].eligibility.eligible
    assert rows["Trần Văn Vắng"].eligibility.reasons == ["Chuyên cần 60% < 80% yêu cầu (3/5 buổi)"]
    assert rows["Lê Thị Điểm"].eligibility.reasons == ["Điểm kiểm tra sau 4,50 < 5,00"]
    assert rows["Phạm Văn Chưa"].eligibility.reasons == ["Chưa có điểm kiểm tra sau"]
    assert rows["Hồ Thị Chờ"].eligibility.codes == ["enrollment", "attendance", "post_score"]
    assert [r.trainee.given_name for r in services.review(world["course"], today=_today())] == ["Chờ", "Chưa", "Điểm", "Đủ", "Vắng"]


def test_only_held_sessions_count_and_excused_is_not_attendance(app, make):
    from bdg_training.courses.models import CourseSession
    from bdg_training.enrollment.models import Attendance

    world = make.certificate_class([{"name": "Ngô Thị Phép", "attended": 3}], sessions=4)
    enrollment = world["enrollments"][0]
    fourth = world["course"].sessions[3]
    db.session.add(Attendance(enrollment=enrollment, session=fourth, status="excused"))
    db.session.commit()
    row = services.review(world["course"], today=_today())[0]
    assert (row.attended, row.held) == (3, 4)
    assert not row.eligibility.eligible  # 75 % < 80 %: excused is not present
    # The day before the fourth session, only three sessions have been held: 3/3 passes.
    row = services.review(world["course"], today=fourth.date - timedelta(days=1))[0]
    assert (row.attended, row.held) == (3, 3)
    assert row.eligibility.eligible
    assert db.session.scalar(select(db.func.count(CourseSession.id))) == 4


def test_review_query_count_does_not_grow_with_the_class(app, make, count_queries):
    small = make.certificate_class([{"name": "Nguyễn Thị Một"}], sessions=2)
    big = make.certificate_class(
        [{"name": f"Nguyễn Thị Người{i}", "attended": i % 3} for i in range(30)], sessions=2, settings=small["settings"]
    )
    db.session.expire_all()
    with count_queries() as few:
        services.review(db.session.get(type(small["course"]), small["course"].id), today=_today())
    db.session.expire_all()
    with count_queries() as many:
        services.review(db.session.get(type(big["course"]), big["course"].id), today=_today())
    assert many.count == few.count <= 9


def test_issue_all_issues_the_eligible_only_and_audits(app, make):
    world = _class(make)
    signer = make.user("signer", unit=world["issuer"])
    certificates = services.issue_all(signer, world["course"].id, now=utcnow())
    db.session.commit()
    assert [c.holder_name for c in certificates] == ["Nguyễn Thị Đủ"]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "certificate.issue")).all()
    assert len(events) == 1 and certificates[0].number in events[0].summary
    with pytest.raises(RuleViolation, match="Không có học viên nào đủ điều kiện"):
        services.issue_all(signer, world["course"].id, now=utcnow())


def test_issue_one_refuses_an_ineligible_trainee_with_every_reason(app, make):
    world = _class(make)
    signer = make.user("signer", unit=world["issuer"])
    pending = world["enrollments"][4]
    with pytest.raises(RuleViolation) as exc:
        services.issue_one(signer, pending.id, now=utcnow())
    assert exc.value.messages[0] == "Chưa được xác nhận ghi danh"
    assert len(exc.value.messages) == 3


def test_override_lets_a_signer_issue_with_a_recorded_reason(app, make):
    world = _class(make)
    signer = make.user("signer", unit=world["issuer"])
    absent = world["enrollments"][1]
    with pytest.raises(RuleViolation):
        services.set_override(signer, absent, "  ", today=_today())
    services.set_override(signer, absent, "Vắng 2 buổi do đi công tác theo quyết định của UBND; đã học bù.", today=_today())
    db.session.commit()
    row = _rows_by_name(world["course"])["Trần Văn Vắng"]
    assert row.can_issue and not row.eligibility.eligible
    certificate = services.issue_one(signer, absent.id, now=utcnow())
    db.session.commit()
    assert certificate.override_reason.startswith("Vắng 2 buổi")
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"certificate.override", "certificate.issue"} <= actions
    assert any("Xét đặc cách" in r for r in services.register_remarks(certificate))
    # An unconfirmed enrolment cannot be overridden
    with pytest.raises(RuleViolation, match="Không thể xét đặc cách"):
        services.set_override(signer, world["enrollments"][4], "Lý do", today=_today())


def test_course_setup_problems_are_all_reported(app, make):
    world = make.certificate_class(status="running", end_date=date.today() + timedelta(days=3))
    world["course"].signer_id = None
    db.session.commit()
    problems = services.issue_problems(world["course"], now=utcnow())
    assert any("kết thúc ngày" in p for p in problems)
    assert "Lớp chưa chọn người ký giấy chứng nhận." in problems
    signer = make.user("signer", unit=world["issuer"])
    with pytest.raises(RuleViolation):
        services.issue_all(signer, world["course"].id, now=utcnow())


def test_snapshot_freezes_every_printed_field(app, make):
    world = make.certificate_class(
        [{"name": "Nguyễn Thị Ẫặữự Đoan", "birth_date": date(1985, 2, 5), "work_unit": "Hội LHPN phường Ninh Kiều"}]
    )
    signer = make.user("signer", unit=world["issuer"])
    certificate = services.issue_all(signer, world["course"].id, now=utcnow())[0]
    db.session.commit()
    s = certificate.snapshot
    assert s["full_name"] == "Nguyễn Thị Ẫặữự Đoan"
    assert s["salutation"] == "Bà"
    assert s["date_of_birth"] == "05/02/1985"
    assert s["work_unit"] == "Hội LHPN phường Ninh Kiều"
    assert s["governing_body"] == "UBND THÀNH PHỐ CẦN THƠ" and s["issuing_body"] == "SỞ NỘI VỤ"
    assert s["signer_lines"] == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Trần Thị Mỹ Linh"]
    assert s["place_date_line"].startswith("Cần Thơ, ngày ")
    assert s["hours"] == "16"
    assert s["verify_url"].endswith("/verify/" + certificate.verify_code)
    assert len(certificate.verify_code) >= 16
    # Later edits never reach the stored snapshot
    trainee = certificate.trainee
    trainee.full_name = "Tên Đã Đổi"
    world["course"].title = "Tiêu đề mới"
    world["settings"].issuing_body = "SỞ KHÁC"
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(Certificate, certificate.id)
    assert again.snapshot == s


def test_revoke_needs_a_listed_reason_and_stays_in_the_register(app, make):
    world = make.certificate_class()
    signer = make.user("signer", unit=world["issuer"])
    first, second, third = services.issue_all(signer, world["course"].id, now=utcnow())
    db.session.commit()
    with pytest.raises(RuleViolation) as exc:
        services.revoke(signer, second, reason="other", note="", now=utcnow())
    assert "note" in exc.value.errors
    with pytest.raises(RuleViolation):
        services.revoke(signer, second, reason="made-up", now=utcnow())
    services.revoke(signer, second, reason="fraud", now=utcnow())
    db.session.commit()
    assert second.status == "revoked" and second.revoked_by_id == signer.id
    with pytest.raises(RuleViolation, match="Chỉ thu hồi được"):
        services.revoke(signer, second, reason="fraud", now=utcnow())
    rows = services.register_rows(db.session.scalars(services.register_query(world["issuer"].id, first.year)).unique())
    assert [r.certificate.sequence for r in rows] == [1, 2, 3]
    assert rows[1].certificate.status == "revoked"
    assert rows[1].remarks[0].startswith("Thu hồi ngày") and "gian lận" in rows[1].remarks[0]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.revoke")).object_id == str(second.id)
    # A revoked trainee may get a new certificate (a revoked one does not block), with the next number.
    rows = _rows_by_name(world["course"])
    assert rows[second.holder_name].can_issue


def test_reissue_gives_a_new_number_with_corrected_data_and_replaces_the_old(app, make):
    world = make.certificate_class([{"name": "Nguyễn Thị Sai", "birth_date": date(1990, 1, 1)}])
    signer = make.user("signer", unit=world["issuer"])
    old = services.issue_all(signer, world["course"].id, now=utcnow())[0]
    db.session.commit()
    old.trainee.birth_date = date(1990, 1, 10)
    db.session.commit()
    with pytest.raises(RuleViolation):
        services.reissue(signer, old, reason=" ", now=utcnow())
    db.session.rollback()
    new = services.reissue(signer, old, reason="Sai ngày sinh", now=utcnow())
    db.session.commit()
    assert (old.status, new.status, new.kind, new.replaces_id) == ("replaced", "valid", "reissue", old.id)
    assert new.sequence == old.sequence + 1 and new.number != old.number
    assert old.snapshot["date_of_birth"] == "01/01/1990" and new.snapshot["date_of_birth"] == "10/01/1990"
    assert services.successor(old).id == new.id
    assert services.register_remarks(new)[0] == f"Cấp lại do sai sót, thay số {old.number}: Sai ngày sinh"
    assert services.register_remarks(old) == [f"Đã được thay thế bởi số {new.number}"]
    with pytest.raises(RuleViolation):
        services.reissue(signer, old, reason="lần nữa", now=utcnow())
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.reissue")) is not None


def test_duplicate_copies_the_printed_data_and_is_marked_as_a_copy(app, make):
    world = make.certificate_class([{"name": "Đặng Thị Mất"}])
    signer = make.user("signer", unit=world["issuer"])
    old = services.issue_all(signer, world["course"].id, now=utcnow())[0]
    db.session.commit()
    old.trainee.full_name = "Đặng Thị Đổi Tên"
    db.session.commit()
    copy = services.duplicate(signer, old, note="Học viên báo mất bản chính", now=utcnow())
    db.session.commit()
    assert (old.status, copy.kind, copy.replaces_id) == ("replaced", "duplicate", old.id)
    assert copy.snapshot["copy_marker"] == "BẢN SAO"
    assert copy.snapshot["full_name"] == "Đặng Thị Mất"  # the data as printed, not today's
    assert copy.snapshot["place_date_line"] == old.snapshot["place_date_line"]
    assert copy.number != old.number and copy.verify_code != old.verify_code
    assert copy.snapshot["verify_code"] == copy.verify_code
    assert services.register_remarks(copy)[0].startswith(f"Bản sao (mất/hỏng) của số {old.number}")
    with pytest.raises(RuleViolation):
        services.duplicate(signer, old, now=utcnow())
    services.revoke(signer, copy, reason="lent", now=utcnow())
    db.session.commit()
    with pytest.raises(RuleViolation):
        services.duplicate(signer, copy, now=utcnow())  # a revoked certificate cannot come back as a copy


def test_verify_states(app, make):
    world = make.certificate_class()
    signer = make.user("signer", unit=world["issuer"])
    a, b, c = services.issue_all(signer, world["course"].id, now=utcnow())
    services.revoke(signer, b, reason="tampered", now=utcnow())
    new = services.reissue(signer, c, reason="Sai tên", now=utcnow())
    db.session.commit()
    assert services.verify(a.verify_code).state == "valid"
    revoked = services.verify(b.verify_code)
    assert revoked.state == "revoked" and revoked.public_dict()["revoked_on"]
    replaced = services.verify(c.verify_code)
    assert replaced.state == "replaced" and replaced.successor.id == new.id
    assert replaced.public_dict()["replaced_by"]["number"] == new.number
    assert services.verify("khong-co-ma-nay-1234").state == "unknown"
    assert services.verify("a b").state == "unknown"
    data = services.verify(a.verify_code).public_dict()
    assert "date_of_birth" not in data and "personal_id" not in data
    assert data["holder"] == a.snapshot["full_name"]


def test_register_gaps_are_detected(app, make):
    world = make.certificate_class()
    signer = make.user("signer", unit=world["issuer"])
    certificates = services.issue_all(signer, world["course"].id, now=utcnow())
    db.session.commit()
    year = certificates[0].year
    assert services.register_gaps(world["issuer"].id, year) == []
    db.session.delete(certificates[1])  # what the application never does
    db.session.commit()
    assert services.register_gaps(world["issuer"].id, year) == [2]


def test_issuer_settings_validate_the_number_pattern(app, make):
    admin = make.user("admin")
    unit = make.unit("Phòng Văn hóa - Xã hội", kind="phong", short_code="VHXH")
    with pytest.raises(RuleViolation) as exc:
        services.save_settings(
            admin, unit, governing_body="UBND XÃ CỜ ĐỎ", issuing_body="", place_name="Cờ Đỏ", number_pattern="{seq.__class__}"
        )
    assert "issuing_body" in exc.value.errors and "number_pattern" in exc.value.errors
    settings = services.save_settings(
        admin, unit, governing_body="UBND XÃ CỜ ĐỎ", issuing_body="PHÒNG VĂN HÓA - XÃ HỘI", place_name="Cờ Đỏ", number_pattern=""
    )
    db.session.commit()
    assert settings.number_pattern == "{seq:02d}/{year}/GCN-{short_code}"
    assert services.sample_number(settings, unit, 2026) == "07/2026/GCN-VHXH"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.settings")) is not None
