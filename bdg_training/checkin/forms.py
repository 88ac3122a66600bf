"""Forms of the check-in pages."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import DataRequired, Length

from bdg_training.forms import BaseForm


class ScanForm(BaseForm):
    """What a barcode scanner (or a pasted link) gives: the trainee's personal code or its URL."""

    code = StringField(
        "Mã cá nhân của học viên",
        validators=[DataRequired(), Length(max=500)],
        render_kw={"autofocus": True, "autocomplete": "off", "placeholder": "Quét mã hoặc dán liên kết /checkin/t/…"},
    )


class ConfirmForm(BaseForm):
    """Only the CSRF token: the session being checked into comes from this browser's scan."""
