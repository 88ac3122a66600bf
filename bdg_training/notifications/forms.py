"""Forms of the notifications pages."""

from __future__ import annotations

from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from bdg_training.forms import BaseForm
from bdg_training.notifications import rules


class TemplateForm(BaseForm):
    subject = StringField("Tiêu đề thư", validators=[DataRequired(), Length(max=300)])
    body = TextAreaField("Nội dung thư (văn bản thuần)", validators=[DataRequired(), Length(max=20000)], render_kw={"rows": 18})


class PreferencesForm(BaseForm):
    """One check box per optional event (added below, named after the event code)."""


for _code in rules.OPTIONAL_EVENTS:
    setattr(PreferencesForm, _code, BooleanField(rules.EVENTS[_code].label, default=True))
