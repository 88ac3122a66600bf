"""The server-made SVG histogram: valid XML, escaped text, no inline style, bars in proportion."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from bdg_training.charts import axis_ticks, nice_ceiling, svg_histogram

NS = {"svg": "http://www.w3.org/2000/svg"}


def _bars(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.find("svg:title", NS) is not None]


def test_histogram_is_valid_svg_with_one_bar_per_non_zero_value():
    svg = svg_histogram(["0–<5", "5–10"], [("Đầu vào", [3, 1]), ("Cuối khóa", [0, 4])], title="Phân bố điểm")
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    bars = _bars(svg)
    assert [b.find("svg:title", NS).text for b in bars] == ["Đầu vào — 0–<5: 3", "Đầu vào — 5–10: 1", "Cuối khóa — 5–10: 4"]
    # heights in proportion to the values (axis top 5: 4 → 4/5 of the plot, 1 → 1/5)
    heights = {b.find("svg:title", NS).text: float(b.get("height")) for b in bars}
    assert heights["Cuối khóa — 5–10: 4"] == pytest.approx(4 * heights["Đầu vào — 5–10: 1"])


def test_histogram_escapes_every_text_and_uses_no_style_attribute():
    svg = svg_histogram(['<script>alert("x")</script>'], [("A & B", [1])], title="T <b>", x_label='x"y', y_label="'", chart_id='c"1')
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg and "A &amp; B" in svg
    assert "style=" not in svg
    ET.fromstring(svg)


def test_histogram_all_zero_and_bad_input():
    svg = svg_histogram(["a", "b"], [("S", [0, 0])], title="Trống")
    assert _bars(svg) == []
    assert re.search(r">1</text>", svg)  # axis 0–1
    with pytest.raises(ValueError):
        svg_histogram([], [("S", [])], title="x")
    with pytest.raises(ValueError):
        svg_histogram(["a"], [("S", [1, 2])], title="x")
    with pytest.raises(ValueError):
        svg_histogram(["a"], [("S", [-1])], title="x")


@pytest.mark.parametrize(("value", "top"), [(0, 1), (1, 1), (2, 2), (3, 5), (5, 5), (6, 10), (11, 20), (21, 50), (51, 100), (101, 200)])
def test_nice_ceiling(value, top):
    assert nice_ceiling(value) == top


@pytest.mark.parametrize(
    ("top", "ticks"),
    [(1, [0, 1]), (5, [0, 1, 2, 3, 4, 5]), (10, [0, 2, 4, 6, 8, 10]), (20, [0, 5, 10, 15, 20]), (200, [0, 50, 100, 150, 200])],
)
def test_axis_ticks(top, ticks):
    assert axis_ticks(top) == ticks
