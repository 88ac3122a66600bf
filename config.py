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


def _proxy_hops(value: str | None) -> int:
    """``PROXY_FIX``: a number of proxies (``1`` = one nginx/Caddy in front), or yes/true/on for 1."""
    value = (value or "").strip().lower()
    if value.isdigit():
        return int(value)
    return 1 if value in {"yes", "true", "on"} else 0


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
    SIGNUP_LIMIT_PER_IP = os.environ.get("SIGNUP_LIMIT_PER_IP", "10 per hour")
    # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0 = none; see README).
    PROXY_FIX = _proxy_hops(os.environ.get("PROXY_FIX"))
    # Public pages kept in memory for anonymous visitors (bdg_training/pagecache.py), seconds; 0 = off.
    PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "10"))
    PAGE_CACHE_ENTRIES = int(os.environ.get("PAGE_CACHE_ENTRIES", "256"))  # pages per worker process
    # Written on every committed change; every worker of a server must see the same file (default: instance/).
    PAGE_CACHE_VERSION_FILE = os.environ.get("PAGE_CACHE_VERSION_FILE") or None
    # Uploads (Excel imports) are small; anything larger is refused before it is read (413).
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 10 * 1024 * 1024))
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
    # --- notifications (bdg_training/notifications/delivery.py) ---
    # MAIL_BACKEND: smtp | console (print) | outbox-only (kept on the development mailbox page).
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "outbox-only")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)  # STARTTLS (port 587)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)  # implicit TLS (port 465)
    MAIL_FROM = os.environ.get("MAIL_FROM", "Tập huấn BĐG <no-reply@localhost>")
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "20"))
    OUTBOX_BACKGROUND = _bool("OUTBOX_BACKGROUND", False)  # a sender thread in each app process
    OUTBOX_INTERVAL = int(os.environ.get("OUTBOX_INTERVAL", "30"))  # seconds between passes


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
    MAIL_BACKEND = "outbox-only"  # tests never send mail unless they point a sender at a stub
    OUTBOX_BACKGROUND = False
    PAGE_CACHE_SECONDS = 0  # tests that need it turn it on


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PREFERRED_URL_SCHEME = "https"
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")

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
