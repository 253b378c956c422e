"""Server-rendered SVG bar charts, accessible and without JavaScript.

A chart is an image (``role="img"``) named by its ``<title>`` and described by its
``<desc>`` (``aria-labelledby``); the page always shows the same figures in a table next
to it, so the chart never is the only way to read them. Colours keep a contrast of at
least 3:1 with the white background (WCAG 1.4.11), every bar carries its value as text
and the series always come in the legend's order, so colour is never the only cue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from xml.sax.saxutils import escape

from django.utils.safestring import SafeString, mark_safe

# Contrast with white: 8.6:1, 6.1:1, 6.3:1, 5.3:1.
COLOURS = ("#0b5563", "#8a4f00", "#1b6e2d", "#5f3b8a")
INK = "#1a1a1a"
GRID = "#5f6b73"

WIDTH = 760
LABEL_W = 230
VALUE_W = 130
BAR_H = 18
BAR_GAP = 3
GROUP_GAP = 14
FONT = 13


def _truncate(text: str, limit: int = 32) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _number(value) -> float:
    return 0.0 if value is None else float(value)


def short_euros(value) -> str:
    """An amount at the end of its bar: whole euros, thousands apart (« 12 500 € »), the
    ``fmt`` of every chart of amounts."""
    return f"{round(Decimal(value)):,}".replace(",", "\u202f") + " €"


def bar_chart(
    *,
    uid: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence]],
    fmt: Callable[[object], str] = str,
) -> SafeString:
    """Horizontal bars, one group per label, one bar per series (≤ 4 series).

    ``uid`` makes the ids of ``<title>``/``<desc>`` unique in the page; ``fmt`` turns a
    value into the text written at the end of its bar (``None`` is written « — »)."""
    if not series or len(series) > len(COLOURS):
        raise ValueError("1 to 4 series")
    n_series = len(series)
    legend_h = 30 if n_series > 1 else 0
    group_h = n_series * BAR_H + (n_series - 1) * BAR_GAP
    height = legend_h + 10 + len(labels) * (group_h + GROUP_GAP) + 10
    top = max((_number(v) for _, values in series for v in values), default=0.0)
    scale = (WIDTH - LABEL_W - VALUE_W) / top if top > 0 else 0.0

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-labelledby="{uid}-titre {uid}-desc" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" font-family="Arial, sans-serif" '
        f'font-size="{FONT}">',
        f'<title id="{uid}-titre">{escape(title)}</title>',
        f'<desc id="{uid}-desc">{escape(desc)}</desc>',
    ]
    if n_series > 1:
        out += _legend(series)
    y = legend_h + 10
    out.append(
        f'<line x1="{LABEL_W}" y1="{y - 4}" x2="{LABEL_W}" y2="{height - 6}" '
        f'stroke="{GRID}" stroke-width="1"/>'
    )
    for row, label in enumerate(labels):
        out.append(
            f'<text x="{LABEL_W - 8}" y="{y + group_h / 2 + FONT / 3:.1f}" '
            f'text-anchor="end" fill="{INK}">{escape(_truncate(label))}</text>'
        )
        out += _bars(series, row, y, scale, fmt)
        y += group_h + GROUP_GAP
    out.append("</svg>")
    return mark_safe("".join(out))  # every text above is escaped


def _legend(series) -> list[str]:
    """A swatch and the name of each series, in their order, above the bars."""
    out, x = [], LABEL_W
    for i, (name, _) in enumerate(series):
        out.append(
            f'<rect x="{x}" y="8" width="14" height="14" fill="{COLOURS[i]}"/>'
            f'<text x="{x + 20}" y="20" fill="{INK}">{escape(name)}</text>'
        )
        x += 30 + 8 * len(name)
    return out


def _bars(series, row: int, y: float, scale: float, fmt) -> list[str]:
    """The bars of one label's group, from ``y`` down, each with its value as text."""
    out = []
    for i, (_, values) in enumerate(series):
        value = values[row] if row < len(values) else None
        w = max(_number(value) * scale, 0.0)
        by = y + i * (BAR_H + BAR_GAP)
        if w > 0:
            out.append(
                f'<rect x="{LABEL_W}" y="{by}" width="{w:.1f}" height="{BAR_H}" '
                f'fill="{COLOURS[i]}"/>'
            )
        text = "—" if value is None else fmt(value)
        out.append(
            f'<text x="{LABEL_W + w + 6:.1f}" y="{by + BAR_H - 4}" fill="{INK}">'
            f"{escape(text)}</text>"
        )
    return out
