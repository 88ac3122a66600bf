"""Vietnamese formats: dates, phone numbers, identity numbers, ages (DOMAIN.md §4.3–§4.5).

Pure standard-library code. Every parser raises ``ValueError`` with a Vietnamese message that a
view can flash as it is.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from bdg_training.text import fold

__all__ = [
    "VIETNAM_TZ",
    "age_on",
    "display_phone",
    "format_date",
    "format_datetime",
    "long_date",
    "mask_id",
    "normalize_phone",
    "parse_date",
    "personal_id_warnings",
    "place_date_line",
    "suggest_phone_conversion",
    "validate_cmnd",
    "validate_personal_id",
]

# Vietnam has used UTC+07:00 without daylight saving since 1975; a fixed offset avoids needing
# the tz database.
VIETNAM_TZ = timezone(timedelta(hours=7), "ICT")

# --- Dates ---------------------------------------------------------------------------------------

_DMY_RE = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4})")
_ISO_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")


def _date_error(value: object) -> ValueError:
    return ValueError(f"Ngày không hợp lệ: “{value}”, hãy nhập theo dạng dd/mm/yyyy")


def parse_date(s: str | date | None) -> date:
    """Parse a date typed day-month-year, the Vietnamese order.

    Accepted (surrounding spaces ignored): ``05/02/2026``, ``5/2/2026``, ``05-02-2026``,
    ``05.02.2026`` (one separator used twice), and ISO ``2026-02-05``. The year must have four
    digits and not start with 0: "5/2/26" is refused rather than guessed. A ``date`` (not a
    ``datetime``) is returned unchanged.

    Raises ``ValueError("Ngày không hợp lệ: “…”, hãy nhập theo dạng dd/mm/yyyy")`` for anything
    else: impossible dates (31/02/2026, 29/02/2025), empty text, words, mixed separators
    (05/02-2026), times ("05/02/2026 13:15").
    """
    if isinstance(s, date) and not isinstance(s, datetime):
        return s
    if not isinstance(s, str):
        raise _date_error("" if s is None else s)
    text = s.strip()
    if m := _DMY_RE.fullmatch(text):
        day, month, year = int(m.group(1)), int(m.group(3)), m.group(4)
    elif m := _ISO_RE.fullmatch(text):
        year, month, day = m.group(1), int(m.group(2)), int(m.group(3))
    else:
        raise _date_error(text)
    if year.startswith("0"):
        raise _date_error(text)
    try:
        return date(int(year), month, day)
    except ValueError:
        raise _date_error(text) from None


def format_date(d: date) -> str:
    """``05/02/2026``: day and month always two digits, year four digits."""
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def format_datetime(dt: datetime) -> str:
    """``05/02/2026 13:15`` (24-hour clock).

    An aware datetime (the database stores UTC) is shown in Vietnam time, UTC+07:00; a naive
    one is shown as it is.
    """
    if dt.tzinfo is not None and dt.utcoffset() is not None:
        dt = dt.astimezone(VIETNAM_TZ)
    return f"{format_date(dt)} {dt.hour:02d}:{dt.minute:02d}"


def long_date(d: date) -> str:
    """Date written out as on official documents: ``ngày 05 tháng 02 năm 2026``.

    Nghị định 30/2020/NĐ-CP (anti-forgery rule): a day below 10 and the months 1 and 2 get a
    leading zero; other months do not. "ngày 09 tháng 01 năm 2026", "ngày 15 tháng 3 năm 2026",
    "ngày 05 tháng 12 năm 2026", "ngày 28 tháng 02 năm 2026".
    """
    month = f"{d.month:02d}" if d.month <= 2 else str(d.month)
    return f"ngày {d.day:02d} tháng {month} năm {d.year}"


def place_date_line(place: str, d: date) -> str:
    """Place-and-date line of a document: ``Cần Thơ, ngày 05 tháng 02 năm 2026``.

    ``place`` is used as given (stripped); which place an issuer writes is its own setting.
    """
    return f"{place.strip()}, {long_date(d)}"


# --- Phone numbers -------------------------------------------------------------------------------

_MOBILE_SECOND_DIGITS = "35789"  # 03x 05x 07x 08x 09x
# 2018–2019 conversion of 11-digit mobile numbers (DOMAIN.md §4.4): old 01xx → new 0xx.
OLD_MOBILE_PREFIXES = {
    # Viettel
    "0162": "032", "0163": "033", "0164": "034", "0165": "035",
    "0166": "036", "0167": "037", "0168": "038", "0169": "039",
    # MobiFone
    "0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",
    # VinaPhone
    "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",
    # Vietnamobile
    "0186": "056", "0188": "058",
    # Gmobile
    "0199": "059",
}  # fmt: skip
_PHONE_CHARS_RE = re.compile(r"\+?[0-9 .\-()]+")
_TWO_DIGIT_AREA_CODES = ("024", "028")  # Hà Nội, TP.HCM: 8-digit subscriber numbers


def _national_digits(s: str) -> str:
    """Digits in national form (leading 0), or raise ValueError. No length check."""
    text = s.strip()
    if not text:
        raise ValueError("Chưa nhập số điện thoại")
    if not _PHONE_CHARS_RE.fullmatch(text):
        raise ValueError(
            f"Số điện thoại không hợp lệ: “{text}”; chỉ được dùng chữ số, dấu cách, dấu chấm, gạch ngang, dấu ngoặc và dấu + ở đầu"
        )
    digits = re.sub(r"[^0-9]", "", text)
    if text.startswith("+") or digits.startswith("00"):
        digits = digits[2:] if digits.startswith("00") else digits
        if not digits.startswith("84"):
            raise ValueError(f"Chỉ chấp nhận số điện thoại Việt Nam (+84): “{text}”")
        return "0" + digits[2:].removeprefix("0")  # "+84 (0) 912 …"
    if digits.startswith("84") and len(digits) in (11, 12):
        return "0" + digits[2:].removeprefix("0")
    if not digits.startswith("0"):
        raise ValueError(f"Số điện thoại phải bắt đầu bằng 0 hoặc +84: “{text}”")
    return digits


def normalize_phone(s: str | None) -> str:
    """Validate a Vietnamese phone number and return it in E.164 form (``+84912345678``).

    Accepted writings: "0912 345 678", "0912.345.678", "0912-345-678", "(0292) 3821 234",
    "+84 912 345 678", "+84 (0) 912 345 678", "0084912345678", and "84912345678" (country
    code without +, only when the length fits an international number).

    Rules, on the national form (leading 0):

    * 10 digits = mobile, and the prefix must be 03x, 05x, 07x, 08x or 09x;
    * 11 digits starting 02 = landline (area code 02x/02xx since the 2017 change; the area code
      itself is not checked);
    * 11 digits starting 01 = an old mobile number, refused with the new number suggested
      (:func:`suggest_phone_conversion`);
    * anything else (other lengths, letters, foreign numbers, 1800/1900 service numbers) raises
      ``ValueError`` with a Vietnamese message.
    """
    if s is None:
        raise ValueError("Chưa nhập số điện thoại")
    national = _national_digits(s)
    if len(national) == 10:
        if national[1] not in _MOBILE_SECOND_DIGITS:
            raise ValueError(f"Đầu số di động không hợp lệ: {national[:3]}; đầu số hợp lệ là 03x, 05x, 07x, 08x, 09x")
    elif len(national) == 11 and national.startswith("02"):
        pass
    elif len(national) == 11 and national.startswith("01"):
        message = "Số di động 11 chữ số (đầu 01x) đã chuyển sang 10 chữ số từ năm 2018"
        new = suggest_phone_conversion(national)
        if new:
            message += f"; số mới có thể là {new}"
        raise ValueError(message)
    else:
        raise ValueError(
            f"Số điện thoại phải có 10 chữ số (di động) hoặc 11 chữ số (cố định, đầu 02), số đã nhập có {len(national)} chữ số"
        )
    return "+84" + national[1:]


def suggest_phone_conversion(s: str | None) -> str | None:
    """New 10-digit number for an old 11-digit 01xx mobile number, or ``None``.

    Uses the 2018 conversion table (DOMAIN.md §4.4): e.g. 0168 → 038, 0121 → 079, 0124 → 084,
    0186 → 056, 0199 → 059; the last 7 digits are kept: "0168 123 4567" → "0381234567".
    Accepts the same writings as :func:`normalize_phone` ("+84 168 …" too). Returns ``None``
    for anything that is not an 11-digit number with a prefix in the table; never raises.
    """
    if not s:
        return None
    try:
        national = _national_digits(s)
    except ValueError:
        return None
    if len(national) != 11 or national[:4] not in OLD_MOBILE_PREFIXES:
        return None
    return OLD_MOBILE_PREFIXES[national[:4]] + national[4:]


def display_phone(e164: str | None) -> str:
    """Show a stored number the way Vietnamese write it, national form with spaces.

    Mobiles 4-3-3: "+84912345678" → "0912 345 678". Landlines: area code, then the subscriber
    number split 4-3 ("+842923821234" → "0292 3821 234") or, for Hà Nội 024 and TP.HCM 028,
    4-4 ("+842438251234" → "024 3825 1234"). ``None``/"" give "". Display is not validation:
    a value that :func:`normalize_phone` would refuse is returned unchanged.
    """
    if not e164:
        return ""
    try:
        national = "0" + normalize_phone(e164)[3:]
    except ValueError:
        return e164
    if len(national) == 10:
        return f"{national[:4]} {national[4:7]} {national[7:]}"
    if national[:3] in _TWO_DIGIT_AREA_CODES:
        return f"{national[:3]} {national[3:7]} {national[7:]}"
    return f"{national[:4]} {national[4:8]} {national[8:]}"


# --- Identity numbers ----------------------------------------------------------------------------

PERSONAL_ID_ERROR = "Số định danh cá nhân phải gồm đúng 12 chữ số"
CMND_ERROR = "Số chứng minh nhân dân phải gồm 9 hoặc 12 chữ số"
_SPACE_RE = re.compile(r"\s+")


def validate_personal_id(s: str | None) -> str:
    """Return the 12-digit số định danh cá nhân (CCCD / thẻ căn cước number), spaces removed.

    Only the form is checked: exactly 12 ASCII digits once whitespace is removed ("0792 0300
    1234" is fine). The province prefix is never checked: the number never changes, even when
    provinces merge. Anything else raises ``ValueError("Số định danh cá nhân phải gồm đúng 12
    chữ số")``.
    """
    digits = _SPACE_RE.sub("", s or "")
    if not re.fullmatch(r"[0-9]{12}", digits):
        raise ValueError(PERSONAL_ID_ERROR)
    return digits


def validate_cmnd(s: str | None) -> str:
    """Return a legacy CMND number (9 or 12 digits), spaces removed, or raise ``ValueError``.

    CMND cards stopped being valid on 31/12/2024, but numbers already on papers stay valid,
    so the field is kept for old records.
    """
    digits = _SPACE_RE.sub("", s or "")
    if not re.fullmatch(r"[0-9]{9}|[0-9]{12}", digits):
        raise ValueError(CMND_ERROR)
    return digits


_SEX_NAMES = {"male": "nam", "female": "nữ"}


def _sex(value: str) -> str:
    key = fold(value)
    if key in ("nam", "male", "m"):
        return "male"
    if key in ("nu", "female", "f"):
        return "female"
    raise ValueError("Giới tính phải là “nam” hoặc “nu”")


def personal_id_warnings(pid: str, sex: str | None = None, birth_year: int | None = None) -> list[str]:
    """Warnings (Vietnamese) when a personal ID contradicts the sex or birth year entered.

    Digit 4 encodes century and sex: 0/1 = born 1900–1999 male/female, 2/3 = 2000–2099,
    4/5 = 2100–2199, and so on (even = male, odd = female). Digits 5–6 are the last two digits of
    the birth year. ``sex`` is "nam" or "nu" ("nữ", "male", "female" also accepted; ``None``
    skips the check); ``birth_year`` ``None`` skips the year checks. The province prefix
    (digits 1–3) is never checked. These are warnings, not errors: the person's card is the
    authority, and a typo may be in either field.

    Raises ``ValueError`` if ``pid`` is not 12 digits or ``sex`` is not recognised.
    """
    pid = validate_personal_id(pid)
    warnings: list[str] = []
    code = int(pid[3])
    century = 1900 + (code // 2) * 100
    id_sex = "male" if code % 2 == 0 else "female"
    if sex is not None and (given := _sex(sex)) != id_sex:
        warnings.append(
            f"Chữ số thứ 4 của số định danh là {code}, ứng với giới tính {_SEX_NAMES[id_sex]}, "
            f"khác với giới tính đã nhập ({_SEX_NAMES[given]})"
        )
    if birth_year is not None:
        if not century <= birth_year <= century + 99:
            warnings.append(
                f"Chữ số thứ 4 của số định danh là {code}, ứng với năm sinh từ {century} đến "
                f"{century + 99}, khác với năm sinh đã nhập ({birth_year})"
            )
        if pid[4:6] != f"{birth_year % 100:02d}":
            warnings.append(f"Chữ số thứ 5–6 của số định danh là {pid[4:6]}, khác với hai số cuối của năm sinh đã nhập ({birth_year})")
    return warnings


def mask_id(s: str | None) -> str:
    """Hide an identity number except its last 4 digits: "079203001234" → "********1234".

    Whitespace is removed first; one "*" per hidden character. A value of 4 characters or
    fewer is hidden completely (showing it would show everything). ``None`` gives "".
    """
    value = _SPACE_RE.sub("", s or "")
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


# --- Ages ----------------------------------------------------------------------------------------


def age_on(birth_date: date, on_date: date) -> int:
    """Age in completed years on ``on_date`` (tuổi tròn, not the traditional tuổi mụ).

    The age goes up on the birthday itself; someone born on 29 February gets a year older on
    1 March in common years. ``datetime`` values are reduced to their date. Raises
    ``ValueError`` if ``on_date`` is before ``birth_date``.
    """
    if isinstance(birth_date, datetime):
        birth_date = birth_date.date()
    if isinstance(on_date, datetime):
        on_date = on_date.date()
    if on_date < birth_date:
        raise ValueError("Ngày tính tuổi đứng trước ngày sinh")
    before_birthday = (on_date.month, on_date.day) < (birth_date.month, birth_date.day)
    return on_date.year - birth_date.year - before_birthday
