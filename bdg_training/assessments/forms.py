"""Forms of the assessments blueprint. Answers, grid cells and ratings are read from ``request.form`` by
the views (their names depend on the data); these forms carry the fixed fields and the CSRF token."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, Field, IntegerField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from bdg_training.assessments import rules
from bdg_training.clock import local_tz
from bdg_training.database import as_utc
from bdg_training.forms import BaseForm

_DATETIME = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:\s+|\s*[,T]\s*)(\d{1,2})[:hg](\d{2})")


_tz = local_tz


class ViDateTimeField(Field):
    """A local date and time typed as "dd/mm/yyyy hh:mm" (also "7h30"), stored as an aware UTC datetime."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {}).setdefault("placeholder", "dd/mm/yyyy hh:mm")
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        if isinstance(self.data, datetime):
            return as_utc(self.data).astimezone(_tz()).strftime("%d/%m/%Y %H:%M")
        return ""

    def process_data(self, value):
        """The stored value (``obj=``) as an aware UTC datetime: SQLite gives back naive ones, which a posted
        (aware) time of the same form could not be compared with when the other field is not posted."""
        self.data = as_utc(value) if isinstance(value, datetime) else value

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = unicodedata.normalize("NFC", valuelist[0] or "").strip()
        if not text:
            self.data = None
            return
        match = _DATETIME.fullmatch(text)
        self.data = None
        if not match:
            raise ValueError("Thời gian không hợp lệ: nhập dd/mm/yyyy hh:mm, ví dụ 07/12/2026 07:30.")
        day, month, year, hour, minute = (int(g) for g in match.groups())
        try:
            local = datetime(year, month, day, hour, minute, tzinfo=_tz())
        except ValueError:
            raise ValueError(f"Ngày giờ không hợp lệ: không có thời điểm {day:02d}/{month:02d}/{year} {hour:02d}:{minute:02d}.") from None
        self.data = local.astimezone(ZoneInfo("UTC"))


def parse_points(text: str | None) -> Decimal | None:
    raw = (text or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise ValueError("Điểm của câu hỏi phải là một số, ví dụ 1 hoặc 0,5.")
    return value


class QuestionForm(BaseForm):
    topic_id = SelectField("Chủ đề", coerce=int, validators=[DataRequired()])
    kind = SelectField("Loại câu hỏi", choices=list(rules.QUESTION_KINDS.items()), validators=[DataRequired()])
    text = TextAreaField("Nội dung câu hỏi", validators=[DataRequired(), Length(max=2000)], render_kw={"rows": 3})
    tf_answer = RadioField(
        "Đáp án (câu Đúng/Sai)", choices=[("true", rules.TRUE_LABEL), ("false", rules.FALSE_LABEL)], validators=[Optional()]
    )
    points = StringField("Điểm của câu", default="1", validators=[DataRequired()], render_kw={"inputmode": "decimal"})
    explanation = TextAreaField(
        "Giải thích đáp án (hiện cho học viên sau khi bài kiểm tra đóng)", validators=[Optional(), Length(max=2000)], render_kw={"rows": 2}
    )

    def option_fields(self) -> list[tuple[Field, Field]]:
        return [(getattr(self, f"option_{i}"), getattr(self, f"correct_{i}")) for i in range(rules.MAX_OPTIONS)]

    def options_input(self) -> list[rules.OptionInput]:
        if self.kind.data == "true_false":
            return rules.true_false_options(self.tf_answer.data == "true")
        return [rules.OptionInput(text.data, bool(correct.data)) for text, correct in self.option_fields() if (text.data or "").strip()]

    def points_value(self) -> Decimal | None:
        return parse_points(self.points.data)

    def fill_from(self, question) -> None:
        self.topic_id.data = question.topic_id
        self.kind.data = question.kind
        self.text.data = question.text
        self.points.data = rules.format_decimal(question.points).replace(",00", "")
        self.explanation.data = question.explanation
        if question.kind == "true_false":
            self.tf_answer.data = "true" if question.options and question.options[0].is_correct else "false"
        else:
            for (text, correct), option in zip(self.option_fields(), question.options, strict=False):
                text.data, correct.data = option.text, option.is_correct


for _i in range(rules.MAX_OPTIONS):
    setattr(QuestionForm, f"option_{_i}", StringField(f"Phương án {rules.option_letter(_i)}", validators=[Optional(), Length(max=1000)]))
    setattr(QuestionForm, f"correct_{_i}", BooleanField(f"{rules.option_letter(_i)} là đáp án đúng"))


class ImportForm(BaseForm):
    file = FileField(
        "Tệp Excel (.xlsx)",
        validators=[FileRequired("Chọn tệp .xlsx để nhập."), FileAllowed(["xlsx"], "Chỉ nhận tệp Excel .xlsx.")],
    )


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TestFormForm(BaseForm):
    __test__ = False

    title = StringField("Tiêu đề (không bắt buộc)", validators=[Optional(), Length(max=255)])
    instructions = TextAreaField("Hướng dẫn cho học viên", validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    time_limit_minutes = IntegerField(
        "Thời gian làm bài (phút, để trống nếu không giới hạn)",
        validators=[Optional(), NumberRange(min=1, max=rules.MAX_TIME_LIMIT_MINUTES)],
        render_kw={"inputmode": "numeric"},
    )
    opens_at = ViDateTimeField("Mở lúc", validators=[Optional()])
    closes_at = ViDateTimeField("Đóng lúc (sau thời điểm này học viên xem được đáp án)", validators=[Optional()])
    same_as_pre = BooleanField("Dùng lại đúng đề kiểm tra đầu vào")
    shuffle_questions = BooleanField("Đảo thứ tự câu hỏi cho từng học viên", default=True)
    shuffle_options = BooleanField("Đảo thứ tự phương án cho từng học viên", default=True)
    question_ids = SelectMultipleField("Câu hỏi của đề", coerce=int, validate_choice=False)


class EvaluationSetupForm(BaseForm):
    items = MultiCheckboxField(
        "Tiêu chí đánh giá (thang 1–5)",
        choices=list(rules.EVALUATION_ITEMS.items()),
        validators=[DataRequired("Chọn ít nhất một tiêu chí.")],
    )
    allow_comment = BooleanField("Cho phép ghi ý kiến khác", default=True)
    is_open = BooleanField("Mở phiếu cho học viên trả lời")


class EvaluationAnswerForm(BaseForm):
    comment = TextAreaField(
        "Ý kiến khác, đề xuất (không bắt buộc)", validators=[Optional(), Length(max=rules.MAX_COMMENT_LENGTH)], render_kw={"rows": 4}
    )


class ActionForm(BaseForm):
    """A form with only the CSRF token (answers, grids: fields named by the data)."""
