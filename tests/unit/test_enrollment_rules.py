"""Enrolment rules: seat/waitlist decisions, promotions, status checks, attendance, code lists."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest

from bdg_training.enrollment import rules as r
from bdg_training.enrollment.rules import (
    ABSENT,
    CONFIRMED,
    EXCUSED,
    PENDING,
    PRESENT,
    REJECTED,
    WAITLISTED,
    WITHDRAWN,
)
from bdg_training.rules_base import RuleViolation


def _nfc(text: str) -> bool:
    return unicodedata.is_normalized("NFC", text)


# --------------------------------------------------------------------------------------------
# Code lists and labels
# --------------------------------------------------------------------------------------------
def test_status_labels():
    assert r.ENROLLMENT_STATUS_LABELS == {
        "pending": "Chờ duyệt",
        "confirmed": "Đã xác nhận",
        "waitlisted": "Danh sách chờ",
        "withdrawn": "Đã rút",
        "rejected": "Bị từ chối",
    }
    assert set(r.ENROLLMENT_STATUS_BADGES) == set(r.ENROLLMENT_STATUSES)
    assert r.status_label("zzz") == "zzz" and r.status_badge("zzz") == "light"
    assert r.status_badge(CONFIRMED) == "success"
    assert r.ENROLLMENT_STATUS_CHOICES[0] == ("pending", "Chờ duyệt")
    assert set(r.ENROLLMENT_SOURCE_LABELS) == {"self", "organizer", "import"}


def test_attendance_labels():
    assert r.ATTENDANCE_LABELS == {"present": "Có mặt", "absent": "Vắng", "excused": "Vắng có phép"}
    assert [code for code, _ in r.ATTENDANCE_CHOICES] == ["present", "absent", "excused"]


def test_target_groups_and_sexes():
    assert r.TARGET_GROUPS == {
        "can_bo": "Cán bộ",
        "cong_chuc": "Công chức",
        "vien_chuc": "Viên chức",
        "doan_vien": "Đoàn viên",
        "hoi_vien": "Hội viên",
        "nguoi_dan": "Người dân",
        "khac": "Khác",
    }
    assert r.TARGET_GROUP_CHOICES[-1] == ("khac", "Khác")
    assert r.SEXES == {"nam": "Nam", "nu": "Nữ"}
    assert r.SEX_CHOICES == [("nam", "Nam"), ("nu", "Nữ")]


def test_every_label_is_nfc():
    tables = [r.ENROLLMENT_STATUS_LABELS, r.ENROLLMENT_SOURCE_LABELS, r.ATTENDANCE_LABELS, r.TARGET_GROUPS, r.SEXES]
    assert all(_nfc(label) for table in tables for label in table.values())


# --------------------------------------------------------------------------------------------
# New enrolments at the capacity boundaries
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("capacity", "confirmed", "needs_approval", "waitlist_max", "expected"),
    [
        (30, 0, False, None, (CONFIRMED, None)),
        (30, 28, False, None, (CONFIRMED, None)),
        (30, 29, False, None, (CONFIRMED, None)),  # the last seat
        (30, 29, False, 0, (CONFIRMED, None)),  # 0 means empty too
        (30, 30, False, None, (WAITLISTED, 1)),  # full: first in line
        (30, 30, False, 0, (WAITLISTED, 1)),
        (30, 30, False, 4, (WAITLISTED, 5)),
        (30, 35, False, 2, (WAITLISTED, 3)),  # capacity lowered below the confirmed count
        (1, 0, False, None, (CONFIRMED, None)),
        (1, 1, False, None, (WAITLISTED, 1)),
        (30, 10, False, 2, (WAITLISTED, 3)),  # people waiting: no jumping the queue
        (30, 0, True, None, (PENDING, None)),  # approval first, whatever the seats
        (30, 30, True, 4, (PENDING, None)),
    ],
)
def test_decide_new_enrollment(capacity, confirmed, needs_approval, waitlist_max, expected):
    assert r.decide_new_enrollment(capacity, confirmed, needs_approval, waitlist_max) == expected


@pytest.mark.parametrize(
    ("capacity", "confirmed", "expected"),
    [(30, 0, 30), (30, 29, 1), (30, 30, 0), (30, 31, 0), (0, 0, 0)],
)
def test_free_seats(capacity, confirmed, expected):
    assert r.free_seats(capacity, confirmed) == expected


# --------------------------------------------------------------------------------------------
# Promotions and renumbering
# --------------------------------------------------------------------------------------------
FIVE_WAITING = [(105, 5), (101, 1), (103, 3), (102, 2), (104, 4)]


@pytest.mark.parametrize(
    ("capacity", "confirmed", "waitlist", "expected"),
    [
        # a confirmed person withdrew from a full class of 30: one seat
        (30, 29, FIVE_WAITING, [101]),
        # capacity increased by 3 (30 → 33) with 5 waiting: the first three, in position order
        (33, 30, FIVE_WAITING, [101, 102, 103]),
        # more seats than people waiting
        (40, 30, FIVE_WAITING, [101, 102, 103, 104, 105]),
        # no free seat
        (30, 30, FIVE_WAITING, []),
        (30, 32, FIVE_WAITING, []),
        # nobody waiting
        (30, 10, [], []),
        # positions with gaps; ties broken by id
        (32, 30, [(9, 7), (4, 3), (8, 3)], [4, 8]),
    ],
)
def test_promotions(capacity, confirmed, waitlist, expected):
    assert r.promotions(capacity, confirmed, waitlist) == expected


@pytest.mark.parametrize(
    ("waitlist", "expected"),
    [
        ([], []),
        ([(102, 2), (103, 3), (104, 4)], [(102, 1), (103, 2), (104, 3)]),  # head promoted
        ([(101, 1), (103, 3), (105, 5)], [(101, 1), (103, 2), (105, 3)]),  # gaps from withdrawals
        ([(7, 2), (5, 2), (6, 1)], [(6, 1), (5, 2), (7, 3)]),  # duplicates: id order
    ],
)
def test_renumber_waitlist(waitlist, expected):
    assert r.renumber_waitlist(waitlist) == expected


def test_rebalance_after_capacity_increase():
    result = r.rebalance(33, 30, FIVE_WAITING)
    assert result.promote == [101, 102, 103]
    assert result.positions == [(104, 1), (105, 2)]


def test_rebalance_after_withdrawal_of_a_confirmed_person():
    assert r.check_withdrawal(CONFIRMED) is True  # frees a seat
    result = r.rebalance(30, 29, FIVE_WAITING)
    assert result.promote == [101]
    assert result.positions == [(102, 1), (103, 2), (104, 3), (105, 4)]


def test_rebalance_after_a_waitlisted_person_withdraws():
    assert r.check_withdrawal(WAITLISTED) is False  # no seat freed, only the line moves up
    rest = [item for item in FIVE_WAITING if item[0] != 102]
    result = r.rebalance(30, 30, rest)
    assert result.promote == []
    assert result.positions == [(101, 1), (103, 2), (104, 3), (105, 4)]


# --------------------------------------------------------------------------------------------
# Status changes
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "course_status", "frees_seat", "errors"),
    [
        (PENDING, None, False, None),
        (CONFIRMED, None, True, None),
        (WAITLISTED, None, False, None),
        (CONFIRMED, "running", True, None),
        (CONFIRMED, "open", True, None),
        (WITHDRAWN, None, None, ["Ghi danh này đã được rút trước đó."]),
        (REJECTED, None, None, ["Ghi danh đã bị từ chối, không thể rút."]),
        ("bogus", None, None, ["Trạng thái ghi danh không hợp lệ: “bogus”."]),
        (CONFIRMED, "finished", None, ["Lớp đã kết thúc, không thể rút ghi danh."]),
        (WAITLISTED, "cancelled", None, ["Lớp đã bị hủy, không thể rút ghi danh."]),
        (WITHDRAWN, "finished", None,
         ["Ghi danh này đã được rút trước đó.", "Lớp đã kết thúc, không thể rút ghi danh."]),
    ],
)
def test_check_withdrawal(status, course_status, frees_seat, errors):
    if errors is None:
        assert r.check_withdrawal(status, course_status=course_status) is frees_seat
    else:
        with pytest.raises(RuleViolation) as exc:
            r.check_withdrawal(status, course_status=course_status)
        assert exc.value.errors == {"": errors}
        assert all(_nfc(m) for m in errors)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (PENDING, None),
        (CONFIRMED, "Chỉ duyệt hoặc từ chối được ghi danh đang chờ duyệt (hiện tại: Đã xác nhận)."),
        (WAITLISTED, "Chỉ duyệt hoặc từ chối được ghi danh đang chờ duyệt (hiện tại: Danh sách chờ)."),
        (WITHDRAWN, "Chỉ duyệt hoặc từ chối được ghi danh đang chờ duyệt (hiện tại: Đã rút)."),
        (REJECTED, "Chỉ duyệt hoặc từ chối được ghi danh đang chờ duyệt (hiện tại: Bị từ chối)."),
        ("bogus", "Trạng thái ghi danh không hợp lệ: “bogus”."),
    ],
)
def test_check_approval(status, message):
    if message is None:
        r.check_approval(status)
    else:
        with pytest.raises(RuleViolation) as exc:
            r.check_approval(status)
        assert exc.value.errors == {"": [message]}
        assert _nfc(message)


@pytest.mark.parametrize(
    ("capacity", "confirmed", "waitlist_max", "expected"),
    [
        (30, 29, None, (CONFIRMED, None)),
        (30, 30, None, (WAITLISTED, 1)),  # approved into a full course: waitlisted, not overbooked
        (30, 30, 3, (WAITLISTED, 4)),
        (30, 20, 3, (WAITLISTED, 4)),  # people already waiting go first
    ],
)
def test_approval_outcome(capacity, confirmed, waitlist_max, expected):
    assert r.approval_outcome(capacity, confirmed, waitlist_max) == expected


@pytest.mark.parametrize(
    ("existing", "message"),
    [
        (None, None),
        (WITHDRAWN, None),
        (PENDING, "Đã ghi danh lớp này (Chờ duyệt)."),
        (CONFIRMED, "Đã ghi danh lớp này (Đã xác nhận)."),
        (WAITLISTED, "Đã ghi danh lớp này (Danh sách chờ)."),
        (REJECTED, "Ghi danh vào lớp này đã bị từ chối; vui lòng liên hệ đơn vị tổ chức."),
        ("bogus", "Trạng thái ghi danh không hợp lệ: “bogus”."),
    ],
)
def test_check_new_registration(existing, message):
    if message is None:
        r.check_new_registration(existing)
    else:
        with pytest.raises(RuleViolation) as exc:
            r.check_new_registration(existing)
        assert exc.value.errors == {"": [message]}
        assert _nfc(message)


# --------------------------------------------------------------------------------------------
# Attendance
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("statuses", "rate", "counts"),
    [
        ([], None, (0, 0, 0, 0, 0)),  # no session held yet
        ([PRESENT], 1.0, (1, 1, 0, 0, 0)),
        ([ABSENT], 0.0, (1, 0, 1, 0, 0)),
        ([EXCUSED], 0.0, (1, 0, 0, 1, 0)),  # excused is not attended, but reported
        ([PRESENT, PRESENT, PRESENT, PRESENT, EXCUSED], 0.8, (5, 4, 0, 1, 0)),
        ([PRESENT, ABSENT, EXCUSED, None], 0.25, (4, 1, 1, 1, 1)),  # no record = not attended
        ([PRESENT, PRESENT, ABSENT], 2 / 3, (3, 2, 1, 0, 0)),
    ],
)
def test_attendance(statuses, rate, counts):
    assert r.attendance_rate(statuses) == rate
    s = r.attendance_summary(iter(statuses))
    assert (s.held, s.present, s.absent, s.excused, s.unrecorded) == counts
    assert s.rate == rate


def test_attendance_rejects_unknown_status():
    with pytest.raises(ValueError, match="late"):
        r.attendance_rate([PRESENT, "late"])


@pytest.mark.parametrize(
    ("statuses", "min_pct", "meets"),
    [
        ([PRESENT] * 4 + [ABSENT], 80, True),  # exactly 80 %
        ([PRESENT] * 4 + [ABSENT], 80.0, True),
        ([PRESENT] * 4 + [ABSENT], Decimal("80.0"), True),
        ([PRESENT] * 4 + [ABSENT], 80.1, False),
        ([PRESENT] * 4 + [EXCUSED], 80, True),
        ([PRESENT] * 3 + [EXCUSED] * 2, 80, False),  # excused does not count
        ([PRESENT] * 57 + [ABSENT] * 43, 57, True),  # 0.57 * 100 is 56.99999… in floats
        ([PRESENT] * 2 + [ABSENT], Decimal("66.67"), False),
        ([PRESENT] * 2 + [ABSENT], Decimal("66.66"), True),
        ([], 0, False),  # nothing held: not met
        ([ABSENT], 0, True),
    ],
)
def test_attendance_meets_minimum(statuses, min_pct, meets):
    assert r.attendance_summary(statuses).meets(min_pct) is meets
