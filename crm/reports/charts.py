"""Geometry for the server-rendered SVG charts (templates/reports/_charts.html draws them).

Only aggregated figures come in here — a few dozen numbers — so plain Python is right.
"""
import math
from dataclasses import dataclass, field


def nice_max(value: float, whole: bool = False) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k at or above `value` (at least 1), a whole number
    if `whole`."""
    if value <= 1:
        return 1
    exp = 10 ** math.floor(math.log10(value))
    return next(step * exp for step in (1, 2, 2.5, 5, 10)
                if step * exp >= value and not (whole and (step * exp) % 1))


def short_number(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}".rstrip("0").rstrip(".") + "k"
    return f"{value:g}"


@dataclass
class Point:
    x: float
    y: float
    value: int
    label: str
    href: str | None = None


@dataclass
class Series:
    name: str
    css: str            # series-1, series-2 … (colour and dash pattern come from CSS)
    points: list = field(default_factory=list)

    @property
    def path(self) -> str:
        return " ".join(f"{'M' if i == 0 else 'L'}{p.x:.1f},{p.y:.1f}"
                        for i, p in enumerate(self.points))


@dataclass
class LineChart:
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    ticks: list          # (y, label)
    xlabels: list        # (x, label) — thinned so they do not collide
    series: list


def line_chart(labels: list[str], series: list[tuple], width: int = 560,
               height: int = 240) -> LineChart:
    """series: [(name, css, values, hrefs)] — values and hrefs per label."""
    left, right, top, bottom = 44, width - 14, 14, height - 30
    highest = max([v for _, _, values, _ in series for v in values] or [0])
    step_value = nice_max(max(highest / 4, 1), whole=True)   # at most four steps
    top_value = step_value * max(1, math.ceil(highest / step_value))
    n = len(labels)
    step = (right - left) / (n - 1) if n > 1 else 0

    def x(i):
        return left + i * step if n > 1 else (left + right) / 2

    def y(v):
        return bottom - (bottom - top) * v / top_value

    ticks = [(y(k * step_value), short_number(k * step_value))
             for k in range(int(round(top_value / step_value)) + 1)]
    every = max(1, math.ceil(n / 8))
    xlabels = [(x(i), label) for i, label in enumerate(labels)
               if i % every == 0 or i == n - 1 and (n - 1) % every >= every / 2]
    out = [Series(name, css, [Point(x(i), y(v), v, labels[i], hrefs[i] if hrefs else None)
                              for i, v in enumerate(values)])
           for name, css, values, hrefs in series]
    return LineChart(width, height, left, top, right, bottom, ticks, xlabels, out)


@dataclass
class Bar:
    """One bar of a bar or funnel chart (laid out down the page) or a column chart (across)."""
    label: str
    value: float
    display: str
    href: str | None
    note: str = ""
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0


@dataclass
class BarChart:
    width: int
    height: int
    label_width: int
    bar_height: int
    bars: list


def _stack(bars: list[Bar], room: float, thinnest: float, zero: float, bar_height: int,
           gap: int) -> int:
    """Lays `bars` out one under another, the largest `room` wide; returns their height."""
    top = max([b.value for b in bars] or [0]) or 1
    for i, bar in enumerate(bars):
        bar.width = max(thinnest, room * bar.value / top) if bar.value else zero
        bar.y = i * (bar_height + gap)
    return max(1, len(bars)) * (bar_height + gap) - gap


def bar_chart(bars: list[Bar], width: int = 480, label_width: int = 112,
              bar_height: int = 24, gap: int = 9) -> BarChart:
    """Horizontal bars, longest = the largest value; room on the right for the longest figure
    ("$2,919,300 · 1303 deals"), at about 8 units a character of the chart's type."""
    room = max(150, 8 * max((len(b.display) for b in bars), default=0) + 12)
    height = _stack(bars, width - label_width - room, 2.0, 0.0, bar_height, gap)
    return BarChart(width, height, label_width, bar_height, bars)


def funnel_chart(steps: list[Bar], width: int = 480, bar_height: int = 26,
                 gap: int = 20) -> BarChart:
    """Centred bars, each as wide as the deals that reached the step; the conversion to the
    next step sits in the gap below."""
    height = _stack(steps, width - 20, 4.0, 4.0, bar_height, gap)
    return BarChart(width, height, 0, bar_height, steps)


@dataclass
class ColumnChart:
    width: int
    height: int
    bottom: int
    column_width: float
    columns: list
    top_label: str


def column_chart(columns: list[Bar], width: int = 320, height: int = 120) -> ColumnChart:
    bottom = height - 22
    top = nice_max(max([c.value for c in columns] or [0]))
    n = max(1, len(columns))
    slot = width / n
    col_width = max(3.0, slot * .62)
    for i, col in enumerate(columns):
        col.height = (bottom - 8) * col.value / top
        col.x = i * slot + (slot - col_width) / 2
        col.y = bottom - col.height
    return ColumnChart(width, height, bottom, col_width, columns, short_number(top))
