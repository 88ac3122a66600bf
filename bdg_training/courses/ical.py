"""iCalendar (RFC 5545) output for a course's sessions. Pure: plain data in, text out.

Decisions:

- Times are written in UTC (``DTSTART:20261218T003000Z``). A ``TZID=Asia/Ho_Chi_Minh`` parameter
  would require a VTIMEZONE block in the file; UTC needs none and every client shows the time in
  the reader's own zone (Vietnam has no daylight saving, so nothing shifts).
- One VEVENT per session, ``UID`` stable per session (``session-{id}@{host}``), so a client that
  subscribed to the feed updates an event instead of duplicating it; ``SEQUENCE`` grows with the
  last change so edits replace the old version.
- A cancelled course keeps its events with ``STATUS:CANCELLED``: subscribers see the
  cancellation rather than the event silently disappearing.
- Lines end with CRLF and are folded at 75 octets without splitting a UTF-8 character; text
  values escape backslash, semicolon, comma and newlines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

CRLF = "\r\n"
MAX_OCTETS = 75


def escape_text(value: str | None) -> str:
    """Escape a TEXT value: ``\\`` → ``\\\\``, ``;`` → ``\\;``, ``,`` → ``\\,``, newline → ``\\n``."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\n", "\\n")


def fold_line(line: str) -> str:
    """Fold one content line: at most 75 octets per physical line, continuation lines start with
    one space (which counts toward their 75), never cutting a multi-byte UTF-8 character."""
    parts: list[str] = []
    current, size, limit = [], 0, MAX_OCTETS
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, MAX_OCTETS - 1
        current.append(ch)
        size += width
    parts.append("".join(current))
    return (CRLF + " ").join(parts)


def format_utc(moment: datetime) -> str:
    """``20261218T003000Z``; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class Event:
    uid: str
    start: datetime  # aware (or naive UTC)
    end: datetime
    summary: str
    location: str = ""
    description: str = ""
    url: str = ""
    cancelled: bool = False
    sequence: int = 0
    last_modified: datetime | None = None


def build_calendar(name: str, events: Iterable[Event], *, now: datetime, prodid: str = "-//bdg_training//Lop tap huan//VI") -> str:
    """The whole ``.ics`` text (CRLF line endings, ending with a CRLF)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{prodid}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        "X-WR-TIMEZONE:Asia/Ho_Chi_Minh",
    ]
    stamp = format_utc(now)
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{format_utc(event.start)}",
            f"DTEND:{format_utc(event.end)}",
            f"SUMMARY:{escape_text(event.summary)}",
        ]
        if event.location:
            lines.append(f"LOCATION:{escape_text(event.location)}")
        if event.description:
            lines.append(f"DESCRIPTION:{escape_text(event.description)}")
        if event.url:
            lines.append(f"URL:{event.url}")
        if event.last_modified is not None:
            lines.append(f"LAST-MODIFIED:{format_utc(event.last_modified)}")
        lines += [
            f"SEQUENCE:{max(event.sequence, 0)}",
            f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return CRLF.join(fold_line(line) for line in lines) + CRLF
