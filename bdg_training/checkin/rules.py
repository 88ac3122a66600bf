"""QR check-in rules: the rotating session code, the trainee's personal code, and the time window.

Pure: no Flask, no SQLAlchemy, no clock — the secret, ``now`` and the zone come in as arguments.

Session code (shown on the organizer's screen)
    ``"{session_id}.{window}.{mac}"`` where ``window = floor(unix_time / 30)`` and ``mac`` is an
    HMAC-SHA256 (key derived from ``SECRET_KEY`` for this purpose only) over the session id and the
    window, base64url, 128 bits. A code is accepted in its own window and the next one, so it lives
    30–60 seconds: a photo sent to someone outside the room is useless a minute later. The code
    carries **no trainee identity** — the trainee is whoever is signed in on the phone that opens it.

Personal code (shown on the trainee's page, scanned by the organizer)
    ``"{trainee_id}.{mac}"`` with its own derived key; it does not expire (like a card), it only
    says who the person is — the organizer standing in front of them decides to check them in.

Time window (:func:`checkin_window`)
    From 30 minutes before the session starts until it ends, in local time (Asia/Ho_Chi_Minh):
    ``start − 30 min ≤ now ≤ end``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bdg_training.rules_base import RuleViolation

PERIOD_SECONDS = 30
ACCEPTED_WINDOWS = 2  # the current window and the previous one
EARLY = timedelta(minutes=30)
# A scan remembered in the browser while its owner signs in stays usable this long.
SCAN_GRACE = timedelta(minutes=10)

_SESSION_PURPOSE = b"bdg-checkin-session-v1"
_TRAINEE_PURPOSE = b"bdg-checkin-trainee-v1"
_SESSION_TOKEN = re.compile(r"^(\d{1,12})\.(\d{1,12})\.([A-Za-z0-9_-]{22})$")
_TRAINEE_TOKEN = re.compile(r"^(\d{1,12})\.([A-Za-z0-9_-]{22})$")


class TokenError(ValueError):
    """A code that is not accepted. ``reason``: "malformed", "forged" or "expired"."""

    MESSAGES = {
        "malformed": "Mã điểm danh không hợp lệ.",
        "forged": "Mã điểm danh không hợp lệ.",
        "expired": "Mã điểm danh đã hết hạn. Vui lòng quét lại mã đang hiển thị trên màn hình.",
    }

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(self.MESSAGES[reason])


def _key(secret: str | bytes, purpose: bytes) -> bytes:
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(raw, purpose, hashlib.sha256).digest()


def _mac(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode("ascii"), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def window_index(moment: datetime | float, period: int = PERIOD_SECONDS) -> int:
    """The 30-second window a moment falls in (Unix time // 30)."""
    ts = moment.timestamp() if isinstance(moment, datetime) else float(moment)
    return int(ts // period)


def window_ends_in(moment: datetime | float, period: int = PERIOD_SECONDS) -> float:
    """Seconds until the code on screen changes."""
    ts = moment.timestamp() if isinstance(moment, datetime) else float(moment)
    return period - (ts % period)


def session_token(secret: str | bytes, session_id: int, window: int) -> str:
    return f"{session_id}.{window}.{_mac(_key(secret, _SESSION_PURPOSE), f'{session_id}:{window}')}"


def verify_session_token(secret: str | bytes, token: str, *, now: datetime | float) -> int:
    """The session id of a valid, fresh code; :class:`TokenError` otherwise.

    Fresh = made in the current window or the previous one. A genuine code "from the future"
    (only a server clock running ahead could make one) is refused too.
    """
    match = _SESSION_TOKEN.match((token or "").strip())
    if not match:
        raise TokenError("malformed")
    session_id, window, mac = int(match.group(1)), int(match.group(2)), match.group(3)
    expected = _mac(_key(secret, _SESSION_PURPOSE), f"{session_id}:{window}")
    if not hmac.compare_digest(expected, mac):
        raise TokenError("forged")
    current = window_index(now)
    if window > current or current - window >= ACCEPTED_WINDOWS:
        raise TokenError("expired")
    return session_id


def trainee_token(secret: str | bytes, trainee_id: int) -> str:
    return f"{trainee_id}.{_mac(_key(secret, _TRAINEE_PURPOSE), str(trainee_id))}"


def verify_trainee_token(secret: str | bytes, token: str) -> int:
    match = _TRAINEE_TOKEN.match((token or "").strip())
    if not match:
        raise TokenError("malformed")
    trainee_id, mac = int(match.group(1)), match.group(2)
    if not hmac.compare_digest(_mac(_key(secret, _TRAINEE_PURPOSE), str(trainee_id)), mac):
        raise TokenError("forged")
    return trainee_id


def extract_token(scanned: str, marker: str = "/checkin/t/") -> str:
    """What a scanner typed: the whole URL (``https://…/checkin/t/<code>``, maybe with a query or
    trailing slash) or the bare code. Returns the code part, stripped."""
    text = (scanned or "").strip()
    if marker in text:
        text = text.split(marker, 1)[1]
    return text.split("?", 1)[0].split("#", 1)[0].strip().strip("/")


# --------------------------------------------------------------------------------------------
# Time window
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    opens: datetime  # aware, UTC
    starts: datetime
    closes: datetime

    def state(self, now: datetime) -> str:
        """ "before", "open" or "after"."""
        if now < self.opens:
            return "before"
        if now > self.closes:
            return "after"
        return "open"


def checkin_window(day: date, start: time, end: time, tz: tzinfo, early: timedelta = EARLY) -> Window:
    """When a session accepts check-ins: ``start − early`` to ``end``, wall-clock times in ``tz``."""
    starts = datetime.combine(day, start, tzinfo=tz).astimezone(UTC)
    return Window(starts - early, starts, datetime.combine(day, end, tzinfo=tz).astimezone(UTC))


def _hm(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def check_window(window: Window, now: datetime, tz: tzinfo) -> None:
    """Refuse (``RuleViolation``, key "") a check-in outside the window, saying when it opens/closed."""
    state = window.state(now)
    if state == "before":
        RuleViolation.single("", f"Chưa đến giờ điểm danh: mở từ {_hm(window.opens, tz)}.")
    if state == "after":
        RuleViolation.single("", f"Buổi học đã kết thúc lúc {_hm(window.closes, tz)}, không thể điểm danh.")
