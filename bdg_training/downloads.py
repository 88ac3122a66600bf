"""File downloads: one way to name them (RFC 6266 / 5987) and to keep them out of shared caches."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from flask import Response

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def ascii_filename(filename: str, default: str = "tai-xuong") -> str:
    """The name old clients get: Vietnamese letters without their marks (đ → d), anything else that is not a
    letter, a digit, ``.``, ``-`` or ``_`` (quotes, spaces, slashes, line breaks…) as one ``-``."""
    plain = unicodedata.normalize("NFKD", filename.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    plain = re.sub(r"-{2,}", "-", _UNSAFE.sub("-", plain)).strip("-.")
    return plain or default


def attachment(data: bytes, filename: str, mimetype: str, *, inline: bool = False) -> Response:
    """A download named ``filename`` (any Unicode: ``filename*``; an ASCII fallback for old clients), kept by
    no shared cache — every download here holds someone's data."""
    response = Response(data, mimetype=mimetype)
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f"{disposition}; filename=\"{ascii_filename(filename)}\"; filename*=UTF-8''{quote(filename, safe='')}"
    response.headers["Cache-Control"] = "private, no-store"
    return response
