"""QR codes for certificates: segno's symbol, made ~6× faster, drawn straight into the PDF as vector paths.

``segno.make`` spends ~5 ms a code in pure-Python loops over every module: placing the codewords, and trying
the 8 data masks (ISO/IEC 18004:2015 §7.8.3: keep the one with the lowest penalty) — ~2.5 s of CPU for a class
of 500. :func:`qr_matrix` runs segno's own encoding steps up to the final codewords (mode, version, error-level
boost, Reed–Solomon), places the bits with one precomputed permutation per version, builds the 8 candidates by
XOR on a whole-matrix int, scores them with segno's exact penalty rules (N1–N4) using big-int bit operations on
the rows and columns, and writes the winner's format and version information with segno's own functions. The
result is identical to ``segno.make(url, error="m").matrix`` — tests compare them on hundreds of contents of
every length and mode — at ~0.6 ms. It relies on segno's encoder helpers (listed in ``_HELPERS``), pinned
with segno in requirements.txt; if any goes missing, :func:`qr_matrix` falls back to plain ``segno.make``.

Drawing: :func:`pdf_operators` gives the PDF operators (one ``re`` per run of dark modules) that
``certificates.render`` puts in the page's content stream, in the box of the template's ``data-qr`` element —
WeasyPrint would otherwise interpret an SVG path in Python (~5 ms a page). :func:`svg_path` remains for
templates edited from an earlier default (``c.qr_path``).
"""

from __future__ import annotations

import functools
import itertools
import operator
import re

import segno

ERROR = "m"  # medium (15 %): printed paper gets stained and folded; segno raises it for free when it fits

try:
    from segno import encoder as _enc

    _HELPERS = all(
        hasattr(_enc, name)
        for name in (
            "make_matrix add_finder_patterns add_alignment_patterns add_codewords add_format_info add_version_info "
            "get_data_mask_functions normalize_errorlevel prepare_data find_version boost_error_level Buffer write_segment "
            "version_range write_terminator write_padding_bits write_pad_codewords make_blocks calc_matrix_size consts"
        ).split()
    )
except ImportError:  # pragma: no cover - segno always has its encoder module
    _HELPERS = False



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


_PAD = b"\x00" * 4
_ASCII_BITS = bytes.maketrans(b"\x00\x01", b"01")


@functools.lru_cache(maxsize=64)
def _line_bits(size: int) -> tuple[int, int]:
    """For :func:`_penalty`'s bit string (each row, then each column, with 4 light modules of padding on either
    side): the bits of the pairs of neighbouring modules inside one line, and all the bits."""
    stride = size + 8
    pairs = 0
    for line in range(2 * size):
        first = line * stride + 4
        pairs |= ((1 << (size - 1)) - 1) << first  # pairs (first, first + 1) … (last - 1, last)
    return pairs, (1 << (2 * size * stride)) - 1


def _penalty(flat: bytes, size: int, column0: int) -> int:
    """N1 + N2 + N3 + N4 of ISO/IEC 18004:2015 §7.8.3.1 for a matrix given as ``size * size`` bytes of 0/1,
    counted exactly as ``segno.encoder.mask_scores`` (the test suite compares the chosen masks).

    Rows and columns (strided slices, ``flat[j::size]``) become one big int, a bit per module, each line
    padded with 4 light modules on either side; N1 and N3 are then a few shifts, ANDs and ``bit_count`` calls
    on it (~30 µs a mask instead of ~200 µs of regex and loops)."""
    total = size * size
    padded = _PAD + (_PAD + _PAD).join([*(flat[i : i + size] for i in range(0, total, size)), *(flat[j::size] for j in range(size))]) + _PAD
    x = int(padded[::-1].translate(_ASCII_BITS), 2)  # bit s = module s of the padded string
    pairs, full = _line_bits(size)
    # N1: a run of k ≥ 5 modules of one colour scores k - 2 = (k - 4 windows of 5) + 2.
    same = ~(x ^ (x >> 1)) & pairs
    windows = same & (same >> 1) & (same >> 2) & (same >> 3)
    n1 = windows.bit_count() + 2 * (windows & ~(windows >> 1)).bit_count()
    # N3: 1011101 with 4 light modules before or after it (the padding makes segno's "at either end of the
    # line" case one of these) scores 40.
    found = x & ~(x >> 1) & (x >> 2) & (x >> 3) & (x >> 4) & ~(x >> 5) & (x >> 6)
    light = ~x & full
    before = (light << 1) & (light << 2) & (light << 3) & (light << 4)
    after = (light >> 7) & (light >> 8) & (light >> 9) & (light >> 10)
    scoring = found & (before | after)
    # segno scans each line: after a scoring pattern it resumes 7 modules on, else 4 on — so of two patterns
    # that overlap (1011101 overlaps itself only 4 or 6 modules on) the second may be skipped. Those few are
    # scanned in order; every other pattern is ≥ 7 modules from any other and is always looked at.
    close = found & ((found >> 4) | (found >> 6) | (found << 4) | (found << 6))
    n3 = 40 * (scoring & ~close).bit_count()
    resume = -1
    while close:
        lowest = close & -close
        at = lowest.bit_length() - 1
        close ^= lowest
        if at < resume:
            continue
        if scoring & lowest:
            n3 += 40
            resume = at + 7
        else:
            resume = at + 4
    # N2: 2×2 blocks of one colour: a module equal to its left neighbour, the one above, and that one's left.
    whole = int.from_bytes(flat, "big")
    below = whole & ((1 << (8 * size * (size - 1))) - 1)  # rows 1..n-1
    above = whole >> (8 * size)  # rows 0..n-2
    differs = (below ^ (below >> 8)) | (above ^ (above >> 8)) | (below ^ above) | column0
    n2 = differs.to_bytes(size * (size - 1), "big").count(0)
    n4 = 10 * int(abs(float(flat.count(1)) / total * 100 - 50) / 5)
    return n1 + 3 * n2 + n3 + n4


@functools.lru_cache(maxsize=64)
def _placement(version: int, size: int):
    """Where each bit of the final message goes (ISO/IEC 18004 §7.7.3): an ``itemgetter`` that turns the
    message's ``free`` bits (remainder bits included, plus a trailing 0) into the whole matrix, row after row, 0
    outside the data region; and ``free``. Found once per version by letting segno's own ``add_codewords``
    place the bits' *numbers* instead of bits."""
    matrix = _enc.make_matrix(size, size)
    _enc.add_finder_patterns(matrix, size, size)
    _enc.add_alignment_patterns(matrix, size, size)
    free = sum(row.count(0x2) for row in matrix)
    numbered = [[v for v in row] for row in matrix]
    _enc.add_codewords(numbered, list(range(3, 3 + free)), version)
    return operator.itemgetter(*(v - 3 if v >= 3 else free for row in numbered for v in row)), free


def _data_modules(content: str):
    """``(version, error level, the data region's modules before masking as a whole-matrix int)``: segno's
    own encoding steps (mode, version, error level boost, codewords with Reed–Solomon), as in
    ``segno.encoder._encode``, but the bits are placed in one C call (:func:`_placement`) instead of segno's
    module-by-module loops, and no mask is applied — :func:`qr_matrix` tries the 8 on the int."""
    error = _enc.normalize_errorlevel(ERROR)
    segments = _enc.prepare_data(content, None, None)
    version = _enc.find_version(segments, error, eci=False, micro=False)
    error = _enc.boost_error_level(version, error, segments, False, is_sa=False)
    buffer = _enc.Buffer()
    for segment in segments:
        _enc.write_segment(buffer, segment, None, _enc.version_range(version), False)
    capacity = _enc.consts.SYMBOL_CAPACITY[version][error]
    _enc.write_terminator(buffer, capacity, None, len(buffer))
    _enc.write_padding_bits(buffer, version, len(buffer))
    _enc.write_pad_codewords(buffer, version, capacity, len(buffer))
    size = _enc.calc_matrix_size(version)
    place, free = _placement(version, size)
    bits = _final_message(version, error, bytes(buffer.getbits()))
    if len(bits) > free:  # pragma: no cover - segno chose the version: it fits
        raise ValueError("QR code data larger than its symbol")
    return version, error, int.from_bytes(bytes(place(bits + bytes(free + 1 - len(bits)))), "big"), size


class _Codewords:
    """What ``segno.encoder.make_blocks`` reads its data codewords from (``toints()``), made in one C call
    instead of segno's string formatting of every 8 bits."""

    __slots__ = ("codewords",)

    def __init__(self, codewords: bytes):
        self.codewords = codewords

    def toints(self):
        return iter(self.codewords)


_BITS_FROM_ASCII = bytes.maketrans(b"01", b"\x00\x01")


def _final_message(version: int, error: int, data_bits: bytes) -> bytes:
    """The final message (ISO/IEC 18004 §7.6) as bytes of 0/1, without the remainder bits: segno's
    ``make_final_message`` (its Reed–Solomon blocks, interleaved data then error codewords) with the bit
    conversions done by ``int`` and ``format`` rather than one Python call per bit."""
    codewords = int(data_bits.translate(_ASCII_BITS), 2).to_bytes(len(data_bits) // 8, "big")
    data_blocks, error_blocks = _enc.make_blocks(_enc.consts.ECC[version][error], _Codewords(codewords))
    ordered = bytes(
        x
        for blocks in (data_blocks, error_blocks)
        for x in itertools.chain.from_iterable(itertools.zip_longest(*blocks))
        if x is not None
    )
    return format(int.from_bytes(ordered, "big"), f"0{8 * len(ordered)}b").encode().translate(_BITS_FROM_ASCII)


def qr_matrix(content: str) -> tuple[bytes, ...]:
    """The QR code of ``content`` (error level M, boosted when free) as rows of 0/1 bytes, no quiet zone;
    equal to ``segno.make(content, error="m", micro=False).matrix`` (tests compare them on thousands of
    contents), ~1 ms instead of ~5 ms."""
    if not _HELPERS:  # pragma: no cover - only with an incompatible segno
        return tuple(bytes(r) for r in segno.make(content, error=ERROR, micro=False).matrix)
    version, error, data, size = _data_modules(content)
    region, fixed, masks, column0 = _layout(size)
    best, best_score = 0, None
    for number, mask in enumerate(masks):
        score = _penalty(((data ^ mask) | fixed).to_bytes(size * size, "big"), size, column0)
        if best_score is None or score < best_score:
            best, best_score = number, score
    flat = (fixed | (data ^ masks[best])).to_bytes(size * size, "big")
    matrix = [bytearray(flat[i : i + size]) for i in range(0, size * size, size)]
    _enc.add_format_info(matrix, version, error, best)
    _enc.add_version_info(matrix, version)
    return tuple(map(bytes, matrix))


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


_RUNS = re.compile(rb"\x01+")
QUIET_ZONE = 2  # modules of white around the symbol inside its box (the page around it is blank as well)


def pdf_operators(matrix: tuple[bytes, ...], x: float, y: float, side: float) -> bytes:
    """PDF content-stream operators painting ``matrix`` as a vector symbol in a ``side``×``side`` square whose
    top-left corner is at ``(x, y)`` in PDF user space (points, origin at the bottom left of the page).

    One filled path: a ``re`` (rectangle) per horizontal run of dark modules, in module units under one
    ``cm`` transform — integers only, ~300 operators for a 33×33 symbol — then a single ``f``. Nothing is
    parsed by WeasyPrint: ``pdf.write_pages`` puts these bytes in the page's content stream as they are.
    The module size is ``side / (n + 2 * QUIET_ZONE)``, as the former inline SVG drew it."""
    n = len(matrix)
    module = side / (n + 2 * QUIET_ZONE)
    left = x + QUIET_ZONE * module
    top = y - QUIET_ZONE * module
    parts = [b"q 0 g %.6f 0 0 %.6f %.6f %.6f cm" % (module, -module, left, top)]
    for row_number, row in enumerate(matrix):
        for run in _RUNS.finditer(row):
            start, stop = run.span()
            parts.append(b"%d %d %d 1 re" % (start, row_number, stop - start))
    parts.append(b"f Q")
    return b"\n".join(parts)
