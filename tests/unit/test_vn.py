"""Tests for bdg_training.vn: dates, phone numbers, identity numbers, ages."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from bdg_training.vn import (
    age_on,
    display_phone,
    format_date,
    format_datetime,
    long_date,
    mask_id,
    normalize_phone,
    parse_date,
    personal_id_warnings,
    place_date_line,
    suggest_phone_conversion,
    validate_cmnd,
    validate_personal_id,
)

# --- dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("05/02/2026", date(2026, 2, 5)),
        ("5/2/2026", date(2026, 2, 5)),
        ("05-02-2026", date(2026, 2, 5)),
        ("05.02.2026", date(2026, 2, 5)),
        ("2026-02-05", date(2026, 2, 5)),
        ("  05/02/2026 ", date(2026, 2, 5)),
        ("31/12/2025", date(2025, 12, 31)),
        ("29/02/2024", date(2024, 2, 29)),  # leap year
        ("1/1/1950", date(1950, 1, 1)),
        ("12/03/2026", date(2026, 3, 12)),  # day first, never month first
        (date(2026, 2, 5), date(2026, 2, 5)),
    ],
)
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "31/02/2026",
        "29/02/2025",  # not a leap year
        "32/01/2026",
        "15/13/2026",
        "00/01/2026",
        "",
        "   ",
        "abc",
        "5/2/26",  # 2-digit year refused
        "05/02/26",
        "05/02-2026",  # mixed separators
        "05 02 2026",
        "05/02/2026 13:15",
        "2026/02/05",
        "05/02/0999",
        "５/２/２０２６",  # full-width digits
        None,
        datetime(2026, 2, 5, 13, 15),
    ],
)
def test_parse_date_rejects(raw):
    with pytest.raises(ValueError, match=r"^Ngày không hợp lệ: .*, hãy nhập theo dạng dd/mm/yyyy$"):
        parse_date(raw)


def test_parse_date_message_quotes_the_input():
    with pytest.raises(ValueError) as excinfo:
        parse_date("31/02/2026")
    assert str(excinfo.value) == "Ngày không hợp lệ: “31/02/2026”, hãy nhập theo dạng dd/mm/yyyy"


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2026, 2, 5), "05/02/2026"),
        (date(2026, 12, 31), "31/12/2026"),
        (date(1999, 1, 9), "09/01/1999"),
    ],
)
def test_format_date(d, expected):
    assert format_date(d) == expected


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        (datetime(2026, 2, 5, 13, 15), "05/02/2026 13:15"),
        (datetime(2026, 2, 5, 0, 5), "05/02/2026 00:05"),
        (datetime(2026, 2, 5, 6, 15, tzinfo=UTC), "05/02/2026 13:15"),  # UTC → UTC+7
        (datetime(2026, 2, 5, 20, 0, tzinfo=UTC), "06/02/2026 03:00"),  # crosses midnight
        (datetime(2026, 2, 5, 13, 15, tzinfo=timezone(timedelta(hours=7))), "05/02/2026 13:15"),
    ],
)
def test_format_datetime(dt, expected):
    assert format_datetime(dt) == expected


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2026, 2, 5), "ngày 05 tháng 02 năm 2026"),
        (date(2026, 3, 15), "ngày 15 tháng 3 năm 2026"),
        (date(2026, 12, 5), "ngày 05 tháng 12 năm 2026"),
        (date(2026, 1, 9), "ngày 09 tháng 01 năm 2026"),
        (date(2026, 1, 10), "ngày 10 tháng 01 năm 2026"),
        (date(2026, 2, 28), "ngày 28 tháng 02 năm 2026"),
        (date(2026, 10, 20), "ngày 20 tháng 10 năm 2026"),
        (date(2026, 9, 1), "ngày 01 tháng 9 năm 2026"),
    ],
)
def test_long_date_nd30_leading_zeros(d, expected):
    assert long_date(d) == expected


def test_place_date_line():
    assert place_date_line("Cần Thơ", date(2026, 2, 5)) == "Cần Thơ, ngày 05 tháng 02 năm 2026"
    assert place_date_line(" Cần Thơ ", date(2026, 11, 20)) == "Cần Thơ, ngày 20 tháng 11 năm 2026"


# --- phones ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912 345 678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        ("0912-345-678", "+84912345678"),
        ("0912345678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("+84912345678", "+84912345678"),
        ("+84 (0) 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0084 912 345 678", "+84912345678"),
        ("0321 234 567", "+84321234567"),
        ("0569 123 456", "+84569123456"),
        ("0701 234 567", "+84701234567"),
        ("0812 345 678", "+84812345678"),
        ("0292 3821 234", "+842923821234"),  # landline
        ("(0292) 3821234", "+842923821234"),
        ("+84 292 3821 234", "+842923821234"),
        ("024 3825 1234", "+842438251234"),
        (" 0912 345 678 ", "+84912345678"),
    ],
)
def test_normalize_phone(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Chưa nhập số điện thoại"),
        (None, "Chưa nhập số điện thoại"),
        ("0912 345 67", "phải có 10 chữ số"),  # 9 digits
        ("0912 345 6789", "phải có 10 chữ số"),  # 11 digits, not 01/02
        ("09123456789012", "phải có 10 chữ số"),
        ("0912abc678", "chỉ được dùng chữ số"),
        ("không có", "chỉ được dùng chữ số"),
        ("0912 345 678 ext 12", "chỉ được dùng chữ số"),
        ("0112 345 678", "Đầu số di động không hợp lệ: 011"),
        ("0212 345 678", "Đầu số di động không hợp lệ: 021"),
        ("0412 345 678", "Đầu số di động không hợp lệ: 041"),
        ("0612 345 678", "Đầu số di động không hợp lệ: 061"),
        ("912345678", "phải bắt đầu bằng 0 hoặc \\+84"),
        ("1900 1234", "phải bắt đầu bằng 0 hoặc \\+84"),
        ("+1 202 555 0100", "Chỉ chấp nhận số điện thoại Việt Nam"),
        ("0168 123 4567", "đã chuyển sang 10 chữ số.*0381234567"),
    ],
)
def test_normalize_phone_rejects(raw, message):
    with pytest.raises(ValueError, match=message):
        normalize_phone(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0162 123 4567", "0321234567"),
        ("0169 123 4567", "0391234567"),
        ("01681234567", "0381234567"),
        ("0120 123 4567", "0701234567"),
        ("0121 123 4567", "0791234567"),
        ("0122 123 4567", "0771234567"),
        ("0126 123 4567", "0761234567"),
        ("0128 123 4567", "0781234567"),
        ("0123 123 4567", "0831234567"),
        ("0124 123 4567", "0841234567"),
        ("0125 123 4567", "0851234567"),
        ("0127 123 4567", "0811234567"),
        ("0129 123 4567", "0821234567"),
        ("0186 123 4567", "0561234567"),
        ("0188 123 4567", "0581234567"),
        ("0199 123 4567", "0591234567"),
        ("+84 168 123 4567", "0381234567"),
        ("0161 123 4567", None),  # not in the table
        ("0912 345 678", None),  # already 10 digits
        ("0292 3821 234", None),
        ("abc", None),
        ("", None),
        (None, None),
    ],
)
def test_suggest_phone_conversion(raw, expected):
    assert suggest_phone_conversion(raw) == expected


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+84912345678", "0912 345 678"),
        ("+84321234567", "0321 234 567"),
        ("+842923821234", "0292 3821 234"),
        ("+842438251234", "024 3825 1234"),
        ("+842838251234", "028 3825 1234"),
        ("0912.345.678", "0912 345 678"),
        ("", ""),
        (None, ""),
        ("rác", "rác"),  # display is not validation
    ],
)
def test_display_phone(stored, shown):
    assert display_phone(stored) == shown


@pytest.mark.parametrize("raw", ["0912 345 678", "+84 292 3821 234", "024 3825 1234", "0399 999 999"])
def test_phone_round_trip(raw):
    e164 = normalize_phone(raw)
    assert normalize_phone(display_phone(e164)) == e164


# --- identity numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("079203001234", "079203001234"),
        ("0792 0300 1234", "079203001234"),
        (" 092 1 85 123456 ", "092185123456"),
    ],
)
def test_validate_personal_id(raw, expected):
    assert validate_personal_id(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", None, "12345678901", "1234567890123", "07920300123a", "079-203-001234", "079203OO1234", "０７９２０３００１２３４"],
)
def test_validate_personal_id_rejects(raw):
    with pytest.raises(ValueError, match="^Số định danh cá nhân phải gồm đúng 12 chữ số$"):
        validate_personal_id(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("361234567", "361234567"), ("361 234 567", "361234567"), ("092185123456", "092185123456")],
)
def test_validate_cmnd(raw, expected):
    assert validate_cmnd(raw) == expected


@pytest.mark.parametrize("raw", ["", None, "12345678", "1234567890", "12345678901", "36123456x"])
def test_validate_cmnd_rejects(raw):
    with pytest.raises(ValueError, match="9 hoặc 12 chữ số"):
        validate_cmnd(raw)


@pytest.mark.parametrize(
    ("pid", "sex", "birth_year", "expected_fragments"),
    [
        # consistent: no warnings
        ("092085001234", "nam", 1985, []),
        ("092185001234", "nu", 1985, []),
        ("092185001234", "nữ", 1985, []),
        ("092203001234", "nam", 2003, []),
        ("092303001234", "nu", 2003, []),
        ("092400001234", "nam", 2100, []),
        ("092501001234", "nu", 2101, []),
        ("001099001234", "nam", 1999, []),  # province prefix never checked
        ("999085001234", "nam", 1985, []),
        ("092085001234", None, None, []),
        # sex contradicts digit 4
        ("092085001234", "nu", 1985, ["giới tính nam, khác với giới tính đã nhập (nữ)"]),
        ("092185001234", "nam", 1985, ["giới tính nữ, khác với giới tính đã nhập (nam)"]),
        ("092303001234", "nam", None, ["giới tính nữ"]),
        # century contradicts digit 4
        ("092085001234", "nam", 2085, ["năm sinh từ 1900 đến 1999, khác với năm sinh đã nhập (2085)"]),
        ("092203001234", "nam", 1903, ["năm sinh từ 2000 đến 2099"]),
        # digits 5–6 contradict the year
        ("092085001234", "nam", 1986, ["Chữ số thứ 5–6 của số định danh là 85"]),
        ("092203001234", None, 2004, ["là 03, khác với hai số cuối của năm sinh"]),
        # everything wrong at once
        ("092185001234", "nam", 2086, ["giới tính nữ", "năm sinh từ 1900 đến 1999", "là 85"]),
    ],
)
def test_personal_id_warnings(pid, sex, birth_year, expected_fragments):
    warnings = personal_id_warnings(pid, sex, birth_year)
    assert len(warnings) == len(expected_fragments)
    for warning, fragment in zip(warnings, expected_fragments, strict=True):
        assert fragment in warning


def test_personal_id_warnings_rejects_bad_input():
    with pytest.raises(ValueError, match="12 chữ số"):
        personal_id_warnings("12345", "nam", 1985)
    with pytest.raises(ValueError, match="Giới tính"):
        personal_id_warnings("092085001234", "khác", 1985)


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("079203001234", "********1234"),
        ("0792 0300 1234", "********1234"),
        ("361234567", "*****4567"),
        ("1234", "****"),
        ("12", "**"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id(raw, masked):
    assert mask_id(raw) == masked


# --- ages -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(1990, 5, 10), date(2026, 5, 9), 35),
        (date(1990, 5, 10), date(2026, 5, 10), 36),  # birthday itself
        (date(1990, 5, 10), date(2026, 5, 11), 36),
        (date(2000, 1, 1), date(2000, 1, 1), 0),
        (date(2000, 2, 29), date(2026, 2, 28), 25),
        (date(2000, 2, 29), date(2026, 3, 1), 26),
        (date(2000, 2, 29), date(2028, 2, 29), 28),
        (date(1990, 12, 31), date(2026, 1, 1), 35),
        (datetime(1990, 5, 10, 23, 0), datetime(2026, 5, 10, 1, 0), 36),
    ],
)
def test_age_on(born, on, age):
    assert age_on(born, on) == age


def test_age_on_rejects_future_birth():
    with pytest.raises(ValueError):
        age_on(date(2026, 1, 2), date(2026, 1, 1))
