"""Form plumbing shared by every feature: Vietnamese messages, NFC input, dd/mm/yyyy dates."""

from __future__ import annotations

import unicodedata
from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, Field, StringField, TextAreaField
from wtforms.widgets import TextInput

# WTForms ships no Vietnamese catalogue: its built-in messages, translated.
_MESSAGES = {
    "This field is required.": "Trường này là bắt buộc.",
    "Not a valid choice.": "Lựa chọn không hợp lệ.",
    "Not a valid integer value.": "Vui lòng nhập một số nguyên.",
    "Not a valid decimal value.": "Vui lòng nhập một số.",
    "Not a valid float value.": "Vui lòng nhập một số.",
    "Invalid email address.": "Địa chỉ email không hợp lệ.",
    "Invalid input.": "Giá trị không hợp lệ.",
    "Field must be equal to %(other_name)s.": "Giá trị phải trùng với trường %(other_name)s.",
    "Field must be at least %(min)d character long.": "Phải có ít nhất %(min)d ký tự.",
    "Field must be at least %(min)d characters long.": "Phải có ít nhất %(min)d ký tự.",
    "Field cannot be longer than %(max)d character.": "Không được dài quá %(max)d ký tự.",
    "Field cannot be longer than %(max)d characters.": "Không được dài quá %(max)d ký tự.",
    "Field must be between %(min)d and %(max)d characters long.": "Phải dài từ %(min)d đến %(max)d ký tự.",
    "Number must be at least %(min)s.": "Giá trị phải từ %(min)s trở lên.",
    "Number must be at most %(max)s.": "Giá trị không được lớn hơn %(max)s.",
    "Number must be between %(min)s and %(max)s.": "Giá trị phải nằm trong khoảng %(min)s đến %(max)s.",
    "Not a valid date value.": "Ngày không hợp lệ (dd/mm/yyyy).",
    "Not a valid datetime value.": "Thời gian không hợp lệ (dd/mm/yyyy hh:mm).",
    "Not a valid time value.": "Giờ không hợp lệ (hh:mm).",
    "Invalid Choice: could not coerce.": "Lựa chọn không hợp lệ.",
    "Choices cannot be None.": "Không có lựa chọn nào.",
    "'%(value)s' is not a valid choice for this field.": "'%(value)s' không phải lựa chọn hợp lệ.",
    "'%(value)s' is not a valid choice for this field.|'%(value)s' are not valid choices for this field.": "Lựa chọn không hợp lệ.",
    "The CSRF token is missing.": "Thiếu mã bảo mật của biểu mẫu; vui lòng tải lại trang.",
    "The CSRF token is invalid.": "Mã bảo mật của biểu mẫu không hợp lệ; vui lòng tải lại trang.",
    "The CSRF token has expired.": "Biểu mẫu đã hết hạn; vui lòng tải lại trang.",
    "The CSRF tokens do not match.": "Mã bảo mật của biểu mẫu không khớp; vui lòng tải lại trang.",
    "The CSRF session token is missing.": "Phiên làm việc đã hết hạn; vui lòng tải lại trang.",
}


class VietnameseTranslations:
    def gettext(self, string: str) -> str:
        return _MESSAGES.get(string, string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _MESSAGES.get(singular if n == 1 else plural, singular if n == 1 else plural)


_TRANSLATIONS = VietnameseTranslations()


def normalise_text(value):
    """Filter for every text field: NFC, no NUL/control or bidi characters, trimmed."""
    if not isinstance(value, str):
        return value
    from bdg_training.text import clean_text

    return clean_text(value)


def normalise_multiline(value):
    if not isinstance(value, str):
        return value
    from bdg_training.text import clean_text

    return clean_text(value, multiline=True)


class BaseForm(FlaskForm):
    """Every form of the app: Vietnamese messages, and text cleaned and NFC-normalised on input."""

    class Meta:
        def get_translations(self, form):
            return _TRANSLATIONS

        def bind_field(self, form, unbound_field, options):
            field_class = unbound_field.field_class
            if issubclass(field_class, TextAreaField):
                options["filters"] = (normalise_multiline, *options.get("filters", ()), *unbound_field.kwargs.get("filters", ()))
            elif issubclass(field_class, StringField):
                options["filters"] = (normalise_text, *options.get("filters", ()), *unbound_field.kwargs.get("filters", ()))
            return unbound_field.bind(form=form, **options)


class ViDateField(Field):
    """A date typed as dd/mm/yyyy (also d/m/yyyy, with - or .), shown as dd/mm/yyyy."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {}).setdefault("placeholder", "dd/mm/yyyy")
        kwargs["render_kw"].setdefault("inputmode", "numeric")
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime("%d/%m/%Y") if isinstance(self.data, date) else ""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = unicodedata.normalize("NFC", valuelist[0] or "").strip()
        if not text:
            self.data = None
            return
        from bdg_training.vn import parse_date

        try:
            self.data = parse_date(text)
        except ValueError as exc:
            self.data = None
            raise ValueError(str(exc)) from None


MAX_ID = 2**31 - 1  # the largest value of a database integer column (PostgreSQL ``integer``)


def parse_id(value) -> int | None:
    """An id (or any whole number) typed in a form or a URL, or ``None``: ASCII digits only — "²".isdigit()
    is true but int("²") fails — and at most ``MAX_ID``, so that 10**40 is "not found", not a database error.
    Also a ``type=`` for ``request.form.get``/``request.args.get``."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def coerce_id(value) -> int | None:
    """``coerce=`` of a select of ids: the id, or ``None`` for an empty, malformed or out-of-range value."""
    if value is None or isinstance(value, int):
        return value
    return parse_id(str(value))


def parse_ids(values) -> list[int]:
    """The valid ids of a ``getlist`` (see :func:`parse_id`), in order; the others are dropped."""
    return [number for number in map(parse_id, values) if number is not None]


def apply_rule_errors(form: FlaskForm, violation) -> None:
    """Attach a RuleViolation's messages to the form's fields ("" → form-level errors)."""
    for field_name, messages in violation.errors.items():
        field = getattr(form, field_name, None) if field_name else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, *messages] if isinstance(field.errors, list) else list(messages)
        else:
            form.form_errors.extend(messages)


__all__ = ["BaseForm", "DateField", "ViDateField", "apply_rule_errors", "normalise_text", "coerce_id", "parse_id", "parse_ids"]
