"""Home page and health check."""

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import text

from bdg_training.access import public
from bdg_training.extensions import db

bp = Blueprint("main", __name__)


@bp.get("/")
@public
def index():
    if not current_user.is_authenticated:
        return render_template("main/welcome.html")
    return render_template("main/home.html")


@bp.get("/healthz")
@public
def healthz():
    """Liveness and database check for load balancers (no personal data)."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        db.session.rollback()
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}


