"""The dashboard's charts with their drill-down links (needs a request: links use url_for)."""
from urllib.parse import urlencode

from flask import g, url_for

from crm.core.money import money
from crm.reports.charts import Bar, bar_chart, column_chart, funnel_chart, line_chart


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def drill_url(f, kind, **params):
    """A drill-down list's URL for the dashboard filters `f` plus the list's own parameters.
    Each kind's path is built once per request: the dashboard has about two hundred of these
    links, and `url_for` costs tens of microseconds a call."""
    paths = g.setdefault("drill_paths", {})
    if kind not in paths:
        paths[kind] = url_for("reports.drill", kind=kind)
    args = {**f.filter_args(), **{k: v for k, v in params.items() if v is not None}}
    return paths[kind] + ("?" + urlencode(args) if args else "")


def trend_chart(d):
    points = d.dms.trend

    def per_period(**params):
        return [drill_url(d.filters, "messages", **params, period=i) for i in range(len(points))]

    series = [
        ("DMs sent", "series-1", [p.sent for p in points], per_period(direction="out")),
        ("DMs received", "series-2", [p.received for p in points], per_period(direction="in")),
        ("Sent DMs that got a reply", "series-3", [p.replied for p in points],
         per_period(direction="out", replied=1)),
    ]
    return line_chart([p.label for p in points], series)


def stage_value_chart(d, block):
    f, cur = d.filters, d.pipeline.currency
    bars = []
    for row in block.stages:
        value = row.open_value.get(cur, 0)
        deals = f"{row.open_count} deal{'' if row.open_count == 1 else 's'}"
        bars.append(Bar(row.stage.name[:16], value, f"{money(value, cur)} · {deals}",
                        drill_url(f, "deals", view="open", stage=row.stage.id)))
    return bar_chart(bars)


def funnel(d, block):
    steps = [Bar(row.stage.name, row.reached or 0, f"{row.reached or 0}",
                 drill_url(d.filters, "deals", view="reached", stage=row.stage.id),
                 note=_pct(row.conversion)) for row in block.funnel]
    steps.append(Bar("Won", block.won_reached, f"{block.won_reached}",
                     drill_url(d.filters, "deals", view="reached", won=1)))
    return funnel_chart(steps)


def opt_out_chart(d):
    f = d.filters
    columns = [Bar(p.label, n, f"{n}", drill_url(f, "opt-outs", period=i))
               for i, (p, n) in enumerate(zip(d.periods, d.consent.opt_outs_by_period))]
    return column_chart(columns)


def charts_for(d) -> dict:
    return {"trend": trend_chart(d), "opt_outs": opt_out_chart(d),
            "stage_values": {b.pipeline.id: stage_value_chart(d, b) for b in d.pipeline.blocks},
            "funnels": {b.pipeline.id: funnel(d, b) for b in d.pipeline.blocks}}
