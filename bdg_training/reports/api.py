"""Read-only JSON API of the statistics, for staff with a personal token (so a higher level can aggregate).

``GET /api/v1/stats?unit=…&year=…&part=…&from=…&to=…&group=…`` with ``Authorization: Bearer <token>``.
The endpoint is public at the routing level (no login redirect, no session cookie used) but refuses
anything without a valid, unrevoked token of an active staff user: 401 with ``WWW-Authenticate: Bearer``.
The answer is what the token's owner would see on the report pages: their unit subtree only (a unit
outside it is 404). GET only: CSRF does not apply, and nothing a browser could be tricked into sending
(cookies) is accepted as a credential.

Rate-limited (``REPORTS_API_LIMIT``, 60 per minute by default) per token — a statistics call scans a
year of enrolments, so a runaway script must not take the server — and, for requests whose token is
refused, per address (``REPORTS_API_FAILED_LIMIT``), so tokens cannot be guessed; over the limit: 429 in
JSON with ``Retry-After``.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, current_app, jsonify, request
from flask_limiter.util import get_remote_address

from bdg_training.access import public
from bdg_training.database import utcnow
from bdg_training.extensions import db, limiter
from bdg_training.reports import services

bp = Blueprint("reports_api", __name__, url_prefix="/api/v1")


def _error(status: int, code: str, message: str, **extra):
    response = jsonify({"error": code, "message": message, **extra})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="bdg_training", error="invalid_token"'
    return response


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _token_key() -> str:
    """The limiter's key: a digest of the presented token (never the token itself), else the address."""
    token = _bearer()
    return "api-token:" + hashlib.sha256(token.encode()).hexdigest()[:32] if token else "api-ip:" + get_remote_address()


def _refused(response) -> bool:
    return response.status_code == 401


@bp.get("/stats")
@public
@limiter.limit(lambda: current_app.config.get("REPORTS_API_LIMIT", "60 per minute"), key_func=_token_key)
@limiter.limit(lambda: current_app.config.get("REPORTS_API_FAILED_LIMIT", "20 per minute"), deduct_when=_refused)
def stats():
    token = services.authenticate(_bearer(), now=utcnow())
    db.session.rollback()  # the reads below start afresh (the token's use is already recorded)
    if token is None:
        return _error(401, "invalid_token", "Thiếu mã truy cập hoặc mã không hợp lệ / đã thu hồi.")
    user = token.user
    today = services.today()
    units = services.load_units(today)
    try:
        filters = services.build_filters(request.args, user, today=today, units=units)
    except services.OutOfScope:
        return _error(404, "not_found", "Không tìm thấy đơn vị trong phạm vi của mã truy cập.")
    if filters.errors:
        return _error(400, "invalid_filters", "Bộ lọc không hợp lệ.", errors=filters.errors)
    board = services.dashboard(filters, units=units)
    plans = services.plan_report(filters, units=units, today=today)
    study = services.learning(filters, units=units)
    response = jsonify(services.stats_json(board, plans, study))
    response.headers["Cache-Control"] = "no-store"
    return response
