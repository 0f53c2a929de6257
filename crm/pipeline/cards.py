"""A deal's card on the board, as a plain function (registered as the template global
`deal_card`, see crm.web).

It was a Jinja macro: 48 cards a board, each with some twenty escaped values, a dozen
filter and method calls through Jinja's call wrapper and forty attribute look-ups, cost
about 4 ms a page; this writes the same markup in about a quarter of that. Every value from
the database goes through `escape`.
"""
from markupsafe import Markup, escape

from crm.core.badges import last_dm_text, platform_chip
from crm.core.money import money
from crm.core.timeutil import local, utcnow

_NO_NEXT_STEP = Markup('<span class="badge badge-warn" title="Add a next step or a task so '
                       'this deal does not stall">No next step</span>')


def deal_cards(cards, task_now, links, tz: str | None = None) -> Markup:
    """The cards of a column (or of a page of it), newest first."""
    if tz is None:
        from crm.web import viewer_timezone
        tz = viewer_timezone()
    now = utcnow()
    return Markup("").join(deal_card(card, task_now, links, tz, now) for card in cards)


def deal_card(card, task_now, links, tz: str | None = None, now=None) -> Markup:
    """One deal's card: title, contact and handle, value, time in stage, last DM, the next
    task (or next step), owner, campaign, and the Move button that submits its column's
    stage menu to this deal's own URL with its version."""
    if tz is None:
        from crm.web import viewer_timezone
        tz = viewer_timezone()
    deal, handle = card.deal, card.deal.handle
    title = escape(deal.title)
    days = deal.seconds_in_stage(now) // 86400
    name = escape(deal.contact_name)
    contact = (platform_chip(deal.platform) if deal.platform else "",
               f'<a href="{links.contact(deal.contact_id)}">{name}</a>' if card.contact_visible
               else f'<span>{name}</span>',
               f'<span class="muted">{escape(handle.display)}</span>'
               if handle and handle.platform == deal.platform else "")
    task = card.next_task
    if task:
        late = " is-late" if task.due_at < task_now else ""
        nxt = (f'<span class="next-task{late}">☐ {escape(task.title)} · '
               f'{local(task.due_at, tz).strftime("%d %b")}</span>')
    elif deal.next_step:
        on = f' · {deal.next_step_on.strftime("%d %b")}' if deal.next_step_on else ""
        nxt = f'<span class="next-step">→ {escape(deal.next_step)}{on}</span>'
    else:
        nxt = _NO_NEXT_STEP
    foot = []
    if deal.owner_name:
        owner = escape(deal.owner_name)
        foot.append(f'<span class="avatar" title="Owner: {owner}" aria-label="Owner: {owner}">'
                    f'{escape(deal.owner_name[:1])}</span>')
    if deal.campaign_name:
        foot.append(f'<span class="tag" title="Campaign">{escape(deal.campaign_name)}</span>')
    entered = local(deal.stage_entered_at, tz).strftime("%d %b %Y, %H:%M")
    return Markup(
        f'<article class="deal-card{" needs-step" if card.needs_next_step else ""}" '
        f'id="deal-{deal.id}" data-deal="{deal.id}" data-version="{deal.version}" '
        f'aria-label="{title}">\n'
        f'  <a class="deal-card-title" href="{links.deal(deal.id)}">{title}</a>\n'
        f'  <p class="deal-card-contact">\n    {"".join(contact[:2])}\n    {contact[2]}\n  </p>\n'
        f'  <p class="deal-card-meta"><strong class="deal-value">'
        f'{escape(money(deal.value_minor, deal.currency))}</strong>\n'
        f'    <span class="muted" title="Entered {entered}">· '
        f'{"today" if days == 0 else f"{days} d"} in stage</span></p>\n'
        f'  <p class="deal-card-dm">{last_dm_text(card.last_dm) if card.contact_visible else ""}'
        f'</p>\n'
        f'  <p class="deal-card-next">\n    {nxt}\n  </p>\n'
        f'  <div class="deal-card-foot">\n    {"".join(foot)}\n'
        f'    <button class="btn btn-sm card-move" type="submit" form="move-{deal.stage_id}" '
        f'formaction="{links.move(deal.id)}" name="version" value="{deal.version}" '
        f'aria-label="Move {title}">Move</button>\n  </div>\n</article>\n')
