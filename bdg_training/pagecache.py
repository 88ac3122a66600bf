"""A micro-cache for the public pages anonymous visitors load over and over (the course catalogue, a course's
public page, a certificate's verification page), in front of Flask as a WSGI middleware.

What it keeps is decided by the app, not here: a response is kept only when Flask marked it
``Cache-Control: public, max-age=N`` — which ``setup.register_request_hooks`` does only for those pages, served
with status 200 to an anonymous visitor who got no cookie and no flashed message, i.e. exactly what every other
anonymous visitor would get (see ``setup.PUBLIC_CACHE_SECONDS``). It is what an nginx micro-cache in front of
the app would do, without needing nginx.

* **Who is served from it**: a ``GET`` with no ``Cookie`` and no ``Authorization`` header. Anyone with a
  session (a logged-in user, a visitor who was shown a message) goes to Flask as before.
* **How long**: ``min(PAGE_CACHE_SECONDS, max-age)`` seconds (10 by default; 0 turns the cache off).
* **Invalidation**: every committed database write made through the app's session (``db.session``: web
  requests, background jobs, CLI commands) bumps a version — the modification time of a file in the instance
  folder, which all workers of a server share and read with one ``stat`` — and an entry stored under an older
  version is not served. So on one server an organizer's edit or a revocation shows at once; across several
  servers (each with its own instance folder) at most ``PAGE_CACHE_SECONDS`` late — which the same pages already
  allow browsers and proxies (``max-age``).
* **Bounds**: at most ``PAGE_CACHE_ENTRIES`` pages (least recently used evicted) of at most
  ``PAGE_CACHE_MAX_BYTES`` each, per worker process.
* What skips Flask also skips its per-request hooks, so a hit writes its own request log line (``cache=hit``),
  keeps the stored security headers, and is never a 404: unknown verification codes (what a scraper tries)
  still go through the rate limiter.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

request_log = logging.getLogger("bdg_training.requests")

EXTENSION = "bdg_page_cache"
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age=(\d+)")
# Headers about the visitor who happened to fill the entry (their remaining rate-limit budget), or about the
# stored copy itself: never replayed to others.
_PER_VISITOR = ("x-ratelimit-", "retry-after", "age")


@dataclass(frozen=True, slots=True)
class Entry:
    version: int
    stored: float  # time.monotonic()
    expires: float
    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


def storable_seconds(status: str, headers: Iterable[tuple[str, str]]) -> int:
    """How long a response may be kept (0: not at all): 200, ``Cache-Control: public, max-age=N``, no cookie set."""
    if not status.startswith("200"):
        return 0
    seconds = 0
    for name, value in headers:
        lower = name.lower()
        if lower == "set-cookie":
            return 0
        if lower == "cache-control":
            directives = value.lower()
            if "public" not in directives or "no-store" in directives or "private" in directives:
                return 0
            match = _MAX_AGE.search(directives)
            seconds = int(match.group(1)) if match else 0
    return seconds


class PageCache:
    """The WSGI middleware (see the module's docstring)."""

    def __init__(self, app: Callable, *, seconds: int, max_entries: int, max_bytes: int, version_file: str | os.PathLike) -> None:
        self.app = app
        self.seconds = seconds
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.version_file = Path(version_file)
        self._entries: OrderedDict[tuple, Entry] = OrderedDict()
        self._lock = threading.Lock()

    # --- version -------------------------------------------------------------------------------
    def version(self) -> int:
        try:
            return os.stat(self.version_file).st_mtime_ns
        except OSError:
            return 0

    def bump(self) -> None:
        """Invalidate every stored page (in all the workers sharing the version file)."""
        try:
            self.version_file.parent.mkdir(parents=True, exist_ok=True)
            self.version_file.touch()
            now = time.time_ns()
            os.utime(self.version_file, ns=(now, max(now, self.version() + 1)))
        except OSError:  # pragma: no cover - read-only instance folder: pages expire with their time
            logging.getLogger(__name__).warning("page cache: cannot write %s; pages expire after %ss", self.version_file, self.seconds)
        with self._lock:
            self._entries.clear()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    # --- WSGI ----------------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable):
        if self.seconds <= 0 or environ.get("REQUEST_METHOD") != "GET" or "HTTP_COOKIE" in environ or "HTTP_AUTHORIZATION" in environ:
            return self.app(environ, start_response)
        started = time.perf_counter()
        key = (
            environ.get("wsgi.url_scheme"),
            environ.get("HTTP_HOST") or environ.get("SERVER_NAME"),
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
        )
        version = self.version()
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                if entry.version == version and entry.expires > now:
                    self._entries.move_to_end(key)
                else:
                    del self._entries[key]
                    entry = None
        if entry is not None:
            start_response(entry.status, [*entry.headers, ("Age", str(int(now - entry.stored)))])
            request_log.info(
                "GET %s %s %.1fms user=- ip=%s cache=hit",
                environ.get("PATH_INFO", ""), entry.status.split(" ", 1)[0], (time.perf_counter() - started) * 1000, environ.get("REMOTE_ADDR"),
            )  # fmt: skip
            return [entry.body]
        return self._fill(environ, start_response, key, version)

    def _fill(self, environ: dict, start_response: Callable, key: tuple, version: int):
        """Call Flask; keep the response when it may be kept (under the version read *before* it was made, so a
        write committed meanwhile makes it stale at once)."""
        captured: dict = {}
        body: list[bytes] = []

        def capture(status, headers, exc_info=None):
            seconds = min(self.seconds, storable_seconds(status, headers)) if exc_info is None else 0
            captured.update(status=status, headers=headers, seconds=seconds)
            if seconds <= 0:
                return start_response(status, headers, exc_info)
            return body.append  # the WSGI write() callable: buffer

        result = self.app(environ, capture)
        if not captured.get("seconds"):
            return result  # streamed through untouched
        try:
            body.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        data = b"".join(body)
        headers = captured["headers"]
        if len(data) <= self.max_bytes:
            now = time.monotonic()
            kept = tuple((k, v) for k, v in headers if not k.lower().startswith(_PER_VISITOR))
            entry = Entry(version, now, now + captured["seconds"], captured["status"], kept, data)
            with self._lock:
                self._entries[key] = entry
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        start_response(captured["status"], headers)
        return [data]


# --- invalidation on commit ----------------------------------------------------------------------
_WROTE = "bdg_page_cache_wrote"


def _mark_flush(session: Session, _flush_context) -> None:
    if session.new or session.dirty or session.deleted:
        session.info[_WROTE] = True


def _mark_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_WROTE, False) and has_app_context():
        cache = current_app.extensions.get(EXTENSION)
        if cache is not None and cache.seconds > 0:
            cache.bump()


def _forget(session: Session, *_args) -> None:
    session.info.pop(_WROTE, None)


_LISTENING = False


def _listen() -> None:
    """Once per process, for every Session (the app's ``db.session`` is one; an app without a page cache is
    left alone by :func:`_after_commit`)."""
    global _LISTENING
    if _LISTENING:
        return
    event.listen(Session, "after_flush", _mark_flush)
    event.listen(Session, "do_orm_execute", _mark_statement)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _forget)
    _LISTENING = True


def init_app(app: Flask) -> PageCache:
    """Wrap ``app.wsgi_app`` (call it before any middleware that rewrites the environ, e.g. ProxyFix, is
    wrapped around it) and invalidate on the app's commits."""
    cache = PageCache(
        app.wsgi_app,
        seconds=int(app.config.get("PAGE_CACHE_SECONDS", 0) or 0),
        max_entries=int(app.config.get("PAGE_CACHE_ENTRIES", 256)),
        max_bytes=int(app.config.get("PAGE_CACHE_MAX_BYTES", 512 * 1024)),
        version_file=app.config.get("PAGE_CACHE_VERSION_FILE") or os.path.join(app.instance_path, "page-cache.version"),
    )
    app.wsgi_app = cache  # type: ignore[method-assign]
    app.extensions[EXTENSION] = cache
    _listen()
    return cache
