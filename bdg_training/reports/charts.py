"""Server-made SVG charts of the reports: the same picture on screen and in the PDF.

Plain SVG with presentation attributes only (``fill``, ``font-size`` …: no ``style`` attribute, no script), so
the Content-Security-Policy allows it inline and WeasyPrint draws it. Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from bdg_training.charts import PALETTE

# The colour-blind-safe pair of bdg_training.charts (Okabe–Ito blue and vermillion).
MALE_COLOUR, FEMALE_COLOUR = PALETTE[0], PALETTE[1]
AXIS_COLOUR = "#6c757d"
MAX_LABEL_CHARS = 32
# The PDF's font (Liberation Serif, metric-compatible with Times New Roman), so the chart reads the same on screen.
FONT_FAMILY = "Liberation Serif, Times New Roman, serif"


def _short(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _fmt(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def sex_bar_chart(title: str, rows: Sequence[tuple[str, int, int]], *, width: int = 640) -> Markup:
    """Horizontal grouped bars, nam and nữ for each ``(label, nam, nu)`` row, with the values printed.

    An empty ``rows`` (or all zeros) gives a small chart saying there is no data.
    """
    label_width = 250
    bar_area = width - label_width - 50
    row_height, bar_height, top = 40, 15, 50
    height = top + max(len(rows), 1) * row_height + 8
    biggest = max([max(nam, nu) for _, nam, nu in rows] + [0])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" font-family="{FONT_FAMILY}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="17" font-size="15" font-weight="bold" fill="#212529">{escape(_short(title, 84))}</text>',
        f'<rect x="{label_width}" y="29" width="14" height="12" fill="{MALE_COLOUR}"/>',
        f'<text x="{label_width + 19}" y="40" font-size="13" fill="#212529">Nam</text>',
        f'<rect x="{label_width + 66}" y="29" width="14" height="12" fill="{FEMALE_COLOUR}"/>',
        f'<text x="{label_width + 85}" y="40" font-size="13" fill="#212529">Nữ</text>',
    ]
    if not rows or biggest == 0:
        parts.append(f'<text x="0" y="{top + 18}" font-size="14" fill="{AXIS_COLOUR}">Chưa có số liệu.</text>')
    else:
        for i, (label, nam, nu) in enumerate(rows):
            y = top + i * row_height
            parts.append(
                f'<text x="{label_width - 8}" y="{y + bar_height + 5}" font-size="13" text-anchor="end" fill="#212529">'
                f"<title>{escape(label)}</title>{escape(_short(label))}</text>"
            )
            for j, (value, colour) in enumerate(((nam, MALE_COLOUR), (nu, FEMALE_COLOUR))):
                bar_y = y + j * (bar_height + 2)
                bar_w = round(bar_area * value / biggest, 1) if value else 0
                parts.append(f'<rect x="{label_width}" y="{bar_y}" width="{bar_w}" height="{bar_height}" fill="{colour}"/>')
                parts.append(
                    f'<text x="{label_width + bar_w + 4}" y="{bar_y + bar_height - 3}" font-size="12" fill="#212529">{_fmt(value)}</text>'
                )
        parts.append(
            f'<line x1="{label_width}" y1="{top - 4}" x2="{label_width}" y2="{height - 6}" stroke="{AXIS_COLOUR}" stroke-width="1"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def breakdown_chart(breakdown, measure: str = "participations") -> Markup:
    """The nam/nữ chart of one breakdown (``measure``: participations or persons)."""
    titles = {"participations": "lượt người", "persons": "số người"}
    rows = [(row.label, getattr(row, measure).nam, getattr(row, measure).nu) for row in breakdown.rows]
    return sex_bar_chart(f"{breakdown.label} — {titles[measure]} theo giới tính", rows)


def headline_chart(board) -> Markup:
    rows = [("Lượt người", board.participations.nam, board.participations.nu), ("Người", board.persons.nam, board.persons.nu)]
    if board.certificates_available:
        rows.append(("Giấy chứng nhận", board.certificates.nam, board.certificates.nu))
    return sex_bar_chart("Tổng hợp theo giới tính", rows)
