"""Certificate rules: eligibility, numbering, verify codes, lifecycle, salutation, signer block.

Pure: standard library only, no Flask, no SQLAlchemy, no clock. Rule failures that a user can fix raise
:class:`~bdg_training.rules_base.RuleViolation` carrying **every** reason in Vietnamese, keyed by form field;
eligibility is not an exception but a result (:class:`Eligibility`), because the signer reviews it and may
override it with a recorded reason (DOMAIN.md R25).

Sources: DESIGN.md §3; DOMAIN.md §3 (ND 30/2020 layout: "Số:", leading zeros, authority prefixes; TT 03/2023
mechanics: issue once, duplicate for loss/damage, reissue for the issuer's error, revocation causes of Art. 8).
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from fractions import Fraction

from bdg_training.rules_base import RuleViolation

Number = Decimal | Fraction | int | float | str


def _fraction(x: Number) -> Fraction:
    """Exact value; a float through its shortest repr (0.8 → 4/5), a str as a decimal literal."""
    if isinstance(x, bool):
        raise TypeError("a bool is not a number here")
    if isinstance(x, float):
        return Fraction(repr(x))
    if isinstance(x, str):
        return Fraction(Decimal(x.strip()))
    return Fraction(x)


def _decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


def _score_text(x: Number) -> str:
    """A score with 2 decimals, half-up, decimal comma: 4.5 → "4,50"."""
    return str(_decimal(_fraction(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)).replace(".", ",")


def _percent_text(value: Fraction, rounding: str) -> str:
    """A percentage with at most 2 decimals, trailing zeros dropped, decimal comma: 75 → "75", 87.5 → "87,5"."""
    text = str(_decimal(value).quantize(Decimal("0.01"), rounding=rounding))
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


# --------------------------------------------------------------------------------------------------
# Eligibility
# --------------------------------------------------------------------------------------------------

ELIGIBILITY_CODES: dict[str, str] = {
    "enrollment": "Ghi danh",
    "attendance": "Chuyên cần",
    "post_score": "Kiểm tra sau",
    "certificate": "Giấy chứng nhận",
}


@dataclass(frozen=True)
class Eligibility:
    """The outcome of :func:`check_eligibility`.

    ``eligible`` is true iff ``reasons`` is empty. ``reasons`` lists every failed condition in Vietnamese, in a
    fixed order (enrolment, attendance, post-test, existing certificate); ``codes`` gives the matching keys of
    ``ELIGIBILITY_CODES`` in the same order, for filters and overrides.
    """

    eligible: bool
    reasons: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)

    def raise_if_ineligible(self) -> None:
        """Raise a ``RuleViolation`` with every reason under the general key ``""``; nothing when eligible."""
        if self.reasons:
            raise RuleViolation({"": list(self.reasons)})


def check_eligibility(
    *,
    enrollment_status: str,
    held_sessions: int,
    attended_sessions: int,
    min_attendance_pct: Number,
    post_score: Number | None,
    pass_mark: Number,
    has_valid_certificate: bool,
) -> Eligibility:
    """Is a trainee eligible for a certificate of this course? Returns **every** failed reason.

    1. **Enrolment** must be ``"confirmed"`` → else "Chưa được xác nhận ghi danh".
    2. **Attendance**: ``attended / held ≥ min_attendance_pct / 100``, compared exactly as fractions
       (3/4 = 75 % fails 80 %; 4/5 = 80 % passes 80 %). Message "Chuyên cần 60% < 80% yêu cầu (3/5 buổi)".
       The shown rate is truncated, not rounded, to 2 decimals, so a failing 2/3 = 66.666…% against a
       66.67 % requirement reads "66,66% < 66,67%", never "66,67% < 66,67%".
       **No held session** (``held_sessions == 0``) fails with its own reason "Lớp chưa có buổi học nào được
       tổ chức": 0/0 is not 100 %. Which sessions count as attended (is *excused* present?) is the caller's
       decision; this function only compares the two counts.
    3. **Post-test**: a score must exist ("Chưa có điểm kiểm tra sau") and be ``≥ pass_mark``
       ("Điểm kiểm tra sau 4,50 < 5,00").
    4. **No valid certificate** for this course already ("Đã có giấy chứng nhận còn hiệu lực"): one valid
       certificate per enrolment; a revoked or replaced one does not block.

    Impossible counts (negative, attended > held) and a requirement outside 0–100 % raise ``ValueError``.
    """
    if held_sessions < 0 or attended_sessions < 0 or attended_sessions > held_sessions:
        raise ValueError(f"impossible attendance counts: {attended_sessions}/{held_sessions}")
    required = _fraction(min_attendance_pct)
    if not 0 <= required <= 100:
        raise ValueError(f"minimum attendance must be 0–100 %, got {min_attendance_pct!r}")

    reasons: list[str] = []
    codes: list[str] = []

    def fail(code: str, reason: str) -> None:
        codes.append(code)
        reasons.append(reason)

    if enrollment_status != "confirmed":
        fail("enrollment", "Chưa được xác nhận ghi danh")
    if held_sessions == 0:
        fail("attendance", "Lớp chưa có buổi học nào được tổ chức")
    else:
        rate = Fraction(attended_sessions * 100, held_sessions)
        if rate < required:
            fail(
                "attendance",
                f"Chuyên cần {_percent_text(rate, ROUND_DOWN)}% < {_percent_text(required, ROUND_HALF_UP)}% yêu cầu "
                f"({attended_sessions}/{held_sessions} buổi)",
            )
    if post_score is None:
        fail("post_score", "Chưa có điểm kiểm tra sau")
    elif _fraction(post_score) < _fraction(pass_mark):
        fail("post_score", f"Điểm kiểm tra sau {_score_text(post_score)} < {_score_text(pass_mark)}")
    if has_valid_certificate:
        fail("certificate", "Đã có giấy chứng nhận còn hiệu lực")
    return Eligibility(eligible=not reasons, reasons=reasons, codes=codes)


# --------------------------------------------------------------------------------------------------
# Numbering
# --------------------------------------------------------------------------------------------------

DEFAULT_NUMBER_PATTERN = "{seq:02d}/{year}/GCN-{short_code}"
NUMBER_FIELDS = frozenset({"seq", "year", "short_code"})
MAX_PATTERN_LENGTH = 100
# A format spec of the standard mini-language with small widths only: "02d", ">4", "04", "d", "".
# Width and precision are capped at 2 digits so that "{seq:999999999}" cannot build a 1 GB string.
_SPEC = re.compile(r"(?:[^{}]?[<>=^])?[+\- ]?0?[0-9]{0,2}(?:\.[0-9]{1,2})?[sd]?", re.ASCII)
_SHORT_CODE = re.compile(r"[^\W_a-z][^\W_]*(?:-[^\W_]+)*")  # capitals (Đ included), digits, "-"
_SAMPLE = {"seq": 7, "year": 2026, "short_code": "SNV"}


def _pattern_errors(pattern: str) -> list[str]:
    errors: list[str] = []
    if not isinstance(pattern, str) or not pattern.strip():
        return ["Vui lòng nhập mẫu số giấy chứng nhận."]
    if len(pattern) > MAX_PATTERN_LENGTH:
        errors.append(f"Mẫu số quá dài (tối đa {MAX_PATTERN_LENGTH} ký tự).")
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError:
        return [*errors, "Mẫu số có dấu ngoặc { } không khớp (viết {{ hoặc }} để in chính dấu ngoặc)."]
    has_seq = False
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in NUMBER_FIELDS:
            shown = "{" + name + "}" if name else "{}"
            errors.append(f"Trường {shown} không được phép: chỉ dùng {{seq}}, {{year}}, {{short_code}}.")
            continue
        if conversion is not None:
            errors.append(f"Không dùng chuyển đổi !{conversion} trong trường {{{name}}}.")
        if spec and (not _SPEC.fullmatch(spec) or (name == "short_code" and spec.endswith("d"))):
            errors.append(f"Định dạng «{spec}» của trường {{{name}}} không hợp lệ (ví dụ hợp lệ: {{seq:02d}}).")
        has_seq = has_seq or name == "seq"
    if not has_seq:
        errors.append("Mẫu số phải có trường {seq} (số thứ tự).")
    if not errors:
        try:
            _render(pattern, **_SAMPLE)
        except (ValueError, TypeError):
            errors.append("Mẫu số không định dạng được với dữ liệu mẫu.")
    return errors


def _render(pattern: str, **values: object) -> str:
    """Format field by field with ``format(value, spec)``: no attribute or index lookup can ever happen."""
    out: list[str] = []
    for literal, name, spec, _conversion in string.Formatter().parse(pattern):
        out.append(literal)
        if name is not None:
            out.append(format(values[name], spec or ""))
    return "".join(out)


def validate_pattern(pattern: str) -> None:
    """Check a certificate-number pattern; raise ``RuleViolation({"pattern": [...]})`` with every problem.

    Allowed: literal text, ``{{``/``}}`` for braces, and the fields ``{seq}``, ``{year}``, ``{short_code}`` with
    an optional format spec of the standard mini-language (fill/align, sign, zero, width ≤ 99,
    precision ≤ 99, type ``d``/``s``), e.g. ``{seq:02d}``, ``{seq:>03}``. ``{seq…}`` is required.

    Rejected (the pattern is admin-edited text fed to a formatter): any other name, positional ``{}``/``{0}``,
    attribute or index access (``{seq.__class__}``, ``{seq[0]}``), conversions (``!r``), nested fields
    (``{seq:{year}}``), huge widths (``{seq:999999999}``), unbalanced braces, more than 100 characters.

    Not enforced: ND 30's leading zero for numbers below 10 — the default ``{seq:02d}`` gives it; an issuer
    who writes ``{seq}`` chooses otherwise.
    """
    errors = _pattern_errors(pattern)
    if errors:
        raise RuleViolation({"pattern": errors})


def format_number(pattern: str | None, seq: int, year: int, short_code: str) -> str:
    """The certificate number: ``format_number(None, 7, 2026, "SNV")`` → ``"07/2026/GCN-SNV"``.

    ``pattern`` ``None`` or ``""`` → ``DEFAULT_NUMBER_PATTERN``. The pattern is validated first (see
    :func:`validate_pattern`); ``seq`` ≥ 1 (``{seq:02d}`` pads to 2 digits but never truncates: 123 →
    ``"123/2026/GCN-SNV"``); ``year`` 1000–9999; ``short_code`` capitals (Vietnamese letters such as Đ included, as ND 30/2020 symbols use them), digits and ``-`` (as
    units.rules requires), non-empty. Raises ``RuleViolation`` with every problem.
    """
    pattern = pattern or DEFAULT_NUMBER_PATTERN
    errors = RuleViolation()
    for message in _pattern_errors(pattern):
        errors.add("pattern", message)
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        errors.add("seq", "Số thứ tự phải là số nguyên dương.")
    if isinstance(year, bool) or not isinstance(year, int) or not 1000 <= year <= 9999:
        errors.add("year", "Năm cấp phải là số có 4 chữ số.")
    if not isinstance(short_code, str) or not _SHORT_CODE.fullmatch(short_code) or short_code != short_code.upper():
        errors.add("short_code", "Mã viết tắt của đơn vị cấp chỉ gồm chữ in hoa, chữ số và dấu gạch ngang (ví dụ SNV, UBND-CĐ).")
    errors.raise_if_any()
    return _render(pattern, seq=seq, year=year, short_code=short_code)


def display_number(number: str) -> str:
    """The printed number line (ND 30: "Số" then a colon): ``"07/2026/GCN-SNV"`` → ``"Số: 07/2026/GCN-SNV"``."""
    return f"Số: {number}"


# --------------------------------------------------------------------------------------------------
# Verification code
# --------------------------------------------------------------------------------------------------

VERIFY_CODE_ALPHABET = string.ascii_letters + string.digits + "-_"
VERIFY_CODE_MIN_LENGTH = 12
VERIFY_CODE_MAX_LENGTH = 128
_VERIFY_CODE = re.compile(rf"[A-Za-z0-9_-]{{{VERIFY_CODE_MIN_LENGTH},{VERIFY_CODE_MAX_LENGTH}}}", re.ASCII)


def is_valid_verify_code_format(code: object) -> bool:
    """A verify code is 12–128 characters of the URL-safe alphabet ``[A-Za-z0-9_-]`` (``VERIFY_CODE_ALPHABET``).

    ``secrets.token_urlsafe(16)`` (22 characters) qualifies. Checked before any database lookup on the public
    verify page; the upper bound only stops absurd input. Not a str, spaces, ``=``, ``+``, ``/``, ``.``,
    non-ASCII letters, or a trailing newline → ``False``.
    """
    return isinstance(code, str) and _VERIFY_CODE.fullmatch(code) is not None


# --------------------------------------------------------------------------------------------------
# Lifecycle
# --------------------------------------------------------------------------------------------------

STATUSES: dict[str, str] = {
    "valid": "Còn hiệu lực",
    "revoked": "Đã thu hồi",
    "replaced": "Đã được thay thế",
}
KINDS: dict[str, str] = {
    "original": "Cấp lần đầu",
    "reissue": "Cấp lại do sai sót",
    "duplicate": "Bản sao do mất/hỏng",
}
# Causes of revocation after TT 03/2023/TT-BNV Art. 8 (paraphrased; DOMAIN.md §3.2), plus "other".
REVOCATION_REASONS: dict[str, str] = {
    "fraud": "Có hành vi gian lận trong học tập, kiểm tra",
    "ineligible": "Người được cấp không đủ điều kiện",
    "tampered": "Bị tẩy xóa, sửa chữa",
    "lent": "Cho người khác mượn",
    "issuer_error": "Sai sót của cơ quan cấp",
    "other": "Lý do khác",
}


def _status_errors(status: str, action: str, errors: RuleViolation) -> None:
    if status not in STATUSES:
        errors.add("status", f"Trạng thái giấy chứng nhận không hợp lệ: «{status}».")
    elif status != "valid":
        errors.add("status", f"Chỉ {action} giấy chứng nhận còn hiệu lực (hiện: {STATUSES[status]}).")


def check_revoke(status: str, reason: str, note: str = "") -> None:
    """May a certificate be revoked (thu hồi)? Raise ``RuleViolation`` with every problem.

    * Only a ``valid`` certificate ("Chỉ thu hồi được…"); revoked and replaced ones are final.
    * ``reason`` must be a key of ``REVOCATION_REASONS`` (TT 03/2023 Art. 8 causes, or ``"other"``).
    * ``"other"`` needs a non-blank ``note`` saying what it is.
    The number stays in the register with its reason; it is never reused.
    """
    errors = RuleViolation()
    _status_errors(status, "thu hồi được", errors)
    if reason not in REVOCATION_REASONS:
        errors.add("reason", "Vui lòng chọn lý do thu hồi trong danh sách.")
    elif reason == "other" and not (note or "").strip():
        errors.add("note", "Vui lòng ghi rõ lý do thu hồi khác.")
    errors.raise_if_any()


def check_reissue(status: str, reason: str) -> None:
    """May a certificate be reissued (cấp lại do sai sót của cơ quan cấp)? Raise ``RuleViolation`` if not.

    * Only a ``valid`` certificate; the old one then becomes ``replaced`` and the new one (kind
      ``"reissue"``) points to it. A revoked certificate is not reissued.
    * ``reason`` is free text describing the error to correct (e.g. "Sai ngày sinh"); it must not be blank.
    """
    errors = RuleViolation()
    _status_errors(status, "cấp lại được", errors)
    if not (reason or "").strip():
        errors.add("reason", "Vui lòng ghi rõ sai sót cần sửa khi cấp lại.")
    errors.raise_if_any()


def check_duplicate(status: str) -> None:
    """May a duplicate be issued (bản sao do mất/hỏng; TT 03/2023: equally valid)? Raise if not.

    Only for a ``valid`` certificate: a revoked one cannot come back through a duplicate, and a replaced one
    already has a successor (issue the duplicate of that one). The old one then becomes ``replaced``.
    """
    errors = RuleViolation()
    _status_errors(status, "cấp bản sao cho", errors)
    errors.raise_if_any()


# --------------------------------------------------------------------------------------------------
# Wording on the certificate
# --------------------------------------------------------------------------------------------------

_SALUTATIONS = {"nam": "Ông", "nu": "Bà", "nữ": "Bà"}


def salutation(sex: str) -> str:
    """The salutation before the name: "Ông" for ``"nam"``, "Bà" for ``"nu"`` (also ``"nữ"``, any case, NFC or NFD).

    Anything else raises ``ValueError``: the certificate must not guess (DOMAIN.md R10).
    """
    key = unicodedata.normalize("NFC", (sex or "").strip()).casefold()
    try:
        return _SALUTATIONS[key]
    except KeyError:
        raise ValueError(f"unknown sex {sex!r}: expected 'nam' or 'nu'") from None


SIGNER_PREFIXES: dict[str, str] = {
    "": "Ký trực tiếp",
    "KT.": "Ký thay (cấp phó ký thay cấp trưởng)",
    "TM.": "Thay mặt (tập thể)",
    "Q.": "Quyền (cấp trưởng)",
    "TL.": "Thừa lệnh",
    "TUQ.": "Thừa ủy quyền",
}


def _upper(text: str | None) -> str:
    return unicodedata.normalize("NFC", " ".join((text or "").split()).upper())


def signer_block(prefix: str, on_behalf_title: str, title: str, name: str) -> list[str]:
    """The lines of the signature block (ND 30/2020; DOMAIN.md §3.1), top to bottom, seal and signature
    going between the title lines and the name.

    * ``("KT.", "GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn A")`` → ``["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn A"]``.
    * No prefix → ``[title, name]``; ``on_behalf_title`` must then be empty.
    * ``"Q."`` (acting head) may omit ``title``: ``["Q. GIÁM ĐỐC", name]``; every other prefix needs it.
    * Prefixes: ``SIGNER_PREFIXES`` ("", KT., TM., Q., TL., TUQ.).
    * Title lines are printed in capitals (ND 30), upper-cased here ("giám đốc" → "GIÁM ĐỐC") with spaces
      collapsed; the name is printed as entered, trimmed.
    Raises ``RuleViolation`` with every problem, keyed by argument name.
    """
    errors = RuleViolation()
    prefix = (prefix or "").strip()
    head, own, person = _upper(on_behalf_title), _upper(title), " ".join((name or "").split())
    if prefix not in SIGNER_PREFIXES:
        errors.add("prefix", "Thẩm quyền ký chỉ là: (không), KT., TM., Q., TL., TUQ.")
    elif prefix:
        if not head:
            errors.add("on_behalf_title", f"Với «{prefix}», vui lòng nhập chức danh/tập thể được ký thay (ví dụ GIÁM ĐỐC).")
        if not own and prefix != "Q.":
            errors.add("title", "Vui lòng nhập chức danh của người ký.")
    else:
        if head:
            errors.add("on_behalf_title", "Khi ký trực tiếp, không ghi chức danh ký thay.")
        if not own:
            errors.add("title", "Vui lòng nhập chức danh của người ký.")
    if not person:
        errors.add("name", "Vui lòng nhập họ tên người ký.")
    errors.raise_if_any()
    lines = [f"{prefix} {head}"] if prefix else []
    if own:
        lines.append(own)
    lines.append(person)
    return lines


# --------------------------------------------------------------------------------------------------
# Issuing: is the course ready, may an ineligible trainee be overridden, may the row be issued
# --------------------------------------------------------------------------------------------------

# Course statuses (courses.rules) in which certificates may be issued once the last day has come: a course
# that is still a draft, open for registration or cancelled issues nothing.
ISSUABLE_COURSE_STATUSES = frozenset({"closed", "running", "finished"})
# Failed conditions a signer may override with a written reason. An unconfirmed enrolment is fixed by
# confirming it, and a trainee holding a valid certificate gets a reissue or a duplicate, never a second one.
OVERRIDABLE_CODES = frozenset({"attendance", "post_score"})
MAX_OVERRIDE_REASON = 2000


def check_course_issuable(course_status: str, end_date, today) -> None:
    """May certificates of this course be issued ``today``? Raise ``RuleViolation({"": [...]})`` if not.

    * The course must be closed for registration, running or finished (not draft, open or cancelled).
    * ``today`` must be on or after the course's last day (TT 03/2023: issued on the closing day); the date
      printed on the certificate is the issue date.
    """
    errors = RuleViolation()
    if course_status not in ISSUABLE_COURSE_STATUSES:
        errors.add("", "Chỉ cấp giấy chứng nhận cho lớp đã đóng đăng ký, đang diễn ra hoặc đã kết thúc.")
    if today < end_date:
        errors.add("", f"Lớp kết thúc ngày {end_date.strftime('%d/%m/%Y')}: chỉ cấp giấy chứng nhận từ ngày kết thúc trở đi.")
    errors.raise_if_any()


def can_override(eligibility: Eligibility) -> bool:
    """True when the trainee is ineligible **only** for overridable reasons (attendance, post-test)."""
    return not eligibility.eligible and set(eligibility.codes) <= OVERRIDABLE_CODES


def check_override(eligibility: Eligibility, reason: str) -> None:
    """May a signer override this eligibility result? Raise ``RuleViolation`` with every problem.

    * Only when the trainee is ineligible, and only for attendance or post-test shortfalls
      (``OVERRIDABLE_CODES``): "Chưa được xác nhận ghi danh" and "Đã có giấy chứng nhận còn hiệu lực" cannot be
      overridden.
    * A written reason is required (non-blank, at most ``MAX_OVERRIDE_REASON`` characters).
    """
    errors = RuleViolation()
    if eligibility.eligible:
        errors.add("", "Học viên đã đủ điều kiện; không cần xét đặc cách.")
    elif not can_override(eligibility):
        blocked = [r for r, c in zip(eligibility.reasons, eligibility.codes, strict=True) if c not in OVERRIDABLE_CODES]
        errors.add("", "Không thể xét đặc cách khi: " + "; ".join(blocked) + ".")
    text = (reason or "").strip()
    if not text:
        errors.add("reason", "Vui lòng ghi rõ lý do xét đặc cách.")
    elif len(text) > MAX_OVERRIDE_REASON:
        errors.add("reason", f"Lý do quá dài (tối đa {MAX_OVERRIDE_REASON} ký tự).")
    errors.raise_if_any()


def may_issue(eligibility: Eligibility, overridden: bool) -> bool:
    """Issue when eligible, or when an override exists and every failed reason is overridable."""
    return eligibility.eligible or (overridden and can_override(eligibility))


def format_hours(hours: Number | None) -> str:
    """Course hours as printed: 16 → "16", Decimal("16.0") → "16", 7.5 → "7,5"; ``None`` → ""."""
    if hours is None or hours == "":
        return ""
    return _percent_text(_fraction(hours), ROUND_HALF_UP)


VOID_MARKERS = {"revoked": "ĐÃ THU HỒI", "replaced": "ĐÃ ĐƯỢC THAY THẾ"}
COPY_MARKER = "BẢN SAO"


def void_marker(status: str) -> str:
    """The word printed across a certificate that is no longer valid ("" for a valid one)."""
    return VOID_MARKERS.get(status, "")
