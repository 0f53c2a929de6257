"""Each dashboard table as CSV rows (the same figures the page shows, unrounded)."""
import csv
import io

from crm.core.timeutil import local

def _cell(value):
    """Numbers as they are; text that a spreadsheet would run as a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _currencies(*amounts) -> list[str]:
    return sorted({cur for a in amounts for cur in a})


def summary(d):
    p, m, w, c = d.pipeline, d.dms, d.work, d.consent
    rows = [("Range", d.filters.range_label), ("Open deals", p.open_count)]
    rows += [(f"Open value ({cur})", v / 100) for cur, v in p.open_value.items_sorted]
    rows += [("Deals won", p.won_count)]
    rows += [(f"Won value ({cur})", v / 100) for cur, v in p.won_value.items_sorted]
    rows += [("Deals lost", p.lost_count), ("Win rate", p.win_rate),
             ("Average days to close (won)", p.avg_days_to_close),
             ("Open deals with no next step", p.no_next_step),
             ("DMs sent", m.sent), ("DMs received", m.received),
             ("Sent DMs that got a reply", m.replied), ("Reply rate", m.reply_rate),
             ("Median first response (seconds)", m.median),
             ("90th percentile first response (seconds)", m.p90),
             (f"Answered within {m.target_hours} h (share)", m.within_target_share),
             ("Conversations needing a reply now", m.needs_reply),
             (f"Waiting more than {m.target_hours} h", m.needs_reply_over_target),
             ("Tasks overdue", w.overdue), ("Tasks completed", w.done),
             ("Automatic follow-ups created", w.follow_ups),
             ("Follow-ups followed by a reply", w.follow_ups_replied),
             ("Opt-outs", c.opt_outs), ("Outreach refused", c.refusals),
             ("Consent unknown, DMed in range", c.unknown_in_outreach)]
    return ["Figure", "Value"], rows


def stages(d):
    blocks = d.pipeline.blocks
    curs = _currencies(*[r.open_value for b in blocks for r in b.stages])
    head = ["Pipeline", "Stage", "Open deals", *[f"Open value ({c})" for c in curs],
            "Reached (deals opened in range)", "Went on to next step",
            "Left the stage in range", "Average days in stage"]
    rows = []
    for b in blocks:
        for r in b.stages:
            rows.append([b.pipeline.name, r.stage.name, r.open_count,
                         *[r.open_value.get(c, 0) / 100 for c in curs], r.reached, r.conversion,
                         r.moves_out, r.avg_seconds / 86400 if r.avg_seconds is not None else None])
        rows.append([b.pipeline.name, "Won", "", *["" for _ in curs], b.won_reached, "", "", ""])
    return head, rows


def leaderboard(d):
    curs = _currencies(*[r.won for r in d.leaderboard])
    head = ["Person", "DMs sent", "Replies", "Reply rate", "Median first response (seconds)",
            *[f"Won value ({c})" for c in curs]]
    rows = [[r.user.name, r.sent, r.replied, r.reply_rate, r.median_response,
             *[r.won.get(c, 0) / 100 for c in curs]] for r in d.leaderboard]
    return head, rows


def _sent_replies(label, rows):
    return [label, "DMs sent", "Replies", "Reply rate"], [
        [name, v.sent, v.replied, v.rate] for name, _, v in rows]


def trend(d):
    head = ["Period starting", "DMs sent", "DMs received", "Sent DMs that got a reply"]
    return head, [[local(p.start, d.filters.tz).date().isoformat(), p.sent, p.received, p.replied]
                  for p in d.dms.trend]


def opt_outs(d):
    return ["Period starting", "Opt-outs"], [
        [local(p.start, d.filters.tz).date().isoformat(), n]
        for p, n in zip(d.periods, d.consent.opt_outs_by_period)]


TABLES = {"summary": summary, "stages": stages, "leaderboard": leaderboard,
          "dm-reps": lambda d: _sent_replies("Person", d.rep_rows),
          "dm-platforms": lambda d: _sent_replies("Platform", d.platform_rows),
          "dm-templates": lambda d: _sent_replies("Template", d.template_rows),
          "trend": trend, "opt-outs": opt_outs,
          "work": lambda d: (["Person", "Tasks overdue", "Tasks completed"],
                             [[name, overdue, done] for name, _, overdue, done in d.work_rows]),
          "opt-out-sources": lambda d: (["Source", "Opt-outs"], d.consent.sources),
          "refusals": lambda d: (["Refused action", "Attempts"], d.consent.refusals_by_action)}


def to_csv(table: str, dashboard) -> str:
    head, rows = TABLES[table](dashboard)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(head)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return out.getvalue()
