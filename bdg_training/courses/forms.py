"""Forms of the courses feature. Required/range checks come from the rules (one set of Vietnamese
messages); the fields here only parse what was typed (dd/mm/yyyy, hh:mm, "5,5")."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation

from wtforms import (
    BooleanField,
    Field,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.form import Form
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget, TextInput, TimeInput

from bdg_training.clock import local_tz
from bdg_training.enrollment.rules import TARGET_GROUP_CHOICES
from bdg_training.forms import BaseForm, ViDateField, coerce_id, normalise_multiline, normalise_text
from bdg_training.vn import parse_date


def optional_int(value):
    """An id from a select or hidden field, or ``None`` (empty, malformed, or beyond a database integer)."""
    return coerce_id(value)


_DATETIME_RE = re.compile(r"(\S+)\s+([0-9]{1,2})\s*[:hg]\s*([0-9]{2})")
_TIME_RE = re.compile(r"([0-9]{1,2})\s*[:hg]\s*([0-9]{2})?")


def parse_time(text: str) -> time:
    """"07:30", "7:30", "7h30", "7h", "14g00" → a time; ValueError otherwise."""
    match = _TIME_RE.fullmatch(text.strip().lower())
    if not match:
        raise ValueError(f"Giờ không hợp lệ: “{text}”, hãy nhập theo dạng hh:mm")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise ValueError(f"Giờ không hợp lệ: “{text}”, hãy nhập theo dạng hh:mm")
    return time(hour, minute)


class ViDateTimeField(Field):
    """A moment typed as "dd/mm/yyyy hh:mm" in local time (config TIMEZONE); ``data`` is aware UTC."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {}).setdefault("placeholder", "dd/mm/yyyy hh:mm")
        super().__init__(label, validators, **kwargs)

    _tz = staticmethod(local_tz)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        if isinstance(self.data, datetime):
            value = self.data if self.data.tzinfo else self.data.replace(tzinfo=UTC)
            return value.astimezone(self._tz()).strftime("%d/%m/%Y %H:%M")
        return ""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = unicodedata.normalize("NFC", valuelist[0] or "").strip()
        if not text:
            self.data = None
            return
        self.data = None
        match = _DATETIME_RE.fullmatch(text)
        if not match:
            raise ValueError(f"Thời gian không hợp lệ: “{text}”, hãy nhập theo dạng dd/mm/yyyy hh:mm")
        try:
            day = parse_date(match.group(1))
            moment = parse_time(f"{match.group(2)}:{match.group(3)}")
        except ValueError:
            raise ValueError(f"Thời gian không hợp lệ: “{text}”, hãy nhập theo dạng dd/mm/yyyy hh:mm") from None
        self.data = datetime.combine(day, moment, tzinfo=self._tz()).astimezone(UTC)


class ViTimeField(Field):
    """A wall-clock time "hh:mm" (also "7h30"); the browser shows a time picker."""

    widget = TimeInput()

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime("%H:%M") if isinstance(self.data, time) else ""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = (valuelist[0] or "").strip()
        self.data = None
        if text:
            self.data = parse_time(text)


class ViDecimalField(Field):
    """A number that may use the Vietnamese decimal comma ("5,5") or a dot ("5.5")."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {}).setdefault("inputmode", "decimal")
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        if self.data is None:
            return ""
        text = format(Decimal(self.data).normalize(), "f")
        return text.replace(".", ",")

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = (valuelist[0] or "").strip().replace(" ", "")
        self.data = None
        if not text:
            return
        try:
            value = Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise ValueError("Vui lòng nhập một số (ví dụ 5 hoặc 5,5).") from None
        if not value.is_finite():
            raise ValueError("Vui lòng nhập một số (ví dụ 5 hoặc 5,5).")
        self.data = value


class Needed:
    """Marks a field as required (asterisk on the label) without validating it: the rules check
    it and give the Vietnamese message, together with every other rule, in one pass."""

    field_flags = {"required": True}

    def __call__(self, form, field) -> None:
        return None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# --------------------------------------------------------------------------------------------
# Topics
# --------------------------------------------------------------------------------------------
class TopicForm(BaseForm):
    name = StringField("Tên chủ đề", validators=[Needed(), Length(max=200)])
    description = TextAreaField("Mô tả", validators=[Optional(), Length(max=2000)])
    sort_order = IntegerField("Thứ tự hiển thị", default=0, validators=[Optional()])
    active = BooleanField("Đang dùng (hiện trong danh sách chọn khi tạo lớp)", default=True)


# --------------------------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------------------------
class TargetRowForm(Form):
    """One target row; not a BaseForm (no CSRF of its own), so text is cleaned explicitly."""

    class Meta:
        def get_translations(self, form):
            from bdg_training.forms import _TRANSLATIONS

            return _TRANSLATIONS

    id = HiddenField(filters=[optional_int])
    indicator = StringField("Chỉ tiêu", filters=[normalise_text], validators=[Optional(), Length(max=300)])
    source_document = StringField("Văn bản căn cứ", filters=[normalise_text], validators=[Optional(), Length(max=300)])
    target_value = ViDecimalField("Giá trị mục tiêu")
    measure = StringField("Đơn vị tính", filters=[normalise_text], validators=[Optional(), Length(max=50)])
    actual_value = ViDecimalField("Thực hiện")
    note = StringField("Ghi chú", filters=[normalise_multiline], validators=[Optional(), Length(max=2000)])
    delete = BooleanField("Xóa")


class PlanForm(BaseForm):
    unit_id = SelectField("Đơn vị", coerce=optional_int, validators=[Needed()])
    year = IntegerField("Năm", validators=[Needed(), Optional()])
    planned_courses = IntegerField("Số lớp dự kiến", validators=[Needed(), Optional()])
    planned_trainees = IntegerField("Số học viên dự kiến (người, mỗi người tính một lần)", validators=[Needed(), Optional()])
    planned_female_pct = ViDecimalField("Tỷ lệ nữ dự kiến (%)")
    source_document = StringField("Văn bản kế hoạch (ví dụ: Kế hoạch số 12/KH-UBND)", validators=[Optional(), Length(max=300)])
    note = TextAreaField("Ghi chú", validators=[Optional(), Length(max=5000)])
    targets = FieldList(FormField(TargetRowForm), min_entries=0)

    def target_values(self) -> list[dict]:
        return [
            {
                "id": row.form.id.data,
                "indicator": row.form.indicator.data or "",
                "source_document": row.form.source_document.data or "",
                "target_value": row.form.target_value.data,
                "measure": row.form.measure.data or "",
                "actual_value": row.form.actual_value.data,
                "note": row.form.note.data or "",
                "delete": bool(row.form.delete.data),
            }
            for row in self.targets
        ]


# --------------------------------------------------------------------------------------------
# Courses
# --------------------------------------------------------------------------------------------
class CourseForm(BaseForm):
    code = StringField("Mã lớp", validators=[Optional(), Length(max=30)])
    title = StringField("Tên lớp", validators=[Needed()])
    topic_id = SelectField("Chủ đề", coerce=optional_int, validators=[Needed()])
    unit_id = SelectField("Đơn vị tổ chức", coerce=optional_int, validators=[Needed()])
    plan_id = SelectField("Thuộc kế hoạch năm", coerce=optional_int)
    funding_source = StringField("Chương trình / nguồn kinh phí", validators=[Optional(), Length(max=200)])
    venue = StringField("Địa điểm", validators=[Optional(), Length(max=300)])
    capacity = IntegerField("Số học viên tối đa", validators=[Needed(), Optional()])
    start_date = ViDateField("Ngày bắt đầu", validators=[Needed()])
    end_date = ViDateField("Ngày kết thúc", validators=[Needed()])
    hours = ViDecimalField("Số giờ học")
    reg_opens_at = ViDateTimeField("Mở đăng ký từ")
    reg_closes_at = ViDateTimeField("Hạn đăng ký")
    target_groups = MultiCheckboxField("Đối tượng", choices=TARGET_GROUP_CHOICES)
    description = TextAreaField("Mô tả, nội dung chính", validators=[Optional(), Length(max=10000)])
    pass_mark = ViDecimalField("Điểm đạt (thang 10)", default=Decimal("5.0"), validators=[Needed()])
    min_attendance_pct = ViDecimalField("Tỷ lệ tham dự tối thiểu (%)", default=Decimal("80"), validators=[Needed()])
    needs_approval = BooleanField("Đăng ký cần được duyệt")
    issuing_unit_id = SelectField("Đơn vị cấp giấy chứng nhận", coerce=optional_int)
    signer_id = SelectField("Người ký giấy chứng nhận", coerce=optional_int)

    FIELDS = (
        "code", "title", "topic_id", "unit_id", "plan_id", "funding_source", "venue", "capacity",
        "start_date", "end_date", "hours", "reg_opens_at", "reg_closes_at", "target_groups",
        "description", "pass_mark", "min_attendance_pct", "needs_approval", "issuing_unit_id", "signer_id",
    )  # fmt: skip

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in self.FIELDS}


class SessionForm(BaseForm):
    date = ViDateField("Ngày học", validators=[Needed()])
    start_time = ViTimeField("Bắt đầu", validators=[Needed()])
    end_time = ViTimeField("Kết thúc", validators=[Needed()])
    subject = StringField("Nội dung buổi học", validators=[Optional(), Length(max=300)])
    trainer = StringField("Giảng viên / báo cáo viên", validators=[Optional(), Length(max=200)])
    venue = StringField("Địa điểm", validators=[Optional(), Length(max=300)])

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in ("date", "start_time", "end_time", "subject", "trainer", "venue")}


class CancelForm(BaseForm):
    reason = TextAreaField("Lý do hủy lớp", validators=[Needed(), Length(max=2000)])


class CloneForm(BaseForm):
    unit_id = SelectField("Đơn vị tổ chức lớp mới", coerce=optional_int, validators=[Needed()])
    start_date = ViDateField("Ngày bắt đầu lớp mới", validators=[Needed()])
    keep_weekday = BooleanField("Giữ nguyên thứ trong tuần (dời đến ngày gần nhất có cùng thứ)")
    code = StringField("Mã lớp mới (để trống để tự đặt)", validators=[Optional(), Length(max=30)])
    title = StringField("Tên lớp mới", validators=[Optional(), Length(max=255)])
