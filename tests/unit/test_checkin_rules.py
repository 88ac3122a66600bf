"""QR check-in rules: the rotating session code, the personal code, the time window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bdg_training.checkin import rules
from bdg_training.rules_base import RuleViolation

SECRET = "bi-mat-thu-nghiem"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2026, 12, 7, 1, 0, 0, tzinfo=UTC)  # 08:00 in Vietnam; T0 is on a window boundary


def test_window_index_changes_every_30_seconds():
    assert T0.timestamp() % 30 == 0
    assert rules.window_index(T0) == rules.window_index(T0 + timedelta(seconds=29.9))
    assert rules.window_index(T0 + timedelta(seconds=30)) == rules.window_index(T0) + 1
    assert rules.window_ends_in(T0 + timedelta(seconds=12)) == pytest.approx(18)


@pytest.mark.parametrize(
    "scanned_after, accepted",
    [(0, True), (29, True), (30, True), (59, True), (60, False), (600, False)],
)
def test_a_code_lives_in_its_window_and_the_next_one_only(scanned_after, accepted):
    token = rules.session_token(SECRET, 42, rules.window_index(T0))
    later = T0 + timedelta(seconds=scanned_after)
    if accepted:
        assert rules.verify_session_token(SECRET, token, now=later) == 42
    else:
        with pytest.raises(rules.TokenError) as error:
            rules.verify_session_token(SECRET, token, now=later)
        assert error.value.reason == "expired"
        assert "hết hạn" in str(error.value)


def test_a_code_from_the_future_is_refused():
    token = rules.session_token(SECRET, 42, rules.window_index(T0) + 1)
    with pytest.raises(rules.TokenError):
        rules.verify_session_token(SECRET, token, now=T0)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t.replace("42.", "43.", 1),  # another session, same signature
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t: rules.session_token("another-secret", 42, int(t.split(".")[1])),  # signed with another key
        lambda t: rules.trainee_token(SECRET, 42),  # a personal code is not a session code
    ],
)
def test_forged_codes_are_refused(mutate):
    token = mutate(rules.session_token(SECRET, 42, rules.window_index(T0)))
    with pytest.raises(rules.TokenError) as error:
        rules.verify_session_token(SECRET, token, now=T0)
    assert error.value.reason in {"forged", "malformed"}


@pytest.mark.parametrize("token", ["", "abc", "42", "42.1.", "42.x.AAAAAAAAAAAAAAAAAAAAAA", "42.1.AAAA", "-1.1.AAAAAAAAAAAAAAAAAAAAAA"])
def test_malformed_codes_are_refused(token):
    with pytest.raises(rules.TokenError) as error:
        rules.verify_session_token(SECRET, token, now=T0)
    assert error.value.reason == "malformed"


def test_the_session_code_carries_no_trainee_identity():
    token = rules.session_token(SECRET, 42, 123)
    session_id, window, mac = token.split(".")
    assert (session_id, window) == ("42", "123") and len(mac) == 22


def test_personal_codes_round_trip_and_forgeries_fail():
    token = rules.trainee_token(SECRET, 7)
    assert rules.verify_trainee_token(SECRET, token) == 7
    assert rules.verify_trainee_token(SECRET, " " + token + "\n") == 7
    with pytest.raises(rules.TokenError):
        rules.verify_trainee_token(SECRET, "8." + token.split(".")[1])
    with pytest.raises(rules.TokenError):
        rules.verify_trainee_token("other", token)
    with pytest.raises(rules.TokenError):
        rules.verify_trainee_token(SECRET, rules.session_token(SECRET, 7, 1))


@pytest.mark.parametrize(
    "scanned, expected",
    [
        ("7.abc", "7.abc"),
        ("  https://taphuan.cantho.gov.vn/checkin/t/7.abc  ", "7.abc"),
        ("http://127.0.0.1:5000/checkin/t/7.abc/", "7.abc"),
        ("https://x.vn/checkin/t/7.abc?utm=1#top", "7.abc"),
        ("", ""),
    ],
)
def test_extract_token_accepts_the_url_or_the_bare_code(scanned, expected):
    assert rules.extract_token(scanned) == expected


def _vn(hour, minute, day=date(2026, 12, 7)):
    return datetime.combine(day, time(hour, minute), tzinfo=VN)


@pytest.mark.parametrize(
    "moment, state",
    [
        (_vn(6, 59), "before"),
        (_vn(7, 0), "open"),  # 30 minutes before a 07:30 start
        (_vn(7, 30), "open"),
        (_vn(10, 0), "open"),
        (_vn(11, 0), "open"),  # the end itself
        (_vn(11, 1), "after"),
        (_vn(9, 0, date(2026, 12, 8)), "after"),  # the next day
    ],
)
def test_checkin_window_is_half_an_hour_before_start_until_the_end_in_vietnam_time(moment, state):
    window = rules.checkin_window(date(2026, 12, 7), time(7, 30), time(11, 0), VN)
    assert window.opens == datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # 07:00 in UTC+7
    assert window.state(moment.astimezone(UTC)) == state


def test_check_window_says_when_it_opens_or_closed():
    window = rules.checkin_window(date(2026, 12, 7), time(13, 30), time(16, 30), VN)
    with pytest.raises(RuleViolation, match="mở từ 13:00 ngày 07/12/2026"):
        rules.check_window(window, _vn(12, 0), VN)
    with pytest.raises(RuleViolation, match="kết thúc lúc 16:30 ngày 07/12/2026"):
        rules.check_window(window, _vn(17, 0), VN)
    rules.check_window(window, _vn(13, 15), VN)  # no exception
