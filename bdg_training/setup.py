"""The steps of ``create_app``; each feature plugs in here and nowhere else."""

from __future__ import annotations

import logging
import os
import time

from flask import Flask, flash, g, redirect, render_template, request, url_for
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

BLUEPRINTS = (
    "bdg_training.main.views:bp",
    "bdg_training.auth.views:bp",
    "bdg_training.units.views:bp",
    "bdg_training.audit.views:bp",
)


def register_extensions(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
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


def register_blueprints(app: Flask) -> None:
    from importlib import import_module

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
