"""Forms of the reports: a personal API token's name (the filters are a plain GET form)."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import DataRequired, Length

from bdg_training.forms import BaseForm


class TokenForm(BaseForm):
    name = StringField("Tên mã truy cập", validators=[DataRequired(), Length(max=100)])
