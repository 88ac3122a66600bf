"""Course rules: transitions, permissions, registration window, validation, clashes, cloning."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from bdg_training.courses import rules as r
from bdg_training.courses.rules import (
    CANCELLED,
    CLOSED,
    COURSE_STATUSES,
    DRAFT,
    FINISHED,
    OPEN,
    RUNNING,
    CourseData,
    SessionSlot,
)
from bdg_training.rules_base import RuleViolation

ALL = COURSE_STATUSES


def _nfc(text: str) -> bool:
    return unicodedata.is_normalized("NFC", text)


# --------------------------------------------------------------------------------------------
# Statuses and transitions
# --------------------------------------------------------------------------------------------
def test_labels_and_badges_cover_every_status():
    assert set(r.COURSE_STATUS_LABELS) == set(ALL) == set(r.COURSE_STATUS_BADGES)
    assert r.COURSE_STATUS_LABELS == {
        "draft": "Nháp",
        "open": "Đang mở đăng ký",
        "closed": "Đã đóng đăng ký",
        "running": "Đang diễn ra",
        "finished": "Đã kết thúc",
        "cancelled": "Đã hủy",
    }
    assert all(_nfc(label) for label in r.COURSE_STATUS_LABELS.values())
    assert set(r.COURSE_STATUS_BADGES.values()) <= {
        "primary", "secondary", "success", "danger", "warning", "info", "light", "dark",
    }
    assert r.status_label("zzz") == "zzz"
    assert r.status_badge("zzz") == "light"
    assert r.COURSE_STATUS_CHOICES[0] == ("draft", "Nháp")


ALLOWED = {
    (DRAFT, OPEN),
    (DRAFT, CANCELLED),
    (OPEN, CLOSED),
    (OPEN, CANCELLED),
    (CLOSED, OPEN),
    (CLOSED, RUNNING),
    (CLOSED, CANCELLED),
    (RUNNING, FINISHED),
    (RUNNING, CANCELLED),
}


def _refusal(current: str, target: str) -> str:
    if current == target:
        return f"Lớp đã ở trạng thái “{r.COURSE_STATUS_LABELS[current]}”."
    if current == FINISHED:
        return "Lớp đã kết thúc, không thể chuyển sang trạng thái khác."
    if current == CANCELLED:
        return "Lớp đã bị hủy, không thể chuyển sang trạng thái khác."
    return (
        f"Không thể chuyển lớp từ “{r.COURSE_STATUS_LABELS[current]}” "
        f"sang “{r.COURSE_STATUS_LABELS[target]}”."
    )


TRANSITION_TABLE = [
    (current, target, None if (current, target) in ALLOWED else _refusal(current, target))
    for current in ALL
    for target in ALL
]


@pytest.mark.parametrize(("current", "target", "refusal"), TRANSITION_TABLE)
def test_every_transition(current, target, refusal):
    def call():
        r.check_transition(current, target, has_sessions=True, reason="Thiếu kinh phí")

    if refusal is None:
        call()
        assert target in r.allowed_transitions(current)
        assert r.transition_action(current, target)
    else:
        with pytest.raises(RuleViolation) as exc:
            call()
        assert exc.value.errors == {"status": [refusal]}
        assert target not in r.allowed_transitions(current)
        assert r.transition_action(current, target) is None


@pytest.mark.parametrize(
    ("status", "targets"),
    [
        (DRAFT, (OPEN, CANCELLED)),
        (OPEN, (CLOSED, CANCELLED)),
        (CLOSED, (RUNNING, OPEN, CANCELLED)),
        (RUNNING, (FINISHED, CANCELLED)),
        (FINISHED, ()),
        (CANCELLED, ()),
        ("bogus", ()),
    ],
)
def test_allowed_transitions(status, targets):
    assert r.allowed_transitions(status) == targets


@pytest.mark.parametrize(
    ("current", "target", "action"),
    [
        (DRAFT, OPEN, "Mở đăng ký"),
        (OPEN, CLOSED, "Đóng đăng ký"),
        (CLOSED, OPEN, "Mở lại đăng ký"),
        (CLOSED, RUNNING, "Bắt đầu lớp"),
        (RUNNING, FINISHED, "Kết thúc lớp"),
        (RUNNING, CANCELLED, "Hủy lớp"),
    ],
)
def test_transition_actions(current, target, action):
    assert r.transition_action(current, target) == action


NOW = datetime(2026, 2, 1, 9, 0)


@pytest.mark.parametrize(
    ("current", "target", "kwargs", "errors"),
    [
        (DRAFT, OPEN, {"has_sessions": False},
         {"sessions": ["Lớp chưa có buổi học nào, không thể mở đăng ký."]}),
        (CLOSED, OPEN, {"has_sessions": False},
         {"sessions": ["Lớp chưa có buổi học nào, không thể mở đăng ký."]}),
        (DRAFT, OPEN, {"has_sessions": True, "now": NOW, "reg_closes_at": NOW},
         {"reg_closes_at": [("Hạn đăng ký (09:00 ngày 01/02/2026) đã qua; "
                             "hãy sửa hạn đăng ký trước khi mở đăng ký.")]}),
        # every reason at once
        (DRAFT, OPEN, {"has_sessions": False, "now": NOW, "reg_closes_at": NOW - timedelta(days=1)},
         {"sessions": ["Lớp chưa có buổi học nào, không thể mở đăng ký."],
          "reg_closes_at": [("Hạn đăng ký (09:00 ngày 31/01/2026) đã qua; "
                             "hãy sửa hạn đăng ký trước khi mở đăng ký.")]}),
        (CLOSED, RUNNING, {"has_sessions": False},
         {"sessions": ["Lớp chưa có buổi học nào, không thể bắt đầu."]}),
        (RUNNING, FINISHED, {"has_sessions": True, "today": date(2026, 2, 6), "end_date": date(2026, 2, 7)},
         {"end_date": ["Chưa đến ngày kết thúc lớp (07/02/2026), không thể kết thúc lớp."]}),
        (DRAFT, CANCELLED, {"has_sessions": True}, {"reason": ["Vui lòng nhập lý do hủy lớp."]}),
        (OPEN, CANCELLED, {"has_sessions": True, "reason": ""}, {"reason": ["Vui lòng nhập lý do hủy lớp."]}),
        (CLOSED, CANCELLED, {"has_sessions": True, "reason": "  \n"}, {"reason": ["Vui lòng nhập lý do hủy lớp."]}),
        (RUNNING, CANCELLED, {"has_sessions": True, "reason": None}, {"reason": ["Vui lòng nhập lý do hủy lớp."]}),
        ("bogus", OPEN, {"has_sessions": True}, {"status": ["Trạng thái hiện tại không hợp lệ: “bogus”."]}),
        (OPEN, "bogus", {"has_sessions": True}, {"status": ["Trạng thái mới không hợp lệ: “bogus”."]}),
    ],
)
def test_transition_preconditions_refused(current, target, kwargs, errors):
    with pytest.raises(RuleViolation) as exc:
        r.check_transition(current, target, **kwargs)
    assert exc.value.errors == errors
    assert all(_nfc(m) for m in exc.value.messages)


@pytest.mark.parametrize(
    ("current", "target", "kwargs"),
    [
        (DRAFT, OPEN, {"has_sessions": True, "now": NOW, "reg_closes_at": NOW + timedelta(seconds=1)}),
        (DRAFT, OPEN, {"has_sessions": True, "now": NOW}),  # no deadline
        (RUNNING, FINISHED, {"has_sessions": True, "today": date(2026, 2, 7), "end_date": date(2026, 2, 7)}),
        (RUNNING, FINISHED, {"has_sessions": True}),  # dates not given: not checked
        (DRAFT, CANCELLED, {"has_sessions": False, "reason": "Không đủ học viên"}),  # sessions irrelevant
    ],
)
def test_transition_preconditions_met(current, target, kwargs):
    r.check_transition(current, target, **kwargs)


# --------------------------------------------------------------------------------------------
# Permissions per status
# --------------------------------------------------------------------------------------------
PERMISSIONS = {
    #            edit   session attend  delete
    DRAFT:     (True,  True,  False, True),
    OPEN:      (True,  True,  False, False),
    CLOSED:    (True,  True,  False, False),
    RUNNING:   (True,  True,  True,  False),
    FINISHED:  (False, False, True,  False),
    CANCELLED: (False, False, False, False),
}


@pytest.mark.parametrize(("status", "expected"), PERMISSIONS.items())
def test_permissions(status, expected):
    got = (r.can_edit_course(status), r.can_add_session(status), r.can_take_attendance(status), r.can_delete(status))
    assert got == expected


OPENS = datetime(2026, 1, 10, 8, 0)
CLOSES = datetime(2026, 1, 20, 17, 0)


@pytest.mark.parametrize(
    ("status", "opens", "closes", "now", "code", "message"),
    [
        (OPEN, OPENS, CLOSES, datetime(2026, 1, 15), "open", "Đang mở đăng ký đến 17:00 ngày 20/01/2026"),
        (OPEN, OPENS, CLOSES, OPENS, "open", "Đang mở đăng ký đến 17:00 ngày 20/01/2026"),  # inclusive start
        (OPEN, None, None, datetime(2026, 1, 15), "open", "Đang mở đăng ký"),
        (OPEN, OPENS, CLOSES, OPENS - timedelta(minutes=1), "not_started",
         "Chưa mở đăng ký — nhận đăng ký từ 08:00 ngày 10/01/2026"),
        (OPEN, OPENS, CLOSES, CLOSES, "expired", "Đã hết hạn đăng ký (hạn chót 17:00 ngày 20/01/2026)"),
        (OPEN, None, CLOSES, CLOSES + timedelta(days=3), "expired",
         "Đã hết hạn đăng ký (hạn chót 17:00 ngày 20/01/2026)"),
        (DRAFT, OPENS, CLOSES, datetime(2026, 1, 15), "not_open", "Chưa mở đăng ký"),
        (CLOSED, OPENS, CLOSES, datetime(2026, 1, 15), "not_open", "Đã đóng đăng ký"),
        (RUNNING, OPENS, CLOSES, datetime(2026, 1, 15), "not_open", "Lớp đang diễn ra, không nhận đăng ký"),
        (FINISHED, OPENS, CLOSES, datetime(2026, 1, 15), "not_open", "Lớp đã kết thúc"),
        (CANCELLED, OPENS, CLOSES, datetime(2026, 1, 15), "not_open", "Lớp đã bị hủy"),
    ],
)
def test_registration_state(status, opens, closes, now, code, message):
    state = r.registration_state(status, opens, closes, now)
    assert (state.code, state.message) == (code, message)
    assert state.is_open is (code == "open")
    assert r.can_register(status, opens, closes, now) is state.is_open
    if state.is_open:
        r.check_registration_open(status, opens, closes, now)
    else:
        with pytest.raises(RuleViolation) as exc:
            r.check_registration_open(status, opens, closes, now)
        assert exc.value.errors == {"": [message + "."]}


def test_registration_state_with_aware_datetimes():
    tz = timezone(timedelta(hours=7))
    opens = datetime(2026, 1, 10, 8, tzinfo=tz)
    closes = datetime(2026, 1, 20, 17, tzinfo=tz)
    # 10:00 UTC on the 20th is 17:00 in Vietnam: the deadline has just passed.
    assert r.registration_state(OPEN, opens, closes, datetime(2026, 1, 20, 10, tzinfo=UTC)).code == "expired"
    assert r.can_register(OPEN, opens, closes, datetime(2026, 1, 20, 9, 59, tzinfo=UTC))


# --------------------------------------------------------------------------------------------
# Course validation
# --------------------------------------------------------------------------------------------
def _course(**changes) -> CourseData:
    base = CourseData(
        title="Tập huấn Luật Bình đẳng giới",
        code="BDG-2026/01_A",
        capacity=40,
        start_date=date(2026, 2, 5),
        end_date=date(2026, 2, 7),
        reg_opens_at=datetime(2026, 1, 10, 8, 0),
        reg_closes_at=datetime(2026, 2, 4, 17, 0),
    )
    return dataclasses.replace(base, **changes)


def _slot(d=date(2026, 2, 5), start=time(8, 0), end=time(11, 0), *, id=1, course_id=10, venue="", trainer="",
          course_title=""):
    return SessionSlot(id=id, course_id=course_id, date=d, start=start, end=end, venue=venue, trainer=trainer,
                       course_title=course_title)


def test_valid_course_has_no_errors():
    assert r.course_errors(_course(), [_slot(), _slot(date(2026, 2, 7), id=2)]) == {}
    r.validate_course(_course())
    assert _course().pass_mark == 5.0 and _course().min_attendance_pct == 80.0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "Vui lòng nhập tên lớp."),
        ({"title": "   "}, "title", "Vui lòng nhập tên lớp."),
        ({"title": "x" * 256}, "title", "Tên lớp không được dài quá 255 ký tự."),
        ({"code": ""}, "code", "Vui lòng nhập mã lớp."),
        ({"code": "A" * 31}, "code", "Mã lớp không được dài quá 30 ký tự."),
        ({"code": "BĐG-01"}, "code", "Mã lớp chỉ được gồm chữ cái không dấu, chữ số và các ký tự - / _."),
        ({"code": "BDG 01"}, "code", "Mã lớp chỉ được gồm chữ cái không dấu, chữ số và các ký tự - / _."),
        ({"capacity": None}, "capacity", "Vui lòng nhập sĩ số tối đa."),
        ({"capacity": 0}, "capacity", "Sĩ số tối đa phải từ 1 trở lên."),
        ({"capacity": -5}, "capacity", "Sĩ số tối đa phải từ 1 trở lên."),
        ({"start_date": None}, "start_date", "Vui lòng nhập ngày bắt đầu."),
        ({"end_date": None}, "end_date", "Vui lòng nhập ngày kết thúc."),
        ({"end_date": date(2026, 2, 4)}, "end_date", "Ngày kết thúc không được trước ngày bắt đầu."),
        ({"reg_closes_at": datetime(2026, 1, 10, 8, 0)}, "reg_closes_at",
         "Thời điểm đóng đăng ký phải sau thời điểm mở đăng ký."),
        ({"reg_closes_at": datetime(2026, 2, 5, 0, 1)}, "reg_closes_at",
         "Phải đóng đăng ký không muộn hơn ngày bắt đầu lớp (05/02/2026)."),
        ({"reg_closes_at": None, "reg_opens_at": datetime(2026, 2, 5, 0, 0)}, "reg_opens_at",
         "Thời điểm mở đăng ký phải trước ngày bắt đầu lớp (05/02/2026)."),
        ({"pass_mark": None}, "pass_mark", "Vui lòng nhập điểm đạt."),
        ({"pass_mark": -0.01}, "pass_mark", "Điểm đạt phải từ 0 đến 10."),
        ({"pass_mark": Decimal("10.5")}, "pass_mark", "Điểm đạt phải từ 0 đến 10."),
        ({"pass_mark": float("nan")}, "pass_mark", "Điểm đạt phải từ 0 đến 10."),
        ({"min_attendance_pct": None}, "min_attendance_pct", "Vui lòng nhập tỷ lệ tham dự tối thiểu."),
        ({"min_attendance_pct": 100.1}, "min_attendance_pct", "Tỷ lệ tham dự tối thiểu phải từ 0 đến 100%."),
        ({"min_attendance_pct": -1}, "min_attendance_pct", "Tỷ lệ tham dự tối thiểu phải từ 0 đến 100%."),
    ],
)
def test_each_course_validation_message(changes, field, message):
    errors = r.course_errors(_course(**changes))
    assert errors == {field: [message]}
    assert _nfc(message)
    with pytest.raises(RuleViolation) as exc:
        r.validate_course(_course(**changes))
    assert exc.value.errors == errors


@pytest.mark.parametrize(
    "changes",
    [
        {"code": "A" * 30},
        {"code": "ab-CD/12_x"},
        {"capacity": 1},
        {"end_date": date(2026, 2, 5)},  # one-day course
        {"pass_mark": 0},
        {"pass_mark": Decimal(10)},
        {"min_attendance_pct": 0},
        {"min_attendance_pct": 100},
        {"reg_opens_at": None, "reg_closes_at": None},
        {"reg_closes_at": datetime(2026, 2, 5, 0, 0)},  # exactly at the start of the first day
        {"reg_closes_at": None, "reg_opens_at": datetime(2026, 2, 4, 23, 59)},
    ],
)
def test_course_boundaries_accepted(changes):
    assert r.course_errors(_course(**changes)) == {}


def test_course_collects_every_error():
    data = CourseData(title="", code="", capacity=0, start_date=None, end_date=None, pass_mark=11,
                      min_attendance_pct=101)
    errors = r.course_errors(data)
    assert set(errors) == {"title", "code", "capacity", "start_date", "end_date", "pass_mark", "min_attendance_pct"}
    too_long_and_bad = r.course_errors(_course(code="Đ" * 31))["code"]
    assert too_long_and_bad == [
        "Mã lớp không được dài quá 30 ký tự.",
        "Mã lớp chỉ được gồm chữ cái không dấu, chữ số và các ký tự - / _.",
    ]


def test_registration_must_close_before_first_session():
    sessions = [_slot(date(2026, 2, 6), time(13, 30), time(16, 0), id=2), _slot(date(2026, 2, 5), time(7, 30))]
    ok = _course(reg_closes_at=datetime(2026, 2, 5, 7, 30))
    assert r.course_errors(ok, sessions) == {}
    late = _course(reg_closes_at=datetime(2026, 2, 5, 7, 31))
    assert r.course_errors(late, sessions) == {
        "reg_closes_at": ["Phải đóng đăng ký không muộn hơn buổi học đầu tiên bắt đầu (07:30 ngày 05/02/2026)."]
    }
    opens_late = _course(reg_closes_at=None, reg_opens_at=datetime(2026, 2, 5, 7, 30))
    assert r.course_errors(opens_late, sessions) == {
        "reg_opens_at": ["Thời điểm mở đăng ký phải trước buổi học đầu tiên bắt đầu (07:30 ngày 05/02/2026)."]
    }


def test_registration_window_with_aware_datetimes():
    vn = timezone(timedelta(hours=7))
    sessions = [_slot(date(2026, 2, 5), time(8, 0))]
    # 00:30 UTC = 07:30 in Vietnam, before the 08:00 session.
    utc_close = datetime(2026, 2, 5, 0, 30, tzinfo=UTC)
    data = _course(reg_opens_at=datetime(2026, 1, 10, tzinfo=UTC), reg_closes_at=utc_close)
    assert r.course_errors(data, sessions, local_tz=vn) == {}
    # Without local_tz the session time is read in UTC: still fine (08:00 UTC is later).
    assert r.course_errors(data, sessions) == {}
    late = _course(reg_opens_at=datetime(2026, 1, 10, tzinfo=vn), reg_closes_at=datetime(2026, 2, 5, 8, 1, tzinfo=vn))
    assert list(r.course_errors(late, sessions)) == ["reg_closes_at"]


def test_sessions_outside_course_dates_are_reported():
    sessions = [_slot(date(2026, 2, 9), id=3), _slot(date(2026, 2, 5)), _slot(date(2026, 2, 4), id=2)]
    data = _course(reg_closes_at=datetime(2026, 2, 1))
    assert r.course_errors(data, sessions) == {
        "sessions": [
            "Buổi học ngày 04/02/2026 nằm ngoài thời gian của lớp (05/02/2026 – 07/02/2026).",
            "Buổi học ngày 09/02/2026 nằm ngoài thời gian của lớp (05/02/2026 – 07/02/2026).",
        ]
    }


# --------------------------------------------------------------------------------------------
# Session validation
# --------------------------------------------------------------------------------------------
COURSE_START, COURSE_END = date(2026, 2, 5), date(2026, 2, 7)


@pytest.mark.parametrize(
    ("slot", "errors"),
    [
        (_slot(), {}),
        (_slot(COURSE_START), {}),
        (_slot(COURSE_END), {}),
        (_slot(start=time(8, 0), end=time(8, 1)), {}),
        (_slot(date(2026, 2, 4)), {"date": ["Ngày học phải nằm trong thời gian của lớp (05/02/2026 – 07/02/2026)."]}),
        (_slot(date(2026, 2, 8)), {"date": ["Ngày học phải nằm trong thời gian của lớp (05/02/2026 – 07/02/2026)."]}),
        (_slot(None), {"date": ["Vui lòng nhập ngày học."]}),
        (_slot(start=None), {"start": ["Vui lòng nhập giờ bắt đầu."]}),
        (_slot(end=None), {"end": ["Vui lòng nhập giờ kết thúc."]}),
        (_slot(start=time(11, 0), end=time(11, 0)), {"end": ["Giờ kết thúc phải sau giờ bắt đầu."]}),
        (_slot(start=time(14, 0), end=time(11, 0)), {"end": ["Giờ kết thúc phải sau giờ bắt đầu."]}),
        (_slot(None, None, None), {"date": ["Vui lòng nhập ngày học."], "start": ["Vui lòng nhập giờ bắt đầu."],
                                   "end": ["Vui lòng nhập giờ kết thúc."]}),
        (_slot(date(2026, 3, 1), time(9, 0), time(8, 0)),
         {"date": ["Ngày học phải nằm trong thời gian của lớp (05/02/2026 – 07/02/2026)."],
          "end": ["Giờ kết thúc phải sau giờ bắt đầu."]}),
    ],
)
def test_validate_session(slot, errors):
    assert r.session_errors(slot, COURSE_START, COURSE_END) == errors
    if errors:
        with pytest.raises(RuleViolation) as exc:
            r.validate_session(slot, COURSE_START, COURSE_END)
        assert exc.value.errors == errors
        assert all(_nfc(m) for m in exc.value.messages)
    else:
        r.validate_session(slot, COURSE_START, COURSE_END)


def test_session_dates_unchecked_without_course_dates():
    assert r.session_errors(_slot(date(2030, 1, 1)), None, None) == {}


# --------------------------------------------------------------------------------------------
# Clashes
# --------------------------------------------------------------------------------------------
D = date(2026, 2, 5)
NEW = _slot(D, time(8, 0), time(11, 0), id=None, course_id=10, venue="Hội trường UBND xã", trainer="Nguyễn Văn A")


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        # same trainer, different spelling → clash
        (_slot(D, time(9, 0), time(10, 0), id=7, course_id=11, trainer="nguyen  van a",
               course_title="Phòng chống bạo lực gia đình"),
         [("Trùng giảng viên “nguyen  van a” với buổi học 09:00–10:00 ngày 05/02/2026 "
           "của lớp “Phòng chống bạo lực gia đình”.")]),
        # same venue, different spacing/case/diacritics → clash
        (_slot(D, time(10, 59), time(12, 0), id=7, course_id=11, venue="  hoi truong  UBND XA "),
         ["Trùng địa điểm “hoi truong  UBND XA” với buổi học 10:59–12:00 ngày 05/02/2026 của lớp #11."]),
        # both
        (_slot(D, time(7, 0), time(13, 0), id=7, course_id=10, venue="HỘI TRƯỜNG UBND XÃ", trainer="Nguyễn văn A"),
         [("Trùng địa điểm “HỘI TRƯỜNG UBND XÃ” và giảng viên “Nguyễn văn A” với buổi học 07:00–13:00 "
           "ngày 05/02/2026 của chính lớp này.")]),
        # touching times do not clash
        (_slot(D, time(11, 0), time(12, 0), id=7, trainer="Nguyễn Văn A", venue="Hội trường UBND xã"), []),
        (_slot(D, time(6, 0), time(8, 0), id=7, trainer="Nguyễn Văn A", venue="Hội trường UBND xã"), []),
        # different date does not clash
        (_slot(D + timedelta(days=1), time(8, 0), time(11, 0), id=7, trainer="Nguyễn Văn A"), []),
        # overlapping but nothing shared
        (_slot(D, time(8, 0), time(11, 0), id=7, venue="Nhà văn hóa ấp", trainer="Trần Thị B"), []),
        # empty venue/trainer on the other side never match
        (_slot(D, time(8, 0), time(11, 0), id=7, venue="", trainer="  "), []),
        # incomplete other session: ignored
        (_slot(D, None, time(11, 0), id=7, trainer="Nguyễn Văn A"), []),
    ],
)
def test_find_clashes(other, expected):
    warnings = r.find_clashes(NEW, [other])
    assert warnings == expected
    assert all(_nfc(w) for w in warnings)


def test_clash_ignores_the_session_itself_and_empty_new_fields():
    stored = dataclasses.replace(NEW, id=5)
    assert r.find_clashes(stored, [dataclasses.replace(NEW, id=5)]) == []
    assert len(r.find_clashes(stored, [dataclasses.replace(NEW, id=6)])) == 1
    blank = dataclasses.replace(NEW, venue="", trainer="")
    assert r.find_clashes(blank, [_slot(D, time(8, 0), time(11, 0), id=7, venue="", trainer="")]) == []


def test_session_clashes_structured_and_in_order():
    others = [
        _slot(D, time(9, 0), time(10, 0), id=8, venue="Hội trường UBND xã"),
        _slot(D, time(9, 0), time(10, 0), id=7, trainer="NGUYỄN VĂN A"),
    ]
    clashes = r.session_clashes(NEW, others)
    assert [(c.other.id, c.same_venue, c.same_trainer) for c in clashes] == [(8, True, False), (7, False, True)]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Nguyễn Văn A", "nguyen van a"),
        ("Đặng Thị Hoà", "dang thi hòa"),  # old/new tone placement
        ("Hội trường\tUBND", "hội   trường ubnd"),
        ("\u00d0inh Văn B", "Đinh Văn B"),  # look-alike Ð from old encodings
        (unicodedata.normalize("NFD", "Nguyễn"), "Nguyễn"),
    ],
)
def test_match_key_equal(a, b):
    assert r.match_key(a) == r.match_key(b)


def test_match_key_blank():
    assert r.match_key(None) == r.match_key("") == r.match_key("   ") == ""


# --------------------------------------------------------------------------------------------
# Cloning
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("course_start", "dates", "new_start", "keep_weekday", "expected"),
    [
        # day offsets kept
        (date(2026, 2, 5), [date(2026, 2, 5), date(2026, 2, 7), date(2026, 2, 12)], date(2026, 9, 1), False,
         [date(2026, 9, 1), date(2026, 9, 3), date(2026, 9, 8)]),
        # order of the input kept; offsets across month end
        (date(2026, 1, 30), [date(2026, 2, 2), date(2026, 1, 30)], date(2027, 1, 30), False,
         [date(2027, 2, 2), date(2027, 1, 30)]),
        # keep_weekday: Thursday 05/02/2026 → first Thursday on or after Tuesday 01/09/2026 = 03/09/2026
        (date(2026, 2, 5), [date(2026, 2, 5), date(2026, 2, 6)], date(2026, 9, 1), True,
         [date(2026, 9, 3), date(2026, 9, 4)]),
        # keep_weekday and the requested date already on that weekday
        (date(2026, 2, 5), [date(2026, 2, 5)], date(2026, 9, 3), True, [date(2026, 9, 3)]),
        # across 29/02 of a leap year: offsets are in days, not calendar fields
        (date(2028, 2, 28), [date(2028, 2, 28), date(2028, 3, 1)], date(2029, 2, 28), False,
         [date(2029, 2, 28), date(2029, 3, 2)]),
        (date(2026, 2, 5), [], date(2026, 9, 1), False, []),
    ],
)
def test_shift_schedule(course_start, dates, new_start, keep_weekday, expected):
    got = r.shift_schedule(course_start, dates, new_start, keep_weekday=keep_weekday)
    assert got == expected
    if keep_weekday:
        assert all(g.weekday() == d.weekday() for g, d in zip(got, dates, strict=True))


@pytest.mark.parametrize(
    ("d", "weekday", "expected"),
    [
        (date(2026, 9, 1), 1, date(2026, 9, 1)),  # Tuesday itself
        (date(2026, 9, 1), 3, date(2026, 9, 3)),
        (date(2026, 9, 1), 0, date(2026, 9, 7)),  # Monday: next week
    ],
)
def test_next_weekday_on_or_after(d, weekday, expected):
    assert r.next_weekday_on_or_after(d, weekday) == expected
    assert r.effective_start(date(2026, 2, 2) + timedelta(days=weekday), d, keep_weekday=True) == expected
    assert r.effective_start(date(2026, 2, 2), d) == d


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2026, 2, 5), date(2027, 2, 5)),
        (date(2028, 2, 29), date(2029, 2, 28)),
        (date(2027, 2, 28), date(2028, 2, 28)),  # into a leap year: 28 stays 28
        (date(2026, 12, 31), date(2027, 12, 31)),
        (datetime(2028, 2, 29, 8, 30), datetime(2029, 2, 28, 8, 30)),
    ],
)
def test_shift_to_next_year(d, expected):
    assert r.shift_to_next_year(d) == expected
