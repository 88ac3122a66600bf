"""The WSGI application ``bench/bench_http.py`` serves with gunicorn: the real app, built with
``ProductionConfig``, plus two bare "hello" endpoints — the floors against which the real pages are compared
(same gunicorn, same workers, same run):

* ``/__bench_hello`` — a Flask view returning "hello", added to the real app here: it goes through everything
  the app does for any request (the page cache's check, session, login, rate limiter, CSRF, security headers,
  the request log line) and nothing else — the floor of the goal;
* ``/__bench_wsgi_hello`` — a WSGI callable beside the app (werkzeug's ``DispatcherMiddleware``): gunicorn
  alone, no Flask — printed for reference.

Both live in this wrapper, never in the product: the production app gains no route. The public verification page's anti-scraping limit (60 per minute
per address) is lifted here, as the benchmark measures what a page costs, not how fast the limiter
says no; the limiter itself still runs on every request.
"""

from __future__ import annotations

import os

from werkzeug.middleware.dispatcher import DispatcherMiddleware

from bdg_training import create_app
from bdg_training.access import public

HELLO_PATH = "/__bench_hello"
WSGI_HELLO_PATH = "/__bench_wsgi_hello"
_BODY = b"hello"


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(_BODY)))])
    return [_BODY]


product = create_app("production", CERTIFICATE_VERIFY_LIMIT=os.environ.get("BENCH_VERIFY_LIMIT", "1000000 per minute"))


@public
def flask_hello():
    return "hello"


product.add_url_rule(HELLO_PATH, "bench_hello", flask_hello)
app = DispatcherMiddleware(product, {WSGI_HELLO_PATH: hello})
