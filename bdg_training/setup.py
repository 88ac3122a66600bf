"""The steps of ``create_app``; each feature plugs in here and nowhere else."""

from __future__ import annotations

import logging
import os

from flask import Flask, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from bdg_training.extensions import csrf, db, limiter, login_manager, migrate

log = logging.getLogger(__name__)

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

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def register_template_helpers(app: Flask) -> None:
    from bdg_training import templating

    templating.init_app(app)


def register_commands(app: Flask) -> None:
    from bdg_training import commands

    commands.init_app(app)
