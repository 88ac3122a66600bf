from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from bdg_training.forms import BaseForm, ViDateField, coerce_id
from bdg_training.units.rules import KIND_CHOICES


def optional_int(value):
    """An id from a select, or ``None`` (empty, malformed, or beyond a database integer)."""
    return coerce_id(value)


class UnitForm(BaseForm):
    kind = SelectField("Loại đơn vị", choices=KIND_CHOICES, validators=[DataRequired()])
    name = StringField("Tên (không kèm loại, ví dụ “Cờ Đỏ”)", validators=[DataRequired(), Length(max=200)])
    short_code = StringField("Mã viết tắt (dùng trong số giấy chứng nhận)", validators=[Optional(), Length(max=20)])
    official_code = StringField("Mã đơn vị hành chính", validators=[Optional(), Length(max=20)])
    parent_id = SelectField("Đơn vị cấp trên", coerce=optional_int, validators=[Optional()])
    valid_from = ViDateField("Hiệu lực từ ngày", validators=[Optional()])
    valid_to = ViDateField("Hiệu lực đến ngày", validators=[Optional()])
    is_urban = BooleanField("Khu vực thành thị")
    note = TextAreaField("Ghi chú", validators=[Optional(), Length(max=2000)])


class CloseUnitForm(BaseForm):
    valid_to = ViDateField("Ngày cuối cùng có hiệu lực", validators=[DataRequired()])


class SuccessorForm(BaseForm):
    successor_id = SelectField("Đơn vị kế thừa", coerce=optional_int, validators=[DataRequired()])


class SignerForm(BaseForm):
    full_name = StringField("Họ và tên", validators=[DataRequired(), Length(max=200)])
    authority_prefix = SelectField(
        "Thẩm quyền ký",
        choices=[("", "Ký trực tiếp"), ("KT.", "KT. (ký thay)"), ("TM.", "TM. (thay mặt tập thể)"), ("Q.", "Q. (quyền)"), ("TL.", "TL. (thừa lệnh)"), ("TUQ.", "TUQ. (thừa ủy quyền)")],
    )
    on_behalf_title = StringField("Chức danh người đứng đầu (sau KT./TM., ví dụ GIÁM ĐỐC)", validators=[Optional(), Length(max=200)])
    title = StringField("Chức vụ người ký (ví dụ PHÓ GIÁM ĐỐC)", validators=[DataRequired(), Length(max=200)])
    unit_id = SelectField("Đơn vị", coerce=optional_int, validators=[DataRequired()])
    valid_from = ViDateField("Hiệu lực từ ngày", validators=[Optional()])
    valid_to = ViDateField("Hiệu lực đến ngày", validators=[Optional()])
