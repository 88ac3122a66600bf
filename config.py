"""Configuration, driven by environment variables.

Pick a class with ``BDG_CONFIG`` (development | testing | production); ``wsgi.py`` and the
CLI default to development. Nothing secret lives here: production refuses to start without
``SECRET_KEY`` from the environment.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgres://``/``postgresql://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    APP_NAME = "Quản lý tập huấn bình đẳng giới"
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'bdg_training.db'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # Public address of the site, used in QR codes and e-mails.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    # Rate limits: in memory by default, Redis when REDIS_URL is set.
    REDIS_URL = os.environ.get("REDIS_URL") or None
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_IP = os.environ.get("LOGIN_LIMIT_PER_IP", "20 per 5 minutes")
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 5 minutes")
    PASSWORD_HASH_METHOD = "scrypt"
    PER_PAGE = 25
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Where the demo seeding writes the generated demo passwords (git-ignored).
    DEMO_CREDENTIALS_FILE = str(INSTANCE_DIR / "demo-logins.txt")
    TIMEZONE = os.environ.get("BDG_TIMEZONE", "Asia/Ho_Chi_Minh")


class DevelopmentConfig(Config):
    DEBUG = False


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-only"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = False
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast hashes keep the suite quick
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    SERVER_NAME = None


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def check(cls) -> None:
        """Refuse to start with a development secret."""
        key = os.environ.get("SECRET_KEY", "")
        if len(key) < 32:
            raise RuntimeError(
                "ProductionConfig: đặt biến môi trường SECRET_KEY (ít nhất 32 ký tự ngẫu nhiên), "
                'ví dụ: python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        cls.SECRET_KEY = key


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def get_config(name: str | None = None) -> type[Config]:
    name = (name or os.environ.get("BDG_CONFIG") or "development").lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"BDG_CONFIG không hợp lệ: {name!r} (development|testing|production)") from None
