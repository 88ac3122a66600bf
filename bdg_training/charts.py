"""Server-made SVG charts: the same picture on a page and in a PDF report, without JavaScript.

Pure (no Flask): functions take plain numbers and labels and return an SVG string. Every piece of text
is XML-escaped, so labels typed by users are safe to embed. No ``style`` attributes (the
Content-Security-Policy refuses inline styles): colours and fonts are SVG presentation attributes
(``fill=``, ``font-size=``), which CSP allows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

# Colour-blind-safe pair (Okabe–Ito blue and vermillion), then more of the same palette.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
TEXT_COLOUR = "#212529"
GRID_COLOUR = "#dee2e6"


def _t(value: object) -> str:
    """XML-escaped text for element content and attribute values."""
    return escape(str(value), quote=True)


def _num(x: float) -> str:
    """A coordinate with at most 2 decimals and no trailing zeros."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def nice_ceiling(value: float) -> int:
    """The axis top: the smallest of 1, 2, 5 × 10^k (k ≥ 0) that is ≥ ``value``; at least 1."""
    if value <= 1:
        return 1
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * exponent >= value:
            return int(step * exponent)
    return int(10 * exponent)  # pragma: no cover


def axis_ticks(top: int, max_ticks: int = 5) -> list[int]:
    """Whole-number ticks from 0 to ``top`` with a step of 1, 2 or 5 × 10^k, at most ``max_ticks`` + 1 ticks."""
    exponent = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * exponent
            if top / step <= max_ticks:
                return list(range(0, top + 1, step))
        exponent *= 10


def svg_histogram(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[int | float]]],
    *,
    title: str,
    x_label: str = "",
    y_label: str = "",
    width: int = 640,
    height: int = 320,
    colours: Sequence[str] = PALETTE,
    chart_id: str = "chart",
) -> str:
    """Grouped bar chart (histogram) of one or more series over the same ``categories``.

    ``series`` is ``[(name, [count per category]), …]``; each list must have one value per category
    (``ValueError`` otherwise) and no negative value. Bars of a category sit side by side, in series
    order, each series in its own colour with a legend. Every bar has a ``<title>`` (its exact value) for
    screen readers and tooltips; the chart is ``role="img"`` with the title as its accessible name
    (``chart_id`` keeps the title's id unique when a page shows several charts).
    An all-zero chart is still drawn (axis 0–1).
    """
    if not categories:
        raise ValueError("a histogram needs at least one category")
    for name, values in series:
        if len(values) != len(categories):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(categories)} categories")
        if any(v < 0 for v in values):
            raise ValueError(f"series {name!r} has a negative value")

    left, right, top, bottom = 48, 12, 40, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for _, values in series for v in values), default=0)
    y_top = nice_ceiling(peak)
    ticks = axis_ticks(y_top)
    group_w = plot_w / len(categories)
    n_series = max(len(series), 1)
    bar_w = group_w * 0.8 / n_series

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / y_top

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="{_t(chart_id)}-title" font-family="system-ui, sans-serif" font-size="12" class="chart">',
        f'<title id="{_t(chart_id)}-title">{_t(title)}</title>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    # Horizontal grid lines and y tick labels.
    for tick in ticks:
        ty = _num(y(tick))
        out.append(f'<line x1="{left}" y1="{ty}" x2="{width - right}" y2="{ty}" stroke="{GRID_COLOUR}" stroke-width="1"/>')
        out.append(f'<text x="{left - 6}" y="{ty}" text-anchor="end" dominant-baseline="middle" fill="{TEXT_COLOUR}">{tick}</text>')
    # Bars.
    for s_index, (name, values) in enumerate(series):
        colour = colours[s_index % len(colours)]
        for c_index, value in enumerate(values):
            if value <= 0:
                continue
            x = left + c_index * group_w + group_w * 0.1 + s_index * bar_w
            bar_top = y(value)
            out.append(
                f'<rect x="{_num(x)}" y="{_num(bar_top)}" width="{_num(bar_w)}" height="{_num(top + plot_h - bar_top)}" fill="{_t(colour)}">'
                f"<title>{_t(name)} — {_t(categories[c_index])}: {_t(_num(value))}</title></rect>"
            )
    # Axes and category labels.
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="{TEXT_COLOUR}" stroke-width="1"/>')
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="{TEXT_COLOUR}" stroke-width="1"/>')
    for c_index, label in enumerate(categories):
        cx = _num(left + c_index * group_w + group_w / 2)
        out.append(f'<text x="{cx}" y="{top + plot_h + 16}" text-anchor="middle" fill="{TEXT_COLOUR}">{_t(label)}</text>')
    if x_label:
        out.append(f'<text x="{_num(left + plot_w / 2)}" y="{height - 8}" text-anchor="middle" fill="{TEXT_COLOUR}">{_t(x_label)}</text>')
    if y_label:
        out.append(
            f'<text x="12" y="{_num(top + plot_h / 2)}" text-anchor="middle" fill="{TEXT_COLOUR}" '
            f'transform="rotate(-90 12 {_num(top + plot_h / 2)})">{_t(y_label)}</text>'
        )
    # Legend, top left.
    lx = left
    for s_index, (name, _) in enumerate(series):
        colour = colours[s_index % len(colours)]
        out.append(f'<rect x="{lx}" y="12" width="14" height="14" fill="{_t(colour)}"/>')
        out.append(f'<text x="{lx + 20}" y="19" dominant-baseline="middle" fill="{TEXT_COLOUR}">{_t(name)}</text>')
        lx += 28 + 8 * len(name)
    out.append("</svg>")
    return "".join(out)
