"""Notification rules: optional vs mandatory events, back-off and dead letters, mail text helpers,
and the built-in templates (each renders with its event's variables, in the sandbox)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from bdg_training.notifications import rules
from bdg_training.notifications.defaults import DEFAULT_TEMPLATES, SAMPLE_CONTEXT

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "event, preferences, expected",
    [
        (rules.ENROLLMENT_PROMOTED, {rules.ENROLLMENT_PROMOTED: False}, True),  # mandatory: cannot be turned off
        (rules.ENROLLMENT_REJECTED, {}, True),
        (rules.COURSE_REMINDER, {}, True),  # optional, no preference: on
        (rules.COURSE_REMINDER, {rules.COURSE_REMINDER: False}, False),
        (rules.COURSE_REMINDER, {rules.COURSE_REMINDER: True}, True),
        (rules.CERTIFICATE_ISSUED, {rules.PRETEST_OPEN: False}, True),  # another event's choice does not matter
        ("no_such_event", {}, False),
    ],
)
def test_is_enabled(event, preferences, expected):
    assert rules.is_enabled(event, preferences) is expected


def test_enrolment_decisions_are_mandatory_and_announcements_optional():
    assert set(rules.OPTIONAL_EVENTS) == {rules.COURSE_REMINDER, rules.PRETEST_OPEN, rules.CERTIFICATE_ISSUED}
    assert not rules.EVENTS[rules.ENROLLMENT_WAITLISTED].optional


@pytest.mark.parametrize(
    "attempts, minutes",
    [(0, 1), (1, 1), (2, 5), (3, 25), (4, 125), (5, 625), (6, 24 * 60), (50, 24 * 60)],
)
def test_retry_delay_grows_five_fold_and_is_capped_at_a_day(attempts, minutes):
    assert rules.retry_delay(attempts) == timedelta(minutes=minutes)


@pytest.mark.parametrize(
    "attempts, permanent, status, delay",
    [
        (1, False, rules.PENDING, timedelta(minutes=1)),
        (3, False, rules.PENDING, timedelta(minutes=25)),
        (rules.MAX_ATTEMPTS - 1, False, rules.PENDING, timedelta(minutes=625)),
        (rules.MAX_ATTEMPTS, False, rules.DEAD, None),
        (rules.MAX_ATTEMPTS + 3, False, rules.DEAD, None),  # a "retry now" past the limit: one more try, then dead again
        (1, True, rules.FAILED, None),
    ],
)
def test_after_failure(attempts, permanent, status, delay):
    outcome = rules.after_failure(attempts, NOW, permanent=permanent)
    assert outcome.status == status
    assert outcome.next_attempt_at == (NOW + delay if delay else None)


@pytest.mark.parametrize("status, expected", [("pending", True), ("failed", True), ("dead", True), ("sent", False), ("sending", False)])
def test_only_unsent_messages_can_be_retried(status, expected):
    assert rules.can_retry(status) is expected


@pytest.mark.parametrize(
    "address, ok",
    [
        ("lan.nguyen@cantho.gov.vn", True),
        ("a@b.vn", True),
        (None, False),
        ("", False),
        ("khong-co-a-cong", False),
        ("a@b", False),
        ("Lan <lan@x.vn>", False),
        ("lan@x.vn\r\nBcc: all@x.vn", False),
        ("lan @x.vn", False),
        ("a" * 250 + "@x.vn", False),
    ],
)
def test_is_valid_address(address, ok):
    assert rules.is_valid_address(address) is ok


def test_clean_subject_is_one_line_and_bounded():
    assert rules.clean_subject("Lớp  “BĐG”\r\nBcc: x@y.vn") == "Lớp “BĐG” Bcc: x@y.vn"
    long = rules.clean_subject("ả" * 400)
    assert len(long) == 250 and long.endswith("…")


def test_text_to_html_escapes_everything_and_links_urls():
    html = rules.text_to_html('Chào <b>Lan</b> & "bạn"\nXem: https://x.vn/verify/Ab_9?a=1&b=2.\n\nĐoạn hai')
    assert "<b>" not in html
    assert "&lt;b&gt;Lan&lt;/b&gt; &amp; &quot;bạn&quot;<br>" in html
    assert '<a href="https://x.vn/verify/Ab_9?a=1&amp;b=2">https://x.vn/verify/Ab_9?a=1&amp;b=2</a>.' in html
    assert html.count("<p>") == 2


def test_a_url_cannot_smuggle_markup_into_the_link():
    html = rules.text_to_html('https://x.vn/"><script>alert(1)</script>')
    assert "<script>" not in html


_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


@pytest.mark.parametrize("event", list(rules.EVENTS))
def test_every_default_template_renders_with_its_sample_data(event):
    subject, body = DEFAULT_TEMPLATES[event]
    rendered_subject = _ENV.from_string(subject).render(SAMPLE_CONTEXT)
    rendered_body = _ENV.from_string(body).render(SAMPLE_CONTEXT)
    assert "\n" not in rendered_subject and "{{" not in rendered_subject
    assert rendered_body.startswith("Kính gửi Thạch Thị Sa Rươl,")
    assert "\n\n\n" not in rendered_body  # tags on their own lines leave no holes
    assert "Trân trọng," in rendered_body
    optional = rules.EVENTS[event].optional
    assert ("Tắt tại:" in rendered_body) is optional  # only optional mails offer to turn them off


def test_sessions_are_listed_one_per_line_in_the_confirmation():
    body = _ENV.from_string(DEFAULT_TEMPLATES[rules.ENROLLMENT_CONFIRMED][1]).render(SAMPLE_CONTEXT)
    assert "Lịch học:\n  - Thứ Hai 07/12/2026, 07:30–11:00: Luật Bình đẳng giới (Hội trường UBND xã Cờ Đỏ)\n  - Thứ Ba" in body


def test_the_certificate_mail_carries_the_verification_link_and_no_attachment_wording():
    body = _ENV.from_string(DEFAULT_TEMPLATES[rules.CERTIFICATE_ISSUED][1]).render(SAMPLE_CONTEXT)
    assert "https://tap-huan.example.vn/verify/Xy7kP2mQ9aLr" in body
    assert "đính kèm" not in body.lower()
