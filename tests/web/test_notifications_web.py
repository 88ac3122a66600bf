"""Notification pages: preferences, the scoped outbox with "retry now", the development mailbox,
and the admins' template editor with preview."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bdg_training.audit.models import AuditEvent
from bdg_training.extensions import db
from bdg_training.notifications import rules, services
from bdg_training.notifications.delivery import Attachment
from bdg_training.notifications.models import NotificationPreference, NotificationTemplate, OutboxMessage
from tests.conftest import csrf_token, fresh, login


@pytest.fixture
def mails(make):
    """One queued mail for a course of xã Cờ Đỏ, one for xã Vĩnh Thạnh, one about no course."""
    tree = make.reform_tree()
    made = {"tree": tree}
    for key, unit, email in (("codo", tree["x_codo"], "codo@example.vn"), ("vt", tree["x_vt"], "vt@example.vn")):
        course = make.course(unit, status="open", title=f"Lớp {unit.name}")
        trainee = make.trainee(email=email)
        made[key] = services.notify(
            rules.COURSE_REMINDER,
            to_trainee=trainee,
            context={"course": services.course_context(course)},
            dedupe_key=f"r:{key}",
            course=course,
            attachments=[Attachment("lop.ics", "text/calendar; charset=utf-8", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")],
        )
    made["none"] = services.notify(
        rules.ENROLLMENT_CONFIRMED, to_user=make.user("trainee", email="khac@example.vn", commit=False), context={}, dedupe_key="x"
    )
    db.session.commit()
    return made


# --- preferences ----------------------------------------------------------------------------------
def test_a_trainee_turns_off_an_optional_notification(client, make):
    user = make.user("trainee", email="lan@example.vn")
    login(client, user)
    html = client.get("/notifications/preferences").get_data(as_text=True)
    assert 'href="/notifications/preferences">Thông báo</a>' in html  # in the account menu
    assert "Nhắc lịch trước ngày khai giảng" in html and "Bắt buộc" in html and "Được chuyển từ danh sách chờ" in html
    response = client.post("/notifications/preferences", data={rules.PRETEST_OPEN: "y", rules.CERTIFICATE_ISSUED: "y"})
    assert response.status_code == 302
    fresh()
    assert services.preferences_for(user.id) == {rules.COURSE_REMINDER: False}
    html = client.get("/notifications/preferences").get_data(as_text=True)
    assert f'<input class="form-check-input" id="{rules.COURSE_REMINDER}"' in html  # unchecked
    assert f'<input checked class="form-check-input" id="{rules.PRETEST_OPEN}"' in html


def test_preferences_warn_a_user_without_email(client, make):
    login(client, make.user("trainee"))
    assert "chưa có địa chỉ email" in client.get("/notifications/preferences").get_data(as_text=True)


def test_preferences_need_csrf(client, make, csrf_on):
    user = make.user("trainee", email="lan@example.vn")
    login(client, user)
    assert client.post("/notifications/preferences", data={}).status_code == 400
    fresh()
    assert db.session.scalar(select(NotificationPreference)) is None


# --- outbox ------------------------------------------------------------------------------------------
def test_an_organizer_sees_the_outbox_of_their_courses_only(client, make, mails):
    login(client, make.user("organizer", unit=mails["tree"]["x_codo"]))
    html = client.get("/notifications/outbox").get_data(as_text=True)
    assert "codo@example.vn" in html and "vt@example.vn" not in html and "khac@example.vn" not in html
    assert client.get(f"/notifications/outbox/{mails['codo'].id}").status_code == 200
    for other in (mails["vt"], mails["none"]):
        assert client.get(f"/notifications/outbox/{other.id}").status_code == 404
        assert client.get(f"/notifications/outbox/{other.id}/attachments/0").status_code == 404
        assert client.post(f"/notifications/outbox/{other.id}/retry").status_code == 404


def test_an_admin_sees_everything_and_filters(client, make, mails):
    login(client, make.user("admin"))
    html = client.get("/notifications/outbox").get_data(as_text=True)
    assert all(address in html for address in ("codo@example.vn", "vt@example.vn", "khac@example.vn"))
    html = client.get(f"/notifications/outbox?event={rules.ENROLLMENT_CONFIRMED}").get_data(as_text=True)
    assert "khac@example.vn" in html and "codo@example.vn" not in html
    html = client.get("/notifications/outbox?q=VT@EXAMPLE").get_data(as_text=True)
    assert "vt@example.vn" in html and "codo@example.vn" not in html
    html = client.get("/notifications/outbox?status=sent").get_data(as_text=True)
    assert "Không có thư nào phù hợp." in html


def test_trainees_and_signers_have_no_outbox(client, make, mails):
    for role in ("trainee", "signer"):
        login(client, make.user(role))
        assert client.get("/notifications/outbox").status_code == 403
        assert client.get(f"/notifications/outbox/{mails['none'].id}").status_code == 403
        assert client.get("/notifications/templates").status_code == 403


def test_retry_now_makes_a_dead_message_due_and_is_audited(client, make, mails):
    message = db.session.get(OutboxMessage, mails["codo"].id)
    message.status, message.attempts, message.next_attempt_at, message.last_error = "dead", rules.MAX_ATTEMPTS, None, "421 bận"
    db.session.commit()
    organizer = make.user("organizer", unit=mails["tree"]["x_codo"])
    login(client, organizer)
    html = client.get(f"/notifications/outbox/{message.id}").get_data(as_text=True)
    assert "Hết lượt thử" in html and "421 bận" in html and "Gửi lại ngay" in html
    response = client.post(f"/notifications/outbox/{message.id}/retry", data={"next": "/notifications/outbox?status=dead"})
    assert response.status_code == 302 and response.headers["Location"] == "/notifications/outbox?status=dead"
    fresh()
    message = db.session.get(OutboxMessage, message.id)
    assert message.status == "pending" and message.next_attempt_at is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "outbox.retry"))
    assert event.actor_id == organizer.id and event.unit_id == mails["tree"]["x_codo"].id
    # An unsafe "next" is ignored.
    response = client.post(f"/notifications/outbox/{message.id}/retry", data={"next": "//evil.example"})
    assert response.headers["Location"] == f"/notifications/outbox/{message.id}"


def test_a_sent_message_cannot_be_retried(client, make, mails):
    message = db.session.get(OutboxMessage, mails["codo"].id)
    message.status = "sent"
    db.session.commit()
    login(client, make.user("admin"))
    client.post(f"/notifications/outbox/{message.id}/retry")
    assert "Không thể gửi lại" in client.get(f"/notifications/outbox/{message.id}").get_data(as_text=True)
    fresh()
    assert db.session.get(OutboxMessage, message.id).status == "sent"


def test_retry_needs_csrf(client, make, mails, csrf_on):
    login(client, make.user("admin"))
    assert client.post(f"/notifications/outbox/{mails['codo'].id}/retry").status_code == 400
    token = csrf_token(client, f"/notifications/outbox/{mails['codo'].id}")
    assert client.post(f"/notifications/outbox/{mails['codo'].id}/retry", data={"csrf_token": token}).status_code == 302


def test_attachment_download(client, make, mails):
    login(client, make.user("admin"))
    response = client.get(f"/notifications/outbox/{mails['codo'].id}/attachments/0")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert response.data.startswith(b"BEGIN:VCALENDAR")
    assert client.get(f"/notifications/outbox/{mails['codo'].id}/attachments/1").status_code == 404


def test_the_development_mailbox_shows_mails_and_exists_only_when_nothing_is_sent(client, app, make, mails, monkeypatch):
    login(client, make.user("admin"))
    html = client.get("/notifications/mailbox").get_data(as_text=True)
    assert "Hộp thư phát triển" in html and "Kính gửi" in html and "lop.ics" in html
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    assert client.get("/notifications/mailbox").status_code == 404
    assert "Hộp thư phát triển" not in client.get("/notifications/outbox").get_data(as_text=True)


def test_mail_text_is_shown_escaped(client, make):
    course = make.course(status="open", title="<script>alert(1)</script>")
    services.notify(
        rules.ENROLLMENT_CONFIRMED,
        to_trainee=make.trainee(email="a@example.vn"),
        context={"course": services.course_context(course)},
        dedupe_key="x",
        course=course,
    )
    db.session.commit()
    login(client, make.user("admin"))
    for url in ("/notifications/outbox", "/notifications/mailbox"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_outbox_list_does_not_grow_queries_with_rows(client, make, count_queries):
    def add(n: int) -> None:
        for _ in range(n):
            course = make.course(status="open")
            services.notify(
                rules.ENROLLMENT_CONFIRMED,
                to_trainee=make.trainee(email="a@example.vn"),
                context={},
                dedupe_key=f"k{course.id}",
                course=course,
            )
        db.session.commit()

    login(client, make.user("admin"))
    add(2)
    with count_queries() as few:
        client.get("/notifications/outbox")
    add(12)
    with count_queries() as many:
        assert client.get("/notifications/outbox").get_data(as_text=True).count("a@example.vn") == 14
    assert many.count == few.count


# --- templates (admin) -----------------------------------------------------------------------------
def test_an_admin_edits_previews_and_resets_a_template(client, make):
    admin = make.user("admin")
    login(client, admin)
    html = client.get("/notifications/templates").get_data(as_text=True)
    assert "Vào danh sách chờ" in html and "Mặc định" in html
    html = client.get(f"/notifications/templates/{rules.ENROLLMENT_WAITLISTED}").get_data(as_text=True)
    assert "vị trí số 2" in html  # the preview, with sample data
    assert "{{ waitlist.position }}" in html  # the variables help

    response = client.post(
        f"/notifications/templates/{rules.ENROLLMENT_WAITLISTED}",
        data={"subject": "Chờ số {{ waitlist.position }}", "body": "Chào {{ recipient_name }}", "action": "preview"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Chờ số 2" in html and "Chào Thạch Thị Sa Rươl" in html
    fresh()
    assert db.session.scalar(select(NotificationTemplate)) is None  # preview saves nothing

    response = client.post(
        f"/notifications/templates/{rules.ENROLLMENT_WAITLISTED}",
        data={"subject": "Chờ số {{ waitlist.position }}", "body": "Chào {{ recipient_name }}", "action": "save"},
    )
    assert response.status_code == 302
    fresh()
    assert db.session.scalar(select(NotificationTemplate.subject)) == "Chờ số {{ waitlist.position }}"
    assert "Đã chỉnh sửa" in client.get("/notifications/templates").get_data(as_text=True)

    response = client.post(
        f"/notifications/templates/{rules.ENROLLMENT_WAITLISTED}",
        data={"subject": "Chờ {{ waitlist.nope }}", "body": "x", "action": "save"},
    )
    assert response.status_code == 200 and "nope" in response.get_data(as_text=True)
    fresh()
    assert db.session.scalar(select(NotificationTemplate.subject)) == "Chờ số {{ waitlist.position }}"

    assert client.post(f"/notifications/templates/{rules.ENROLLMENT_WAITLISTED}/reset").status_code == 302
    fresh()
    assert db.session.scalar(select(NotificationTemplate)) is None
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("notification_template.%"))))
    assert actions == {"notification_template.update", "notification_template.reset"}


def test_templates_are_admin_only_and_unknown_events_404(client, make):
    login(client, make.user("organizer"))
    assert client.get(f"/notifications/templates/{rules.ENROLLMENT_CONFIRMED}").status_code == 403
    assert client.post(f"/notifications/templates/{rules.ENROLLMENT_CONFIRMED}", data={"subject": "x", "body": "y"}).status_code == 403
    assert client.post(f"/notifications/templates/{rules.ENROLLMENT_CONFIRMED}/reset").status_code == 403
    login(client, make.user("admin"))
    assert client.get("/notifications/templates/khong_co").status_code == 404
    assert client.post("/notifications/templates/khong_co/reset").status_code == 404
