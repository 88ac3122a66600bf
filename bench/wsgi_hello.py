"""The WSGI application ``bench/bench_http.py`` serves with gunicorn: the real app, built with
``ProductionConfig``, and beside it a bare "hello" endpoint at ``/__bench_hello`` — the floor against
which the real pages are compared (same gunicorn, same workers, same run).

The hello endpoint lives in this wrapper (werkzeug's ``DispatcherMiddleware``), never in the product:
the production app gains no route. The public verification page's anti-scraping limit (60 per minute
per address) is lifted here, as the benchmark measures what a page costs, not how fast the limiter
says no; the limiter itself still runs on every request.
"""

from __future__ import annotations

import os

from werkzeug.middleware.dispatcher import DispatcherMiddleware

from bdg_training import create_app

HELLO_PATH = "/__bench_hello"
_BODY = b"hello"


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(_BODY)))])
    return [_BODY]


product = create_app("production", CERTIFICATE_VERIFY_LIMIT=os.environ.get("BENCH_VERIFY_LIMIT", "1000000 per minute"))
app = DispatcherMiddleware(product, {HELLO_PATH: hello})
