"""Forms of the enrolment feature. Field names match the keys of ``rules.clean_trainee`` errors."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional

from bdg_training.enrollment import rules
from bdg_training.ethnicity import ETHNICITY_CHOICES
from bdg_training.forms import BaseForm, coerce_id


def _int_or_none(value):
    return coerce_id(value)  # None also for a malformed id or one beyond a database integer


class TraineeForm(BaseForm):
    family_name = StringField("Họ", validators=[DataRequired(), Length(max=100)], render_kw={"autocomplete": "family-name"})
    middle_name = StringField("Tên đệm", validators=[Optional(), Length(max=100)], render_kw={"autocomplete": "additional-name"})
    given_name = StringField("Tên", validators=[DataRequired(), Length(max=100)], render_kw={"autocomplete": "given-name"})
    full_name = StringField(
        "Họ và tên (như trên giấy tờ)",
        validators=[Optional(), Length(max=200)],
        description="Để trống nếu đúng bằng họ + tên đệm + tên.",
    )
    sex = SelectField("Giới tính", choices=[("", "— Chọn giới tính —"), *rules.SEX_CHOICES], validators=[DataRequired(message="Vui lòng chọn giới tính.")])
    birth = StringField(
        "Ngày sinh",
        validators=[Optional(), Length(max=20)],
        render_kw={"placeholder": "dd/mm/yyyy", "inputmode": "numeric", "autocomplete": "bday"},
        description="Ví dụ 05/02/1985. Nếu chỉ nhớ năm sinh, nhập năm (ví dụ 1975).",
    )
    ethnicity = SelectField("Dân tộc", choices=[("", "— Chọn dân tộc —"), *ETHNICITY_CHOICES], validators=[Optional()])
    personal_id = StringField(
        "Số định danh cá nhân (số thẻ căn cước/CCCD)",
        validators=[Optional(), Length(max=20)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
        description="12 chữ số. Không bắt buộc.",
    )
    cmnd = StringField("Số CMND cũ (nếu có)", validators=[Optional(), Length(max=20)], render_kw={"inputmode": "numeric", "autocomplete": "off"})
    phone = StringField("Số điện thoại", validators=[Optional(), Length(max=30)], render_kw={"type": "tel", "inputmode": "tel", "autocomplete": "tel"})
    email = EmailField("Email", validators=[Optional(), Length(max=254)], render_kw={"autocomplete": "email"})
    work_unit = StringField("Nơi công tác / sinh hoạt", validators=[Optional(), Length(max=300)], description="Ví dụ: Hội LHPN xã Cờ Đỏ, UBND phường Ninh Kiều.")
    unit_id = SelectField("Đơn vị (xã/phường, cơ quan) trong hệ thống", coerce=_int_or_none, validators=[Optional()])
    position = StringField("Chức vụ", validators=[Optional(), Length(max=200)])
    target_group = SelectField("Đối tượng", choices=[("", "— Chọn đối tượng —"), *rules.TARGET_GROUP_CHOICES], validators=[Optional()])

    PERSON_FIELDS = ("family_name", "middle_name", "given_name", "full_name", "sex", "birth", "ethnicity")
    CONTACT_FIELDS = ("personal_id", "cmnd", "phone", "email")
    WORK_FIELDS = ("work_unit", "unit_id", "position", "target_group")

    def to_input(self) -> rules.TraineeInput:
        return rules.TraineeInput(
            family_name=self.family_name.data or "",
            middle_name=self.middle_name.data or "",
            given_name=self.given_name.data or "",
            full_name=self.full_name.data or "",
            sex=self.sex.data or "",
            birth=self.birth.data or None,
            ethnicity=self.ethnicity.data or "",
            personal_id=self.personal_id.data or "",
            cmnd=self.cmnd.data or "",
            phone=self.phone.data or "",
            email=self.email.data or "",
            work_unit=self.work_unit.data or "",
            position=self.position.data or "",
            target_group=self.target_group.data or "",
        )

    def fill_from(self, trainee) -> None:
        """Show a stored trainee (on GET)."""
        for name in ("family_name", "middle_name", "given_name", "full_name", "sex", "personal_id", "cmnd", "email", "work_unit", "position"):
            getattr(self, name).data = getattr(trainee, name) or ""
        self.birth.data = trainee.birth_display
        self.ethnicity.data = trainee.ethnicity_code or ""
        self.phone.data = trainee.phone_display
        self.unit_id.data = trainee.unit_id
        self.target_group.data = trainee.target_group or ""


class SignUpForm(TraineeForm):
    """Self sign-up: the trainee, a password, and consent to the privacy notice."""

    password = PasswordField("Mật khẩu", validators=[DataRequired(), Length(max=200)], render_kw={"autocomplete": "new-password"}, description="Ít nhất 10 ký tự.")
    confirm = PasswordField(
        "Nhập lại mật khẩu",
        validators=[DataRequired(), EqualTo("password", message="Hai mật khẩu không khớp.")],
        render_kw={"autocomplete": "new-password"},
    )
    consent = BooleanField(
        "Tôi đã đọc thông báo về xử lý dữ liệu cá nhân ở trên và đồng ý.",
        validators=[InputRequired(message="Vui lòng đọc và đồng ý với thông báo về xử lý dữ liệu cá nhân.")],
    )


class ProfileForm(TraineeForm):
    """A trainee's own profile; consent is asked when the record is created here."""

    consent = BooleanField("Tôi đã đọc thông báo về xử lý dữ liệu cá nhân ở trên và đồng ý.")


class ImportForm(BaseForm):
    file = FileField("Tệp danh sách (.xlsx hoặc .csv)", validators=[FileRequired(message="Vui lòng chọn tệp.")], render_kw={"accept": ".xlsx,.csv"})


class DecisionForm(BaseForm):
    note = TextAreaField("Ghi chú (không bắt buộc)", validators=[Optional(), Length(max=1000)])


class WithdrawForm(BaseForm):
    reason = StringField("Lý do (không bắt buộc)", validators=[Optional(), Length(max=500)])
