"""QR codes for certificates: segno's symbol, with its mask chosen ~5× faster, drawn as one SVG path.

Choosing the data mask (ISO/IEC 18004:2015 §7.8.3: try the 8 masks, keep the lowest penalty) is where segno
spends ~80 % of ``segno.make`` — pure-Python loops over every module, 8 times — about 5 ms a code, i.e. ~2.5 s
of CPU for a class of 500. :func:`qr_matrix` makes the symbol once with mask 0, rebuilds the 8 candidates by
XOR on whole rows, scores them with the same penalty rules (N1–N4, segno's exact counting) using bytes/regex/int
operations, and writes the winner's format information with segno's own function. The result is identical to
``segno.make(url, error="m").matrix`` — a test compares them on hundreds of contents of every length — at
~1.5 ms. It uses segno's encoder helpers (``make_matrix``, ``add_finder_patterns``, ``add_alignment_patterns``,
``add_format_info``, ``get_data_mask_functions``), pinned with segno in requirements.txt; if any of them goes
missing, :func:`qr_matrix` falls back to plain ``segno.make``.
"""

from __future__ import annotations

import functools
import re

import segno

ERROR = "m"  # medium (15 %): printed paper gets stained and folded; segno raises it for free when it fits

try:
    from segno import encoder as _enc

    _HELPERS = all(
        hasattr(_enc, name)
        for name in ("make_matrix", "add_finder_patterns", "add_alignment_patterns", "add_format_info", "get_data_mask_functions", "normalize_errorlevel")
    )
except ImportError:  # pragma: no cover - segno always has its encoder module
    _HELPERS = False

_RUN5 = re.compile(rb"\x00{5,}|\x01{5,}")
_N3 = b"\x01\x00\x01\x01\x01\x00\x01"


@functools.lru_cache(maxsize=64)
def _layout(size: int):
    """Per symbol size, as whole-matrix big ints (one byte per module, row after row): the data region, the
    matrix segno evaluates outside it (function patterns; reserved format/version areas and the dark module
    are 0 during evaluation), each mask's XOR pattern restricted to the data region, and a filler with a
    non-zero byte at column 0 of every row (for the N2 count)."""
    function = _enc.make_matrix(size, size)
    _enc.add_finder_patterns(function, size, size)
    _enc.add_alignment_patterns(function, size, size)
    region = b"".join(bytes(1 if v > 1 else 0 for v in row) for row in function)
    fixed = b"".join(bytes(0 if v > 1 else v for v in row) for row in function)
    masks = []
    for fn in _enc.get_data_mask_functions(False):
        pattern = bytes(1 if region[i * size + j] and fn(i, j) else 0 for i in range(size) for j in range(size))
        masks.append(int.from_bytes(pattern, "big"))
    column0 = int.from_bytes(b"".join(b"\x01" + bytes(size - 1) for _ in range(size - 1)), "big")
    return int.from_bytes(region, "big"), int.from_bytes(fixed, "big"), masks, column0


def _penalty(flat: bytes, size: int, column0: int) -> int:
    """N1 + N2 + N3 + N4 of ISO/IEC 18004:2015 §7.8.3.1 for a matrix given as ``size * size`` bytes of 0/1,
    counted exactly as ``segno.encoder.mask_scores`` (the test suite compares the chosen masks)."""
    rows = [flat[i : i + size] for i in range(0, size * size, size)]
    lines = b"\x02".join([*rows, *map(bytes, zip(*rows, strict=True))])  # rows then columns, \x02 between
    runs = _RUN5.findall(lines)
    n1 = sum(map(len, runs)) - 2 * len(runs)
    # N3: segno's rule, applied to each row/column; a pattern cannot span the \x02 separators.
    n3 = 0
    stride = size + 1
    at = lines.find(_N3)
    while at != -1:
        start = at - at % stride
        seq = lines[start : start + size]
        idx = at - start
        offset = idx + 7
        if idx in (0, size - 7) or not any(seq[max(idx - 4, 0) : min(idx, size)]) or not any(seq[offset : min(offset + 4, size)]):
            n3 += 40
        else:
            offset = idx + 4
        at = lines.find(_N3, start + offset)
    # N2: 2×2 blocks of one colour: a module equal to its left neighbour, the one above, and that one's left.
    whole = int.from_bytes(flat, "big")
    below = whole & ((1 << (8 * size * (size - 1))) - 1)  # rows 1..n-1
    above = whole >> (8 * size)  # rows 0..n-2
    differs = (below ^ (below >> 8)) | (above ^ (above >> 8)) | (below ^ above) | column0
    n2 = differs.to_bytes(size * (size - 1), "big").count(0)
    n4 = 10 * int(abs(float(flat.count(1)) / (size**2) * 100 - 50) / 5)
    return n1 + 3 * n2 + n3 + n4


def qr_matrix(content: str) -> tuple[bytes, ...]:
    """The QR code of ``content`` (error level M, boosted when free) as rows of 0/1 bytes, no quiet zone;
    equal to ``segno.make(content, error="m", micro=False).matrix``."""
    if not _HELPERS:  # pragma: no cover - only with an incompatible segno
        return tuple(bytes(r) for r in segno.make(content, error=ERROR, micro=False).matrix)
    base = segno.make(content, error=ERROR, micro=False, mask=0)
    size = len(base.matrix)
    region, fixed, masks, column0 = _layout(size)
    symbol = int.from_bytes(b"".join(base.matrix), "big")
    data = symbol & region ^ masks[0]  # the data modules without any mask
    best, best_score = 0, None
    for number, mask in enumerate(masks):
        score = _penalty(((data ^ mask) | fixed).to_bytes(size * size, "big"), size, column0)
        if best_score is None or score < best_score:
            best, best_score = number, score
    if best:
        flat = ((symbol & ~region) | (data ^ masks[best])).to_bytes(size * size, "big")
        matrix = tuple(bytearray(flat[i : i + size]) for i in range(0, size * size, size))
        _enc.add_format_info(matrix, base.version, _enc.normalize_errorlevel(base.error), best)
    else:
        matrix = base.matrix
    return tuple(bytes(r) for r in matrix)


def svg_path(matrix: tuple[bytes, ...]) -> str:
    """SVG path data drawing the dark modules as 1-unit-wide horizontal strokes, one per run, centred on the
    module row: ``M x y.5 h w`` then ``m dx 0 h w`` along the row. Two commands per run (filled rectangles
    need five): WeasyPrint parses SVG paths in Python, so fewer commands draw faster."""
    parts: list[str] = []
    for y, row in enumerate(matrix):
        end = None
        for m in re.finditer(rb"\x01+", row):
            start, stop = m.span()
            parts.append(f"M{start} {y}.5h{stop - start}" if end is None else f"m{start - end} 0h{stop - start}")
            end = stop
    return "".join(parts)


def qr_path(content: str) -> tuple[int, str]:
    """``(modules per side, SVG path data)`` of the QR code of ``content``."""
    matrix = qr_matrix(content)
    return len(matrix), svg_path(matrix)
