"""Certificate forms."""

from __future__ import annotations

import unicodedata

from wtforms import Field, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import TextArea

from bdg_training.certificates import rules
from bdg_training.forms import BaseForm


class OverrideForm(BaseForm):
    reason = TextAreaField(
        "Lý do xét đặc cách",
        validators=[DataRequired(), Length(max=rules.MAX_OVERRIDE_REASON)],
        render_kw={"rows": 3, "placeholder": "Ví dụ: nghỉ 1 buổi do công tác đột xuất, đã được giao bài bổ sung và hoàn thành."},
    )


class RevokeForm(BaseForm):
    reason = SelectField("Lý do thu hồi", choices=[("", "— Chọn lý do —"), *rules.REVOCATION_REASONS.items()], validators=[DataRequired()])
    note = TextAreaField("Ghi chú", validators=[Optional(), Length(max=2000)], render_kw={"rows": 3})


class ReissueForm(BaseForm):
    reason = TextAreaField(
        "Sai sót cần sửa",
        validators=[DataRequired(), Length(max=2000)],
        render_kw={"rows": 3, "placeholder": "Ví dụ: sai ngày sinh (đã sửa trong hồ sơ học viên)."},
    )


class DuplicateForm(BaseForm):
    note = TextAreaField(
        "Lý do cấp bản sao",
        validators=[DataRequired(), Length(max=2000)],
        render_kw={"rows": 3, "placeholder": "Ví dụ: học viên báo mất bản chính ngày 10/01/2027."},
    )


class IssuerSettingsForm(BaseForm):
    governing_body = StringField(
        "Cơ quan chủ quản (dòng trên)", validators=[DataRequired(), Length(max=200)], render_kw={"placeholder": "UBND THÀNH PHỐ CẦN THƠ"}
    )
    issuing_body = StringField(
        "Cơ quan cấp (dòng dưới, gạch chân)", validators=[DataRequired(), Length(max=200)], render_kw={"placeholder": "SỞ NỘI VỤ"}
    )
    place_name = StringField(
        "Địa danh ghi ở dòng ngày tháng", validators=[DataRequired(), Length(max=100)], render_kw={"placeholder": "Cần Thơ"}
    )
    number_pattern = StringField(
        "Mẫu số giấy chứng nhận", validators=[Optional(), Length(max=rules.MAX_PATTERN_LENGTH)], default=rules.DEFAULT_NUMBER_PATTERN
    )
    result_line = StringField("Dòng kết quả", validators=[Optional(), Length(max=300)], default="Đã hoàn thành khóa tập huấn")


class CodeField(Field):
    """A textarea for template code: NFC and ``\n`` line ends, NUL removed, but indentation and spaces kept
    (BaseForm's text cleaning would collapse them)."""

    widget = TextArea()

    def _value(self) -> str:
        return self.data or ""

    def process_formdata(self, valuelist):
        if valuelist:
            text = unicodedata.normalize("NFC", valuelist[0] or "")
            self.data = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


class TemplateForm(BaseForm):
    html = CodeField(
        "HTML của một trang (biến c)", validators=[DataRequired(), Length(max=100_000)], render_kw={"rows": 22, "spellcheck": "false"}
    )
    css = CodeField("CSS", validators=[Optional(), Length(max=100_000)], render_kw={"rows": 16, "spellcheck": "false"})
    note = StringField("Ghi chú phiên bản", validators=[Optional(), Length(max=300)])
