from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from bdg_training.auth.models import ROLES
from bdg_training.forms import BaseForm


class LoginForm(BaseForm):
    login = StringField("Tên đăng nhập hoặc email", validators=[DataRequired(), Length(max=254)], render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Mật khẩu", validators=[DataRequired(), Length(max=200)], render_kw={"autocomplete": "current-password"})
    remember = BooleanField("Ghi nhớ đăng nhập")


class ChangePasswordForm(BaseForm):
    current_password = PasswordField("Mật khẩu hiện tại", validators=[DataRequired()], render_kw={"autocomplete": "current-password"})
    new_password = PasswordField("Mật khẩu mới", validators=[DataRequired(), Length(max=200)], render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        "Nhập lại mật khẩu mới",
        validators=[DataRequired(), EqualTo("new_password", message="Hai mật khẩu không khớp.")],
        render_kw={"autocomplete": "new-password"},
    )


class UserForm(BaseForm):
    username = StringField("Tên đăng nhập", validators=[DataRequired(), Length(min=3, max=120)])
    full_name = StringField("Họ và tên", validators=[DataRequired(), Length(max=200)])
    # wtforms' Email() needs the optional email_validator package (not installed: any email crashed the form).
    email = EmailField("Email", validators=[Optional(), Regexp(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z", message="Địa chỉ email không hợp lệ."), Length(max=254)])
    role = SelectField("Vai trò", choices=list(ROLES.items()), validators=[DataRequired()])
    unit_id = SelectField("Đơn vị", coerce=lambda v: int(v) if v not in (None, "", "None") else None, validators=[Optional()])
