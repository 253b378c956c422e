"""The treasury forecast as a server-rendered SVG line chart (issue 13), for the page and
its PDF: the cumulative balance month by month at the median (p50, a solid line with round
markers) and at the 80th percentile (p80, a dashed line with square markers), the zero
line, and each trough marked and written out. A pure function of the ``Forecast``.

The chart is an image (``role="img"``) named by its ``<title>`` and described by its
``<desc>`` (which states both troughs in words); the page shows the same figures in a
table beside it. Line styles and marker shapes tell the series apart, never colour alone;
the colours keep a contrast of at least 3:1 with white (WCAG 1.4.11).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from django.utils.safestring import SafeString, mark_safe

from cases.rules import euros

MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
MONTHS_SHORT = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)

P50 = "#0b5563"  # 8.6:1 on white
P80 = "#8a4f00"  # 6.1:1
INK = "#1a1a1a"
GRID = "#5f6b73"
ZERO_LINE = "#b3261e"  # 5.9:1

WIDTH = 760
HEIGHT = 360
LEFT = 96  # room for the amounts of the vertical axis
RIGHT = 16
TOP = 44  # room for the legend
BOTTOM = 48
FONT = 12


def month_label(day, short: bool = False) -> str:
    """« mars 2027 » (or « mars 27 » short), whatever the active language."""
    if short:
        return f"{MONTHS_SHORT[day.month - 1]} {day:%y}"
    return f"{MONTHS_FR[day.month - 1]} {day.year}"


def _nice_step(span: float) -> float:
    """A round step (1, 2 or 5 × 10^n) giving about five intervals over ``span``."""
    if span <= 0:
        return 1000.0
    raw = span / 5
    power = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


def _axis_amount(value: float) -> str:
    """A short amount for an axis tick: « 25 000 € », « −1,2 M€ »."""
    sign = "−" if value < 0 else ""
    value = abs(value)
    if value >= 1_000_000:
        text = f"{value / 1_000_000:.1f}".replace(".", ",").replace(",0", "")
        return f"{sign}{text} M€"
    whole = f"{int(round(value)):,}".replace(",", "\u202f")
    return f"{sign}{whole} €"


def trough_sentence(trough, label: str) -> str:
    if trough is None:
        return ""
    balance = trough.balance
    where = "au-dessous de zéro" if balance < 0 else "au-dessus de zéro"
    return (
        f"Point bas {label} : {euros(balance)} en {month_label(trough.month)} "
        f"({euros(abs(balance))} {where})."
    )


def forecast_chart(forecast, *, uid: str = "tresorerie") -> SafeString:
    # long: the SVG chart drawn in one pass: scales, axes, both lines, the zero line, the troughs and their labels
    """The SVG of the forecast's balances; an empty string when it has no month."""
    rows = forecast.months
    if not rows:
        return mark_safe("")
    values = [float(r.balance_p50) for r in rows] + [float(r.balance_p80) for r in rows] + [0.0]
    low, high = min(values), max(values)
    step = _nice_step(high - low)
    low = step * (low // step)
    high = step * -(-high // step)
    if high == low:
        high = low + step
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    n = len(rows)
    dx = plot_w / max(1, n - 1) if n > 1 else 0.0

    def x(i: int) -> float:
        return LEFT + (i * dx if n > 1 else plot_w / 2)

    def y(value) -> float:
        return TOP + (high - float(value)) / (high - low) * plot_h

    first, last = month_label(rows[0].month), month_label(rows[-1].month)
    title = f"Solde de trésorerie prévu, de {first} à {last}"
    desc = " ".join(
        s
        for s in (
            "Solde cumulé mois par mois depuis la trésorerie déclarée, au délai médian "
            "(trait plein, points ronds) et au 80e centile des délais de paiement "
            "(tirets, points carrés) ; une ligne marque zéro.",
            trough_sentence(forecast.trough_p50, "au délai médian"),
            trough_sentence(forecast.trough_p80, "au 80e centile"),
            "Les mêmes chiffres sont dans le tableau qui suit.",
        )
        if s
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart treasury-chart" role="img" '
        f'aria-labelledby="{uid}-titre {uid}-desc" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" font-family="Arial, sans-serif" '
        f'font-size="{FONT}">',
        f'<title id="{uid}-titre">{escape(title)}</title>',
        f'<desc id="{uid}-desc">{escape(desc)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    # Legend: a line sample and its marker, then the words.
    out += [
        f'<line x1="{LEFT}" y1="16" x2="{LEFT + 36}" y2="16" stroke="{P50}" stroke-width="3"/>',
        f'<circle cx="{LEFT + 18}" cy="16" r="4" fill="{P50}"/>',
        f'<text x="{LEFT + 44}" y="20" fill="{INK}">Délai médian (p50)</text>',
        f'<line x1="{LEFT + 210}" y1="16" x2="{LEFT + 246}" y2="16" stroke="{P80}" '
        f'stroke-width="3" stroke-dasharray="8 5"/>',
        f'<rect x="{LEFT + 224}" y="12" width="8" height="8" fill="{P80}"/>',
        f'<text x="{LEFT + 254}" y="20" fill="{INK}">80e centile (p80)</text>',
        f'<line x1="{LEFT + 410}" y1="16" x2="{LEFT + 446}" y2="16" stroke="{ZERO_LINE}" '
        f'stroke-width="2" stroke-dasharray="2 3"/>',
        f'<text x="{LEFT + 454}" y="20" fill="{INK}">Zéro</text>',
    ]
    # Horizontal grid and amounts.
    tick = low
    while tick <= high + step / 2:
        ty = y(tick)
        out.append(
            f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{WIDTH - RIGHT}" y2="{ty:.1f}" '
            f'stroke="{GRID}" stroke-width="0.5" stroke-opacity="0.5"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{ty + FONT / 3:.1f}" text-anchor="end" fill="{INK}">'
            f"{escape(_axis_amount(tick))}</text>"
        )
        tick += step
    out.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="{GRID}"/>')
    # Month labels: at most about twelve, from the first one.
    every = max(1, -(-n // 12))
    for i, row in enumerate(rows):
        if i % every:
            continue
        out.append(
            f'<text x="{x(i):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle" '
            f'fill="{INK}">{escape(month_label(row.month, short=True))}</text>'
        )
    # The zero line.
    zy = y(0)
    out.append(
        f'<line x1="{LEFT}" y1="{zy:.1f}" x2="{WIDTH - RIGHT}" y2="{zy:.1f}" '
        f'stroke="{ZERO_LINE}" stroke-width="2" stroke-dasharray="2 3"/>'
    )
    # The two series.
    for name, colour, dash in (("balance_p80", P80, "8 5"), ("balance_p50", P50, "")):
        points = " ".join(f"{x(i):.1f},{y(getattr(r, name)):.1f}" for i, r in enumerate(rows))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" '
            f'stroke-width="2.5"{dash_attr}/>'
        )
        for i, r in enumerate(rows):
            cx, cy = x(i), y(getattr(r, name))
            if name == "balance_p50":
                out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.5" fill="{colour}"/>')
            else:
                out.append(
                    f'<rect x="{cx - 3.5:.1f}" y="{cy - 3.5:.1f}" width="7" height="7" '
                    f'fill="{colour}"/>'
                )
    # The troughs: a ring around the point and its amount written beside it.
    index = {r.month: i for i, r in enumerate(rows)}
    for trough, colour, label, offset in (
        (forecast.trough_p50, P50, "p50", -14),
        (forecast.trough_p80, P80, "p80", 26),
    ):
        if trough is None or trough.month not in index:
            continue
        i = index[trough.month]
        cx, cy = x(i), y(trough.balance)
        anchor = "end" if cx > LEFT + plot_w * 0.7 else "start"
        tx = cx - 10 if anchor == "end" else cx + 10
        ty = min(max(cy + offset, TOP + FONT), TOP + plot_h - 4)
        out.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="9" fill="none" stroke="{INK}" '
            f'stroke-width="2"/>'
        )
        text = f"Point bas {label} : {euros(trough.balance)}"
        box_w = round(len(text) * 6.4) + 8  # about 6.4 px a character at 12 px, bold
        box_x = tx - box_w + 4 if anchor == "end" else tx - 4
        out.append(
            f'<rect x="{box_x:.1f}" y="{ty - FONT:.1f}" width="{box_w}" height="{FONT + 5}" '
            f'fill="#ffffff" fill-opacity="0.9" stroke="{colour}" rx="3"/>'
        )
        out.append(
            f'<text x="{tx:.1f}" y="{ty:.1f}" text-anchor="{anchor}" fill="{INK}" '
            f'font-weight="bold">{escape(text)}</text>'
        )
    out.append("</svg>")
    return mark_safe("".join(out))
