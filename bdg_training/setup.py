"""The steps of ``create_app``; each feature plugs in here and nowhere else."""

from __future__ import annotations

import logging
import os
import time

from flask import Flask, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from bdg_training.extensions import csrf, db, limiter, login_manager, migrate

log = logging.getLogger(__name__)
request_log = logging.getLogger("bdg_training.requests")

# No inline script anywhere; styles only from our own files (Bootstrap's JS sets element.style,
# which CSP allows). Frames, plugins and foreign form targets are refused.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), geolocation=(), microphone=()",
}

# Public pages a browser or a caching reverse proxy may keep (seconds), when served to an anonymous visitor:
# the catalogue changes when an organizer edits a course, a verification when a certificate is revoked —
# a minute late is harmless (registration and revocation are checked on the server, at the time).
PUBLIC_CACHE_SECONDS = {"courses.catalogue": 60, "courses.public_detail": 60, "certificates.verify": 60}

BLUEPRINTS = (
    "bdg_training.main.views:bp",
    "bdg_training.auth.views:bp",
    "bdg_training.units.views:bp",
    "bdg_training.audit.views:bp",
    "bdg_training.courses.views:bp",
    "bdg_training.enrollment.views:bp",
    "bdg_training.certificates.views:bp",
    "bdg_training.assessments.views:bp",
    "bdg_training.notifications.views:bp",
    "bdg_training.checkin.views:bp",
    "bdg_training.reports.views:bp",
    "bdg_training.reports.api:bp",
)


def register_extensions(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:"):
        # A database file on this machine does not drop connections: no "ping" query before each request's.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.pop("pool_pre_ping", None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    import bdg_training.models  # noqa: F401  (every table, for Alembic and create_all)

    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"

    from bdg_training.auth.services import load_user

    login_manager.user_loader(load_user)

    # Behind a reverse proxy (nginx, Caddy), PROXY_FIX=N trusts the X-Forwarded-For/-Proto/-Host/-Prefix
    # headers set by the N proxies in front: the client's address (rate limits, logs), HTTPS (HSTS, secure
    # cookies) and the public host are then the real ones. Unset or 0 (the app faces clients directly):
    # those headers are ignored, as anyone could send them.
    from bdg_training import pagecache

    pagecache.init_app(app)  # inside ProxyFix: it sees the client's real scheme, host and address

    hops = app.config.get("PROXY_FIX") or 0
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)


def register_blueprints(app: Flask) -> None:
    from importlib import import_module

    from werkzeug.routing import IntegerConverter

    from bdg_training.forms import MAX_ID

    class IdConverter(IntegerConverter):
        """``<int:…>`` in every URL: ASCII digits up to what a database integer holds — /courses/99999999999999999999
        is a 404, not a database error (overflow on SQLite, out of range on PostgreSQL)."""

        regex = r"[0-9]+"

        def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002 - werkzeug's names
            super().__init__(map, fixed_digits, min, max, signed)

    app.url_map.converters["int"] = IdConverter  # before the blueprints add their rules
    for path in BLUEPRINTS:
        module_name, attr = path.split(":")
        app.register_blueprint(getattr(import_module(module_name), attr))


def register_errorhandlers(app: Flask) -> None:
    titles = {
        400: "Yêu cầu không hợp lệ",
        403: "Không có quyền truy cập",
        404: "Không tìm thấy trang",
        405: "Phương thức không được phép",
        413: "Tệp quá lớn",
        429: "Quá nhiều yêu cầu",
        500: "Lỗi hệ thống",
    }

    def render(code: int, message: str | None = None):
        db.session.rollback()
        if request.blueprint == "reports_api":  # machines get JSON, with the same Vietnamese message
            from flask import jsonify

            response = jsonify({"error": code, "message": message or titles.get(code, "Lỗi")})
            response.status_code = code
            response.headers["Cache-Control"] = "no-store"
            return response
        return render_template("errors/error.html", code=code, title=titles.get(code, "Lỗi"), message=message), code

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render(400, "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Vui lòng tải lại trang và thử lại.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code in titles:
            return render(error.code)
        return error

    @app.errorhandler(500)
    def server_error(error):
        return render(500, "Đã có lỗi xảy ra. Dữ liệu chưa được lưu; vui lòng thử lại hoặc báo quản trị viên.")


def register_request_hooks(app: Flask) -> None:
    from bdg_training.access import require_login

    app.before_request(require_login)

    @app.before_request
    def force_password_change():
        if (
            current_user.is_authenticated
            and current_user.must_change_password
            and request.endpoint not in {"auth.change_password", "auth.logout", "static"}
        ):
            flash("Vui lòng đổi mật khẩu trước khi tiếp tục.", "warning")
            return redirect(url_for("auth.change_password"))
        return None

    @app.before_request
    def start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def security_headers(response):
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response

    @app.after_request
    def public_cache(response):
        """The public pages anyone may see (catalogue, a course's public page, certificate verification) may be
        kept for a minute by browsers and a caching reverse proxy — when served to an anonymous visitor who got no
        cookie and no flashed message, i.e. exactly what any other anonymous visitor would get."""
        seconds = PUBLIC_CACHE_SECONDS.get(request.endpoint or "")
        if (
            seconds
            and request.method == "GET"
            and response.status_code == 200
            and "Cache-Control" not in response.headers
            and "Set-Cookie" not in response.headers
            and not current_user.is_authenticated
            and not session.get("_flashes")
        ):
            response.headers["Cache-Control"] = f"public, max-age={seconds}"
            response.vary.add("Cookie")
        return response

    @app.after_request
    def log_request(response):
        """One line per request: method, path, status, time, user (never the query string)."""
        elapsed = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        user = current_user.get_id().split(":")[0] if current_user and current_user.is_authenticated else "-"
        request_log.info("%s %s %s %.1fms user=%s ip=%s", request.method, request.path, response.status_code, elapsed, user, request.remote_addr)
        return response


def register_logging(app: Flask) -> None:
    """Log lines to stderr, one per request, unless the host (gunicorn) configured logging."""
    if not logging.getLogger().handlers and not app.testing:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


def register_template_helpers(app: Flask) -> None:
    from bdg_training import templating

    templating.init_app(app)


def register_commands(app: Flask) -> None:
    from bdg_training import commands

    commands.init_app(app)
