"""Notification rules: the events, which are optional, delivery statuses, retry back-off and
dead-lettering, and small text helpers for mail. Pure: no Flask, no SQLAlchemy, no clock.

Events and preferences
    Every notification is one of :data:`EVENTS`. A *mandatory* event tells a person about a
    decision on their own place in a course (received, confirmed, waitlisted, promoted, rejected):
    it cannot be turned off. *Optional* events (the reminder the day before, "pre-test open",
    "certificate issued") can be turned off per user on the "Thông báo" page; a missing preference
    means "on". See :func:`is_enabled`.

Delivery statuses (``OutboxMessage.status``)::

    pending ──claim──► sending ──ok──► sent
       ▲                  │
       └──── transient ───┤  (attempts < MAX_ATTEMPTS: back to pending, next_attempt_at later)
                          ├── transient, attempts = MAX_ATTEMPTS ──► dead     (dead letter)
                          └── permanent (address refused) ─────────► failed   (needs a person)

    "Gửi lại ngay" (retry now) puts pending/failed/dead back to pending, due now; it allows one
    more attempt after the limit.

Back-off (:func:`retry_delay`): after the n-th failed attempt the next one waits
``1 × 5^(n−1)`` minutes — 1, 5, 25, 125, 625 min — capped at 24 h. With ``MAX_ATTEMPTS = 6`` a
message is dead-lettered about 13 hours after its first attempt, long enough to ride out a mail
server's maintenance night, short enough that a stale "course starts tomorrow" is not sent days later.

Claims (``sending``) carry a lease: ``next_attempt_at`` is set to ``now + lease`` when a sender
claims the row. A sender that dies mid-pass leaves the row ``sending``; once the lease expires
another pass claims it again. Delivery is therefore *at least once*: a crash between the SMTP
"250 OK" and the "sent" mark can send a mail twice (the Message-ID stays the same, so most mail
clients show one copy).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

# --------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------
REGISTRATION_RECEIVED = "registration_received"
ENROLLMENT_CONFIRMED = "enrollment_confirmed"
ENROLLMENT_WAITLISTED = "enrollment_waitlisted"
ENROLLMENT_PROMOTED = "enrollment_promoted"
ENROLLMENT_REJECTED = "enrollment_rejected"
COURSE_REMINDER = "course_reminder"
PRETEST_OPEN = "pretest_open"
CERTIFICATE_ISSUED = "certificate_issued"

_COURSE_VARS: tuple[tuple[str, str], ...] = (
    ("recipient_name", "Tên người nhận"),
    ("course.title", "Tên lớp"),
    ("course.code", "Mã lớp"),
    ("course.dates", "Thời gian (từ ngày … đến ngày …)"),
    ("course.start", "Ngày bắt đầu (dd/mm/yyyy)"),
    ("course.end", "Ngày kết thúc"),
    ("course.venue", "Địa điểm"),
    ("course.unit", "Đơn vị tổ chức"),
    ("course.sessions", "Danh sách buổi học (mỗi buổi: s.date, s.start, s.end, s.subject, s.venue, s.line)"),
    ("site.name", "Tên hệ thống"),
    ("site.url", "Địa chỉ trang web"),
    ("links.my_courses", "Liên kết “Lớp của tôi”"),
    ("links.preferences", "Liên kết trang tắt/bật thông báo"),
)


@dataclass(frozen=True)
class EventInfo:
    code: str
    label: str
    optional: bool
    description: str
    variables: tuple[tuple[str, str], ...] = _COURSE_VARS


EVENTS: dict[str, EventInfo] = {
    e.code: e
    for e in (
        EventInfo(REGISTRATION_RECEIVED, "Đã nhận đăng ký (chờ duyệt)", False, "Học viên tự đăng ký vào lớp cần duyệt."),
        EventInfo(ENROLLMENT_CONFIRMED, "Ghi danh được xác nhận", False, "Học viên có chỗ chính thức (đăng ký, ghi danh hoặc được duyệt)."),
        EventInfo(
            ENROLLMENT_WAITLISTED,
            "Vào danh sách chờ",
            False,
            "Lớp đã đủ chỗ, học viên vào danh sách chờ.",
            (*_COURSE_VARS, ("waitlist.position", "Thứ tự trong danh sách chờ")),
        ),
        EventInfo(
            ENROLLMENT_PROMOTED, "Được chuyển từ danh sách chờ lên chính thức", False, "Có người rút, học viên đầu danh sách chờ được nhận."
        ),
        EventInfo(
            ENROLLMENT_REJECTED,
            "Đăng ký bị từ chối",
            False,
            "Đơn vị tổ chức từ chối đăng ký.",
            (*_COURSE_VARS, ("reason", "Lý do (có thể trống)")),
        ),
        EventInfo(COURSE_REMINDER, "Nhắc lịch trước ngày khai giảng", True, "Gửi một ngày trước khi lớp bắt đầu, kèm tệp lịch (.ics)."),
        EventInfo(
            PRETEST_OPEN,
            "Mở bài kiểm tra đầu vào",
            True,
            "Bài kiểm tra đầu vào của lớp đã mở.",
            (
                *_COURSE_VARS,
                ("test.title", "Tên bài kiểm tra"),
                ("test.url", "Liên kết làm bài"),
                ("test.closes", "Hạn làm bài (có thể trống)"),
            ),
        ),
        EventInfo(
            CERTIFICATE_ISSUED,
            "Đã cấp giấy chứng nhận",
            True,
            "Giấy chứng nhận được cấp; thư chỉ có liên kết xác minh, không đính kèm tệp PDF.",
            (*_COURSE_VARS, ("certificate.number", "Số giấy chứng nhận"), ("certificate.verify_url", "Liên kết xác minh")),
        ),
    )
}
EVENT_CHOICES: list[tuple[str, str]] = [(code, info.label) for code, info in EVENTS.items()]
OPTIONAL_EVENTS: tuple[str, ...] = tuple(code for code, info in EVENTS.items() if info.optional)


def event_label(event: str) -> str:
    info = EVENTS.get(event)
    return info.label if info else event


def is_enabled(event: str, preferences: Mapping[str, bool]) -> bool:
    """Does a user receive ``event``? Mandatory events: always. Optional ones: unless the user
    turned them off (``preferences[event] is False``); no preference means yes. An unknown event
    is refused (``False``) so a typo never mails anyone."""
    info = EVENTS.get(event)
    if info is None:
        return False
    if not info.optional:
        return True
    return preferences.get(event, True) is not False


# --------------------------------------------------------------------------------------------
# Delivery statuses and retries
# --------------------------------------------------------------------------------------------
PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
DEAD = "dead"
STATUSES: tuple[str, ...] = (PENDING, SENDING, SENT, FAILED, DEAD)
STATUS_LABELS: dict[str, str] = {
    PENDING: "Chờ gửi",
    SENDING: "Đang gửi",
    SENT: "Đã gửi",
    FAILED: "Lỗi (không tự gửi lại)",
    DEAD: "Hết lượt thử",
}
STATUS_BADGES: dict[str, str] = {PENDING: "info", SENDING: "primary", SENT: "success", FAILED: "danger", DEAD: "dark"}
STATUS_CHOICES: list[tuple[str, str]] = [(s, STATUS_LABELS[s]) for s in STATUSES]
RETRYABLE = frozenset({PENDING, FAILED, DEAD})

MAX_ATTEMPTS = 6
BACKOFF_BASE_MINUTES = 1
BACKOFF_FACTOR = 5
BACKOFF_CAP = timedelta(hours=24)
CLAIM_LEASE = timedelta(minutes=15)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def status_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "light")


def retry_delay(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failed attempt (1-based): 1, 5, 25, 125, 625 min …, ≤ 24 h.

    ``attempts`` below 1 is treated as 1.
    """
    n = max(attempts, 1)
    minutes = BACKOFF_BASE_MINUTES * BACKOFF_FACTOR ** min(n - 1, 10)
    return min(timedelta(minutes=minutes), BACKOFF_CAP)


@dataclass(frozen=True)
class Outcome:
    status: str
    next_attempt_at: datetime | None


def after_failure(attempts: int, now: datetime, *, permanent: bool = False, max_attempts: int = MAX_ATTEMPTS) -> Outcome:
    """Where a message goes after its ``attempts``-th attempt failed.

    - ``permanent`` (the server refused the address for good): ``failed``, no automatic retry;
    - ``attempts >= max_attempts``: ``dead`` (dead letter);
    - otherwise back to ``pending``, due at ``now + retry_delay(attempts)``.
    """
    if permanent:
        return Outcome(FAILED, None)
    if attempts >= max_attempts:
        return Outcome(DEAD, None)
    return Outcome(PENDING, now + retry_delay(attempts))


def can_retry(status: str) -> bool:
    """ "Gửi lại ngay" applies to messages waiting, failed or dead — not to sent or in-flight ones."""
    return status in RETRYABLE


# --------------------------------------------------------------------------------------------
# Mail text helpers
# --------------------------------------------------------------------------------------------
_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+\.[^@\s<>(),;:\"\[\]\\]+$")


def is_valid_address(address: str | None) -> bool:
    """A plain ``local@domain.tld`` address, at most 254 characters, no spaces, brackets or line
    breaks (so it can never inject a header). Display names are not accepted here."""
    return bool(address) and len(address) <= 254 and _ADDRESS.match(address) is not None


def clean_subject(subject: str, limit: int = 250) -> str:
    """One line: every run of whitespace (line breaks included) becomes one space; trimmed and
    cut to ``limit`` characters with "…" (a subject is a header, it must not span lines)."""
    text = " ".join((subject or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def text_to_html(text: str) -> str:
    """The HTML alternative of a text mail: every character escaped, links made clickable,
    paragraphs on blank lines, ``<br>`` on single line breaks. Nothing of the text is ever
    interpreted as markup."""
    paragraphs = re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n").strip())
    out = []
    for paragraph in paragraphs:
        pieces, last = [], 0
        for match in _URL.finditer(paragraph):
            pieces.append(html.escape(paragraph[last : match.start()]))
            url = html.escape(match.group(0))
            pieces.append(f'<a href="{url}">{url}</a>')
            last = match.end()
        pieces.append(html.escape(paragraph[last:]))
        out.append("<p>" + "".join(pieces).replace("\n", "<br>\n") + "</p>")
    return '<!doctype html>\n<html lang="vi"><body>\n' + "\n".join(out) + "\n</body></html>\n"


def short_error(error: str, limit: int = 1000) -> str:
    """An error message fit for ``last_error``: one line per line, at most ``limit`` characters."""
    text = (error or "").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
