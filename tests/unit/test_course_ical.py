"""iCalendar output: escaping, folding, CRLF, UTC times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bdg_training.courses import ical

VN = timezone(timedelta(hours=7))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hội trường UBND xã Cờ Đỏ", "Hội trường UBND xã Cờ Đỏ"),
        ("a, b; c", "a\\, b\\; c"),
        ("C:\\tệp", "C:\\\\tệp"),
        ("dòng 1\ndòng 2\r\ndòng 3\rdòng 4", "dòng 1\\ndòng 2\\ndòng 3\\ndòng 4"),
        ("\\,", "\\\\\\,"),  # the backslash is escaped first
        (None, ""),
    ],
)
def test_escape_text(text, expected):
    assert ical.escape_text(text) == expected


def test_short_line_is_not_folded():
    assert ical.fold_line("SUMMARY:ngắn") == "SUMMARY:ngắn"


@pytest.mark.parametrize("line", ["DESCRIPTION:" + "a" * 200, "SUMMARY:" + "Phòng ngừa và ứng phó với bạo lực trên cơ sở giới " * 4, "X:" + "ễ" * 80])
def test_folding_keeps_lines_within_75_octets_and_characters_whole(line):
    folded = ical.fold_line(line)
    physical = folded.split("\r\n")
    assert len(physical) > 1
    assert all(len(p.encode("utf-8")) <= 75 for p in physical)
    assert all(p.startswith(" ") for p in physical[1:])
    assert "".join([physical[0], *(p[1:] for p in physical[1:])]) == line  # unfolding gives it back


def test_utc_format():
    assert ical.format_utc(datetime(2026, 12, 18, 7, 30, tzinfo=VN)) == "20261218T003000Z"
    assert ical.format_utc(datetime(2026, 12, 18, 0, 30)) == "20261218T003000Z"  # naive = UTC


def test_calendar_document():
    event = ical.Event(
        uid="session-7@example.org",
        start=datetime(2026, 12, 18, 7, 30, tzinfo=VN),
        end=datetime(2026, 12, 18, 11, 0, tzinfo=VN),
        summary="Luật Bình đẳng giới, buổi 1; sáng",
        location="Hội trường UBND xã Cờ Đỏ",
        description="Giảng viên: A\nĐơn vị: xã Cờ Đỏ",
        url="http://example.org/courses/catalogue/3",
        sequence=4,
    )
    text = ical.build_calendar("Lớp CD-2026-01", [event], now=datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")  # only CRLF line ends
    lines = text.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and "METHOD:PUBLISH" in lines
    for expected in [
        "UID:session-7@example.org",
        "DTSTAMP:20261128T090000Z",
        "DTSTART:20261218T003000Z",
        "DTEND:20261218T040000Z",
        "SUMMARY:Luật Bình đẳng giới\\, buổi 1\\; sáng",
        "LOCATION:Hội trường UBND xã Cờ Đỏ",
        "DESCRIPTION:Giảng viên: A\\nĐơn vị: xã Cờ Đỏ",
        "SEQUENCE:4",
        "STATUS:CONFIRMED",
    ]:
        assert expected in lines
    assert lines.count("BEGIN:VEVENT") == 1 == lines.count("END:VEVENT")


def test_cancelled_event_and_empty_calendar():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    event = ical.Event(uid="u", start=now, end=now + timedelta(hours=1), summary="x", cancelled=True)
    assert "STATUS:CANCELLED" in ical.build_calendar("c", [event], now=now)
    empty = ical.build_calendar("c", [], now=now)
    assert "BEGIN:VEVENT" not in empty and empty.endswith("END:VCALENDAR\r\n")
