"""Drill-down lists: the records behind a dashboard number, where no existing list page has
the filter it needs. Each list applies the same scope as the figure it explains, is ordered
on an index and paged by keyset; what the rows show is eager-loaded."""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from crm.audit.models import AuditEvent
from crm.contacts.models import ConsentEvent, Contact
from crm.conversations.models import (INBOUND, NEEDS_REPLY, OUTBOUND, Conversation, Message,
                                      ResponseTime)
from crm.core.timeutil import utcnow
from crm.core.forms import int_or_none
from crm.extensions import db
from crm.pipeline.models import LOST, OPEN, WON, Deal, Stage, StageChange
from crm.reports import consent_figures as consent
from crm.reports.pipeline_figures import no_next_step_where, opened_in_range
from crm.settings import services as settings
from crm.tasks.models import Task
from crm.tasks.services import day_bounds

PAGE = 50


class UnknownDrill(Exception):
    """No such list, or a parameter it cannot take (the view answers 404)."""


@dataclass
class DrillPage:
    kind: str
    title: str
    rows: list
    next_cursor: str | None
    params: dict = field(default_factory=dict)   # the list's own parameters, for links
    first: bool = True


def _period(filters, args):
    """(start, end) of ?period=<i> within the range, or the whole range."""
    periods = filters.periods()
    i = int_or_none(args.get("period"))
    if i is None or i < 0:
        return filters.start, filters.end, None
    if i >= len(periods):
        raise UnknownDrill("period")
    return periods[i].start, periods[i].end, periods[i].label


def _page(stmt, order_col, id_col, cursor, *, desc=True):
    """One page of `stmt` ordered by (order_col, id) after `cursor` ("iso~id" or "num~id"),
    and the next page's cursor (None on the last page)."""
    if cursor:
        try:
            raw, _, ident = cursor.rpartition("~")
            value = datetime.fromisoformat(raw) if "T" in raw or "-" in raw else int(raw)
            ident = int(ident)
        except ValueError:
            raise UnknownDrill("after")
        after = (or_(order_col < value, and_(order_col == value, id_col < ident)) if desc else
                 or_(order_col > value, and_(order_col == value, id_col > ident)))
        stmt = stmt.where(after)
    order = (order_col.desc(), id_col.desc()) if desc else (order_col.asc(), id_col.asc())
    result = db.session.execute(stmt.order_by(*order).limit(PAGE + 1)).unique()
    single = len(stmt.column_descriptions) == 1   # one entity, else (entity, joined record)
    rows = result.scalars().all() if single else result.all()
    if len(rows) <= PAGE:
        return rows, None
    last = rows[PAGE - 1] if single else rows[PAGE - 1][0]
    value = getattr(last, order_col.key)
    value = value.isoformat() if isinstance(value, datetime) else value
    return rows[:PAGE], f"{value}~{getattr(last, id_col.key)}"


def _with_contact(path, *more):
    """`path` to a contact eager-loaded without the tags and handles no list shows."""
    return path.options(*more, lazyload(Contact.tags), lazyload(Contact.handles))


# Deals -----------------------------------------------------------------------------------
def deals(scope, filters, args, cursor):
    stmt = select(Deal).where(*scope.deal_where())
    stage = db.session.get(Stage, int_or_none(args["stage"]) or 0) if args.get("stage") else None
    if args.get("stage") and stage is None:
        raise UnknownDrill("stage")
    view = args.get("view", "open")
    params = {"view": view}
    if view == "open":
        stmt = stmt.where(Deal.outcome == OPEN)
        title = "Open deals"
        if stage is not None:
            stmt = stmt.where(Deal.stage_id == stage.id)
            title = f"Open deals in {stage.name}"
    elif view in (WON, LOST):
        stmt = stmt.where(Deal.outcome == view, Deal.closed_at >= scope.start,
                          Deal.closed_at < scope.end)
        title = f"Deals {view} {filters.range_label}"
    elif view == "no_next_step":
        stmt = stmt.where(*no_next_step_where())
        title = "Open deals with no next step"
    elif view == "reached":
        stmt = stmt.where(Deal.id.in_(opened_in_range(scope)))
        reached = select(StageChange.deal_id).join(Stage, Stage.id == StageChange.to_stage_id)
        if args.get("won") == "1":
            stmt = stmt.where(Deal.id.in_(reached.where(Stage.outcome == WON)))
            title = f"Deals opened {filters.range_label} that were won"
            params["won"] = "1"
        elif stage is not None:
            stmt = stmt.where(Deal.id.in_(reached.where(
                Stage.pipeline_id == stage.pipeline_id,
                or_(Stage.outcome == WON,
                    and_(Stage.outcome == OPEN, Stage.position >= stage.position)))))
            title = f"Deals opened {filters.range_label} that reached {stage.name}"
        else:
            title = f"Deals opened {filters.range_label}"
    elif view == "moved_out" and stage is not None:
        moved = select(StageChange.deal_id).where(
            StageChange.from_stage_id == stage.id, StageChange.at >= scope.start,
            StageChange.at < scope.end)
        stmt = stmt.where(Deal.id.in_(moved))
        title = f"Deals that left {stage.name} {filters.range_label}"
    else:
        raise UnknownDrill("view")
    if stage is not None:
        params["stage"] = stage.id
    stmt = stmt.options(_with_contact(joinedload(Deal.contact)), joinedload(Deal.campaign))
    rows, nxt = _page(stmt, Deal.id, Deal.id, cursor)
    return title, rows, nxt, params


# Messages --------------------------------------------------------------------------------
def messages(scope, filters, args, cursor):
    start, end, label = _period(filters, args)
    direction = args.get("direction", OUTBOUND)
    if direction not in (INBOUND, OUTBOUND):
        raise UnknownDrill("direction")
    stmt = select(Message).where(Message.direction == direction, Message.sent_at >= start,
                                 Message.sent_at < end, Message.deleted_at.is_(None),
                                 *scope.in_conversations(Message.conversation_id))
    params = {"direction": direction}
    words = ["DMs sent" if direction == OUTBOUND else "DMs received"]
    if args.get("replied") in ("0", "1"):
        stmt = stmt.where(Message.replied_at.is_not(None) if args["replied"] == "1"
                          else Message.replied_at.is_(None))
        words.append("that got a reply" if args["replied"] == "1" else "with no reply yet")
        params["replied"] = args["replied"]
    for name, column in (("author", Message.author_id), ("template", Message.template_id)):
        if int_or_none(args.get(name)) is not None:
            stmt = stmt.where(column == int(args[name]))
            params[name] = args[name]
    if args.get("on"):
        # a platform chosen in the table, on top of the platform filter
        stmt = stmt.where(Message.conversation_id.in_(
            select(Conversation.id).where(Conversation.platform == args["on"])))
        params["on"] = args["on"]
    if label is not None:
        params["period"] = args["period"]
        words.append(f"({label})")
    else:
        words.append(filters.range_label)
    stmt = stmt.options(
        _with_contact(joinedload(Message.conversation).joinedload(Conversation.contact)),
        joinedload(Message.template))
    rows, nxt = _page(stmt, Message.sent_at, Message.id, cursor)
    return " ".join(words), rows, nxt, params


# Conversations and response times ------------------------------------------------------------
def waiting(scope, filters, args, cursor):
    target = int(settings.get("response_target_hours") or 24)
    stmt = (select(Conversation).join(Contact, Contact.id == Conversation.contact_id)
            .where(*scope.waiting_where()))
    params = {}
    title = ("Conversations waiting on you" if scope.waiting_on_viewer
             else "Conversations waiting for a reply now")
    if args.get("over") == "1":
        stmt = stmt.where(Conversation.waiting_since < utcnow() - timedelta(hours=target))
        params["over"] = "1"
        title = f"Conversations waiting more than {target} h for a reply"
    stmt = stmt.options(_with_contact(joinedload(Conversation.contact),
                                      joinedload(Contact.owner)))
    rows, nxt = _page(stmt, Conversation.waiting_since, Conversation.id, cursor, desc=False)
    return title, rows, nxt, params


def bursts(scope, filters, args, cursor):
    target = int(settings.get("response_target_hours") or 24) * 3600
    stmt = (select(ResponseTime, Conversation)
            .join(Conversation, Conversation.id == ResponseTime.conversation_id)
            .where(*scope.response_where()))
    which = args.get("which", "answered")
    waiting_now = and_(ResponseTime.answered_at.is_(None), Conversation.state == NEEDS_REPLY,
                       Conversation.waiting_since == ResponseTime.burst_started_at)
    choices = {
        "answered": ("Messages we answered", ResponseTime.answered_at.is_not(None)),
        "within": ("Answered within target", ResponseTime.response_seconds <= target),
        "late": ("Answered after the target", ResponseTime.response_seconds > target),
        "waiting_late": ("Still waiting, past the target", and_(
            waiting_now, ResponseTime.burst_started_at < utcnow() - timedelta(seconds=target))),
        "closed": ("Closed without a reply", and_(ResponseTime.answered_at.is_(None),
                                                   ~waiting_now)),
    }
    if which not in choices:
        raise UnknownDrill("which")
    title, clause = choices[which]
    stmt = stmt.where(clause)
    params = {"which": which}
    if int_or_none(args.get("responder")) is not None:
        stmt = stmt.where(ResponseTime.responder_id == int(args["responder"]))
        params["responder"] = args["responder"]
    stmt = stmt.options(_with_contact(joinedload(Conversation.contact)))
    rows, nxt = _page(stmt, ResponseTime.burst_started_at, ResponseTime.id, cursor)
    return f"{title} {filters.range_label}", rows, nxt, params


# Tasks -------------------------------------------------------------------------------------
def tasks(scope, filters, args, cursor):
    view = args.get("view", "overdue")
    stmt = select(Task).where(*scope.task_where())
    params = {"view": view}
    if view == "overdue":
        stmt = stmt.where(Task.status == "open", Task.due_at < day_bounds(scope.tz)[0])
        title, order = "Overdue tasks, the longest overdue first", Task.due_at
    elif view == "done":
        stmt = stmt.where(Task.status == "done", Task.done_at >= scope.start,
                          Task.done_at < scope.end)
        title, order = f"Tasks completed {filters.range_label}", Task.done_at
    elif view in ("follow_ups", "follow_ups_replied"):
        stmt = stmt.where(Task.auto.is_(True), Task.created_at >= scope.start,
                          Task.created_at < scope.end)
        title, order = f"Automatic follow-ups created {filters.range_label}", Task.created_at
        if view == "follow_ups_replied":
            stmt = stmt.join(Message, Message.id == Task.source_message_id).where(
                Message.replied_at >= Task.created_at)
            title = f"Automatic follow-ups {filters.range_label} followed by a reply"
    else:
        raise UnknownDrill("view")
    assignee = args.get("assignee", "")
    if assignee == "none":
        stmt = stmt.where(Task.assignee_id.is_(None))
        params["assignee"] = "none"
    elif int_or_none(assignee) is not None:
        stmt = stmt.where(Task.assignee_id == int(assignee))
        params["assignee"] = assignee
    stmt = stmt.options(_with_contact(joinedload(Task.contact)),
                        selectinload(Task.deal).lazyload("*"))
    # Overdue: the oldest due date first; the other lists newest first.
    rows, nxt = _page(stmt, order, Task.id, cursor, desc=view != "overdue")
    return title, rows, nxt, params


# Consent ---------------------------------------------------------------------------------
def opt_outs(scope, filters, args, cursor):
    start, end, label = _period(filters, args)
    stmt = select(ConsentEvent).where(*consent.opt_out_where(scope), ConsentEvent.at >= start,
                                      ConsentEvent.at < end)
    params = {}
    title = f"Opt-outs {label or filters.range_label}"
    if label is not None:
        params["period"] = args["period"]
    source = args.get("source")
    if source:
        stmt = stmt.where(consent.SOURCE_LABEL == source)
        params["source"] = source
        title += f" · {source}"
    stmt = stmt.options(_with_contact(joinedload(ConsentEvent.contact)))
    rows, nxt = _page(stmt, ConsentEvent.at, ConsentEvent.id, cursor)
    return title, rows, nxt, params


def refusals(scope, filters, args, cursor):
    stmt = (select(AuditEvent, Contact).outerjoin(Contact, Contact.id == AuditEvent.entity_id)
            .where(*consent.refusal_where(scope)))
    params = {}
    title = f"Outreach refused by the consent gate {filters.range_label}"
    if args.get("action"):
        stmt = stmt.where(consent.REFUSED_ACTION == args["action"])
        params["action"] = args["action"]
        title = f"Refused: {args['action']} · {filters.range_label}"
    rows, nxt = _page(_with_contact(stmt), AuditEvent.at, AuditEvent.id, cursor)
    return title, rows, nxt, params


def unknown_consent(scope, filters, args, cursor):
    stmt = select(Contact).where(*consent.unknown_in_outreach_where(scope)).options(
        lazyload(Contact.tags), selectinload(Contact.handles))
    rows, nxt = _page(stmt, Contact.id, Contact.id, cursor)
    return f"Consent unknown, DMed {filters.range_label}", rows, nxt, {}


LISTS = {"deals": deals, "messages": messages, "waiting": waiting, "response-times": bursts,
         "tasks": tasks, "opt-outs": opt_outs, "refusals": refusals,
         "unknown-consent": unknown_consent}


def drill_page(kind: str, scope, filters, args) -> DrillPage:
    """One page of the list behind a figure; UnknownDrill for a list or value that is not."""
    if kind not in LISTS:
        raise UnknownDrill(kind)
    cursor = args.get("after") or None
    title, rows, nxt, params = LISTS[kind](scope, filters, args, cursor)
    return DrillPage(kind, title, rows, nxt, params, first=cursor is None)
