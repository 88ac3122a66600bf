"""The outbox: queued in the caller's transaction, delivered afterwards with retries, back-off,
dead letters; templates, preferences, reminders."""

from __future__ import annotations

import io
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text

from bdg_training.audit.models import AuditEvent
from bdg_training.database import utcnow
from bdg_training.extensions import db
from bdg_training.notifications import outbox, rules, services
from bdg_training.notifications.delivery import ConsoleSender, DeliveryError
from bdg_training.notifications.models import NotificationPreference, OutboxMessage
from bdg_training.rules_base import RuleViolation
from tests.conftest import fresh
from tests.smtp_stub import SmtpStub


def _count(**where) -> int:
    query = select(func.count(OutboxMessage.id))
    for key, value in where.items():
        query = query.where(getattr(OutboxMessage, key) == value)
    return db.session.scalar(query)


@pytest.fixture
def world(make):
    unit = make.unit("Cờ Đỏ")
    course = make.course(
        unit,
        status="open",
        title="Bình đẳng giới trong gia đình",
        sessions=[(date(2026, 12, 7), "07:30", "11:00", {"subject": "Luật BĐG"})],
    )
    trainee = make.trainee("Thạch Thị Sa Rươl", email="saruol@example.vn")
    enrollment = make.enrollment(course, trainee, status="confirmed")
    return {"unit": unit, "course": course, "trainee": trainee, "enrollment": enrollment}


def _queue(world, key="k1", event=rules.ENROLLMENT_CONFIRMED, **kw):
    return services.notify(
        event,
        to_trainee=world["trainee"],
        context={"course": services.course_context(world["course"])},
        dedupe_key=key,
        course=world["course"],
        **kw,
    )


# --- queuing -----------------------------------------------------------------------------------
def test_a_rolled_back_change_leaves_no_outbox_row_and_a_committed_one_does(world):
    trainee = world["trainee"]
    trainee.phone = "+84901234567"
    assert _queue(world) is not None
    db.session.rollback()
    assert _count() == 0
    assert db.session.get(type(trainee), trainee.id).phone is None

    trainee.phone = "+84901234567"
    _queue(world)
    db.session.commit()
    fresh()
    message = db.session.scalar(select(OutboxMessage))
    assert (message.status, message.attempts, message.to_address, message.unit_id) == ("pending", 0, "saruol@example.vn", world["unit"].id)
    assert message.subject == "Xác nhận tham gia lớp “Bình đẳng giới trong gia đình”"
    assert "Kính gửi Thạch Thị Sa Rươl," in message.body_text
    assert "Thứ Hai 07/12/2026, 07:30–11:00: Luật BĐG (Hội trường UBND xã)" in message.body_text
    assert message.body_html.startswith("<!doctype html>")


def test_the_same_event_never_queues_twice(world):
    assert _queue(world, "promoted:1") is not None
    assert _queue(world, "promoted:1") is None  # same transaction
    db.session.commit()
    assert _queue(world, "promoted:1") is None  # later transaction
    db.session.commit()
    assert _count() == 1


@pytest.mark.both_dbs
def test_a_duplicate_key_inserted_concurrently_does_not_spoil_the_callers_transaction(world, monkeypatch):
    _queue(world, "dup")
    db.session.commit()
    # Pretend another transaction committed the same key between our check and our insert.
    monkeypatch.setattr(services, "already_queued", lambda key: False)
    world["trainee"].work_unit = "Hội LHPN xã Cờ Đỏ"
    assert _queue(world, "dup") is None
    db.session.commit()  # the caller's own change still commits
    fresh()
    assert _count() == 1
    assert db.session.get(type(world["trainee"]), world["trainee"].id).work_unit == "Hội LHPN xã Cờ Đỏ"


def test_recipients_without_an_address_are_skipped_and_a_login_address_is_used(world, make):
    no_mail = make.trainee("Lê Văn Tám", sex="nam")
    assert services.notify(rules.ENROLLMENT_CONFIRMED, to_trainee=no_mail, context={}, dedupe_key="a") is None
    bad = make.trainee("Lê Văn Chín", sex="nam", email="khong-phai-email")
    assert services.notify(rules.ENROLLMENT_CONFIRMED, to_trainee=bad, context={}, dedupe_key="b") is None
    user = make.user("trainee", email="tam@example.vn", full_name="Lê Văn Tám")
    no_mail.user_id = user.id
    db.session.flush()
    message = services.notify(rules.ENROLLMENT_CONFIRMED, to_trainee=no_mail, context={}, dedupe_key="c")
    assert message.to_address == "tam@example.vn" and message.user_id == user.id


def test_optional_events_respect_preferences_mandatory_ones_do_not(world, make):
    user = make.user("trainee", email="user@example.vn")
    world["trainee"].user_id = user.id
    db.session.add(NotificationPreference(user_id=user.id, event=rules.COURSE_REMINDER, enabled=False))
    db.session.add(NotificationPreference(user_id=user.id, event=rules.ENROLLMENT_PROMOTED, enabled=False))  # cannot be turned off
    db.session.commit()
    assert _queue(world, "r", rules.COURSE_REMINDER) is None
    assert _queue(world, "p", rules.ENROLLMENT_PROMOTED) is not None
    assert _queue(world, "c", rules.CERTIFICATE_ISSUED) is not None  # optional, not turned off


def test_set_preferences_ignores_mandatory_events_and_audits(make):
    user = make.user("trainee", email="user@example.vn")
    changed = services.set_preferences(
        user, user, {rules.COURSE_REMINDER: False, rules.ENROLLMENT_PROMOTED: False, rules.PRETEST_OPEN: True}
    )
    db.session.commit()
    assert changed == {rules.COURSE_REMINDER: [True, False]}
    assert services.preferences_for(user.id) == {rules.COURSE_REMINDER: False}
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "notification_preference.update"))
    assert services.set_preferences(user, user, {rules.COURSE_REMINDER: False}) == {}


# --- templates -----------------------------------------------------------------------------------
def test_an_admins_template_is_used_and_audited(world, make):
    admin = make.user("admin")
    services.save_template(admin, rules.ENROLLMENT_CONFIRMED, subject="Chào {{ recipient_name }}", body="Lớp {{ course.code }} — hẹn gặp!")
    db.session.commit()
    message = _queue(world)
    assert message.subject == "Chào Thạch Thị Sa Rươl"
    assert message.body_text == f"Lớp {world['course'].code} — hẹn gặp!\n"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "notification_template.update"))
    assert event.actor_id == admin.id and "subject" in event.changes

    services.reset_template(admin, rules.ENROLLMENT_CONFIRMED)
    db.session.commit()
    assert services.template_for(rules.ENROLLMENT_CONFIRMED)[2] is None


@pytest.mark.parametrize(
    "subject, body, field, message",
    [
        ("Chào {{ recipient_name", "x", "subject", "Mẫu không hợp lệ"),
        ("Chào", "{{ course.no_such_thing }}", "body", "no_such_thing"),
        ("Chào", "{{ ''.__class__.__mro__[1].__subclasses__() }}", "body", "Mẫu không hợp lệ"),  # the sandbox refuses
        ("Chào", "{% for x in range(10**9) %}{% endfor %}", "body", "Mẫu không hợp lệ"),
        ("", "x", "subject", "Không được để trống"),
    ],
)
def test_a_broken_or_unsafe_template_is_refused_with_the_reason(make, subject, body, field, message):
    with pytest.raises(RuleViolation) as error:
        services.save_template(make.user("admin"), rules.ENROLLMENT_CONFIRMED, subject=subject, body=body)
    assert any(message in m for m in error.value.errors[field])


def test_a_template_that_fails_at_send_time_falls_back_to_the_default(world):
    from bdg_training.notifications.models import NotificationTemplate

    # Saved behind validation's back (e.g. an older version): it divides by zero when rendered.
    db.session.add(NotificationTemplate(event=rules.ENROLLMENT_CONFIRMED, subject="{{ 1 // 0 }}", body="x"))
    db.session.commit()
    message = _queue(world)
    assert message.subject.startswith("Xác nhận tham gia lớp")


def test_the_text_mail_is_not_escaped_but_the_html_alternative_is(world):
    world["course"].title = "Lớp <b>A & B</b>"
    message = _queue(world)
    assert "“Lớp <b>A & B</b>”" in message.body_text
    assert "<b>" not in message.body_html and "&lt;b&gt;A &amp; B&lt;/b&gt;" in message.body_html


# --- reminders -----------------------------------------------------------------------------------
def test_reminders_go_once_to_confirmed_trainees_of_tomorrows_courses_with_an_ics(app, make):
    tomorrow = date(2026, 12, 7)
    unit = make.unit("Cờ Đỏ")
    course = make.course(unit, status="open", start_date=tomorrow, title="Lớp nhắc lịch")
    draft = make.course(unit, status="draft", start_date=tomorrow)
    other_day = make.course(unit, status="open", start_date=tomorrow + timedelta(days=1))
    for c in (course, draft, other_day):
        make.enrollment(c, make.trainee(email=f"c{c.id}@example.vn"), status="confirmed")
    make.enrollment(course, make.trainee(email="waiting@example.vn"), status="waitlisted", waitlist_position=1)
    now = utcnow()
    assert services.queue_course_reminders(start_day=tomorrow, now=now) == 1
    db.session.commit()
    assert services.queue_course_reminders(start_day=tomorrow, now=now) == 0  # idempotent
    message = db.session.scalar(select(OutboxMessage))
    assert message.to_address == f"c{course.id}@example.vn" and message.event == rules.COURSE_REMINDER
    assert "bắt đầu ngày mai (07/12/2026)" in message.subject
    [attachment] = services.attachments_of(message)
    assert attachment.filename == f"lop-{course.code}.ics" and attachment.content_type.startswith("text/calendar")
    ics = attachment.data.decode("utf-8")
    assert "BEGIN:VCALENDAR" in ics and "DTSTART:20261207T003000Z" in ics and "SUMMARY:Lớp nhắc lịch" in ics


def test_send_reminders_command_is_idempotent(app, make):
    tomorrow = date.today() + timedelta(days=1)
    course = make.course(status="open", start_date=tomorrow)
    make.enrollment(course, make.trainee(email="a@example.vn"))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["send-reminders", "--what", "courses", "--date", tomorrow.strftime("%d/%m/%Y")])
    second = runner.invoke(args=["send-reminders", "--date", tomorrow.strftime("%d/%m/%Y")])
    assert first.exit_code == 0 and "Đã xếp 1 thư nhắc lịch" in first.output
    assert second.exit_code == 0 and "Đã xếp 0 thư nhắc lịch" in second.output
    fresh()
    assert _count(event=rules.COURSE_REMINDER) == 1


# --- delivery ------------------------------------------------------------------------------------
@pytest.fixture
def smtp_config(app, monkeypatch):
    def point_at(stub: SmtpStub) -> None:
        for key, value in {
            "MAIL_BACKEND": "smtp",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": stub.port,
            "MAIL_TIMEOUT": 5,
            "MAIL_FROM": "Tập huấn BĐG <no-reply@cantho.gov.vn>",
        }.items():
            monkeypatch.setitem(app.config, key, value)

    return point_at


def test_a_refusing_mail_server_leaves_the_message_pending_and_a_later_run_sends_it(world, smtp_config):
    _queue(world)
    db.session.commit()
    first_run = utcnow()
    with SmtpStub("refuse") as server:
        smtp_config(server)
        result = outbox.deliver_pass(now=first_run)
    assert (result.claimed, result.retrying, result.sent) == (1, 1, 0)
    fresh()
    message = db.session.scalar(select(OutboxMessage))
    assert message.status == "pending" and message.attempts == 1
    assert message.next_attempt_at.replace(tzinfo=None) > first_run.replace(tzinfo=None)
    assert "421" in message.last_error

    with SmtpStub("accept") as server:
        smtp_config(server)
        assert outbox.deliver_pass(now=first_run + timedelta(seconds=30)).claimed == 0  # not due yet: back-off
        result = outbox.deliver_pass(now=first_run + timedelta(minutes=2))
        assert result.sent == 1
        [(recipients, mail)] = server.messages
    fresh()
    message = db.session.scalar(select(OutboxMessage))
    assert (message.status, message.attempts, message.sent_via, message.last_error) == ("sent", 2, "smtp", None)
    assert recipients == ["saruol@example.vn"]
    assert mail["Subject"] == "Xác nhận tham gia lớp “Bình đẳng giới trong gia đình”"
    assert mail["To"] == "Thạch Thị Sa Rươl <saruol@example.vn>"
    assert mail["Message-ID"] == f"<outbox-{message.id}@127.0.0.1>"
    assert "Kính gửi Thạch Thị Sa Rươl," in mail.get_body(("plain",)).get_content()
    assert "&#x27;" not in mail.get_body(("html",)).get_content()


def test_a_refused_address_fails_for_good_and_is_not_retried(world, smtp_config):
    _queue(world)
    db.session.commit()
    with SmtpStub("reject-rcpt") as server:
        smtp_config(server)
        result = outbox.deliver_pass()
        assert result.failed == 1
        assert outbox.deliver_pass(now=utcnow() + timedelta(days=2)).claimed == 0
    fresh()
    message = db.session.scalar(select(OutboxMessage))
    assert message.status == "failed" and "550" in message.last_error


class FlakySender:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list = []

    def send(self, message) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryError("máy chủ bận")
        self.sent.append(message)


def test_after_the_last_attempt_a_message_goes_to_the_dead_letters_and_retry_now_revives_it(world, make):
    _queue(world)
    db.session.commit()
    sender = FlakySender(failures=100)
    now = utcnow()
    for attempt in range(1, rules.MAX_ATTEMPTS + 1):
        result = outbox.deliver_pass(now=now, senders={"email": sender})
        assert result.claimed == 1, attempt
        now += rules.retry_delay(attempt) + timedelta(seconds=1)
    fresh()
    message = db.session.scalar(select(OutboxMessage))
    assert (message.status, message.attempts, message.next_attempt_at) == ("dead", rules.MAX_ATTEMPTS, None)
    assert outbox.deliver_pass(now=now + timedelta(days=30), senders={"email": sender}).claimed == 0

    admin = make.user("admin")
    outbox.retry_message(admin, message, now=now)
    db.session.commit()
    sender.failures = 0
    assert outbox.deliver_pass(now=now, senders={"email": sender}).sent == 1
    fresh()
    assert db.session.scalar(select(OutboxMessage.status)) == "sent"
    assert db.session.scalar(select(AuditEvent.summary).where(AuditEvent.action == "outbox.retry")).startswith("Gửi lại thư #")
    with pytest.raises(RuleViolation):
        outbox.retry_message(admin, db.session.scalar(select(OutboxMessage)), now=now)


def test_a_sender_crash_is_recorded_like_any_failure(world):
    class Broken:
        def send(self, message):
            raise RuntimeError("bug")

    _queue(world)
    db.session.commit()
    assert outbox.deliver_pass(senders={"email": Broken()}).retrying == 1
    fresh()
    assert db.session.scalar(select(OutboxMessage.last_error)) == "RuntimeError: bug"


def test_a_claim_whose_sender_died_is_taken_again_after_its_lease(world):
    _queue(world)
    db.session.commit()
    now = utcnow()
    assert len(outbox.claim_due(now=now)) == 1  # claimed, then the process "dies"
    sender = FlakySender(failures=0)
    assert outbox.deliver_pass(now=now + timedelta(minutes=1), senders={"email": sender}).claimed == 0
    assert outbox.deliver_pass(now=now + rules.CLAIM_LEASE + timedelta(seconds=1), senders={"email": sender}).sent == 1


@pytest.mark.both_dbs
def test_a_message_is_claimed_by_one_sender_only(world, app):
    for i in range(5):
        _queue(world, f"k{i}")
    db.session.commit()
    now = utcnow()
    results: list[int] = []
    barrier = threading.Barrier(4)

    def claim() -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results.extend(m.id for m, _ in outbox.claim_due(now=now, limit=5))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == sorted(set(results)) and len(results) == 5


@pytest.mark.both_dbs
def test_on_postgresql_a_row_locked_by_another_sender_is_skipped(world, backend):
    if backend != "postgresql":
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's; SQLite serializes the claim instead")
    first, second = _queue(world, "a"), _queue(world, "b")
    db.session.commit()
    first_id, second_id = first.id, second.id
    engine = create_engine(db.engine.url)
    try:
        with engine.connect() as other:
            other.execute(text("SELECT id FROM outbox_messages WHERE id = :id FOR UPDATE"), {"id": first_id})
            claimed = [m.id for m, _ in outbox.claim_due(now=utcnow())]
            other.rollback()
    finally:
        engine.dispose()
    assert claimed == [second_id]


def test_console_backend_prints_and_outbox_only_keeps(world, app, monkeypatch):
    _queue(world, "a")
    db.session.commit()
    stream = io.StringIO()
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "console")
    assert outbox.deliver_pass(senders={"email": ConsoleSender(stream)}).sent == 1
    assert "Đến: Thạch Thị Sa Rươl <saruol@example.vn>" in stream.getvalue()
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "outbox-only")
    _queue(world, "b")
    db.session.commit()
    assert outbox.deliver_pass().sent == 1
    fresh()
    assert set(db.session.scalars(select(OutboxMessage.sent_via))) == {"console", "outbox-only"}


def test_send_outbox_command(world, app):
    _queue(world)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["send-outbox"])
    assert result.exit_code == 0, result.output
    assert "gửi được 1" in result.output
    fresh()
    assert _count(status="sent") == 1


def test_background_sender_delivers_without_a_request(world, app):
    _queue(world)
    db.session.commit()
    db.session.close()
    thread = outbox.start_background_sender(app)
    try:
        assert thread.daemon and thread.is_alive()
        for _ in range(200):
            outbox.wake()
            fresh()
            if _count(status="sent") == 1:
                break
            threading.Event().wait(0.05)
        assert _count(status="sent") == 1
    finally:
        outbox.stop_background_sender()
    assert not thread.is_alive()


def test_the_reminder_mail_carries_the_ics_as_a_calendar_attachment(app, make):
    from email import message_from_bytes, policy

    from bdg_training.notifications.delivery import build_email

    course = make.course(status="open", start_date=date(2026, 12, 7))
    make.enrollment(course, make.trainee("Lê Thị Hồng", email="hong@example.vn"))
    services.queue_course_reminders(start_day=date(2026, 12, 7), now=utcnow())
    db.session.commit()
    [(message, _)] = outbox.claim_due(now=utcnow())
    mail = message_from_bytes(build_email(message, "Tập huấn BĐG <no-reply@cantho.gov.vn>").as_bytes(), policy=policy.default)
    assert mail["From"] == "Tập huấn BĐG <no-reply@cantho.gov.vn>" and mail["Auto-Submitted"] == "auto-generated"
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "text/calendar" and attachment.get_filename() == f"lop-{course.code}.ics"
    assert b"BEGIN:VEVENT" in attachment.get_payload(decode=True)


def test_an_unknown_mail_backend_stops_the_app_at_start(monkeypatch):
    from bdg_training import create_app

    with pytest.raises(RuntimeError, match="MAIL_BACKEND"):
        create_app("testing", MAIL_BACKEND="pigeon")
