"""Read-only JSON API of the statistics, for staff with a personal token (so a higher level can aggregate).

``GET /api/v1/stats?unit=…&year=…&part=…&from=…&to=…&group=…`` with ``Authorization: Bearer <token>``.
The endpoint is public at the routing level (no login redirect, no session cookie used) but refuses
anything without a valid, unrevoked token of an active staff user: 401 with ``WWW-Authenticate: Bearer``.
The answer is what the token's owner would see on the report pages: their unit subtree only (a unit
outside it is 404). GET only: CSRF does not apply, and nothing a browser could be tricked into sending
(cookies) is accepted as a credential.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from bdg_training.access import public
from bdg_training.database import utcnow
from bdg_training.extensions import db
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


@bp.get("/stats")
@public
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
