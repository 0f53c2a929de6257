"""Reading conversations: the inbox, a thread page by page, a contact's conversations."""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, bindparam, case, func, literal, or_, select, tuple_
from sqlalchemy.orm import lazyload

from crm import policy
from crm.accounts.models import User
from crm.contacts.models import PLATFORMS, Contact
from crm.core.plans import inline
from crm.dm_templates.models import DMTemplate
from crm.conversations.models import AWAITING_REPLY, NEEDS_REPLY, Conversation, Message
from crm.core.keyset import make_cursor, parse_cursor
from crm.core.rows import Named, named
from crm.core.timeutil import local, local_in, utcnow, zone
from crm.extensions import db
from crm.settings import services as settings

INBOX_PAGE = 25
THREAD_PAGE = 20
COUNT_CAP = 99        # the inbox counts up to here and shows "99+" beyond


# The inbox ------------------------------------------------------------------------------
@dataclass
class InboxFilters:
    view: str = "needs"        # needs | awaiting
    owner: str = ""            # "" anyone | me | none | <user id>
    platform: str = ""

    @classmethod
    def from_args(cls, args) -> "InboxFilters":
        view = args.get("view", "needs")
        owner = args.get("owner", "")
        platform = args.get("platform", "")
        return cls(view=view if view in ("needs", "awaiting") else "needs",
                   owner=owner if owner in ("", "me", "none") or owner.isdigit() else "",
                   platform=platform if platform in PLATFORMS else "")

    def as_args(self) -> dict:
        return {k: v for k, v in (("view", self.view if self.view != "needs" else ""),
                                  ("owner", self.owner), ("platform", self.platform)) if v}


@dataclass
class InboxPage:
    filters: InboxFilters
    rows: list
    next_cursor: str | None
    first: bool
    total: int
    over_target: int
    target_hours: int
    now: datetime = field(default_factory=utcnow)

    def over(self, conv) -> bool:
        return (conv.waiting_since is not None
                and self.now - conv.waiting_since > timedelta(hours=self.target_hours))


@dataclass(frozen=True)
class InboxContact:
    name: str
    do_not_contact: bool
    consent_status: str
    owner_name: str | None


@dataclass(frozen=True)
class InboxRow:
    """A conversation of the inbox and what its row shows of the contact, read as plain rows:
    a page of Conversation objects with their contacts and owners cost more in the ORM than
    in the database."""
    id: int
    contact_id: int
    platform: str
    title: str | None
    is_group: bool
    opt_out_message_id: int | None
    waiting_since: datetime | None
    last_outbound_at: datetime | None
    last_message_preview: str | None
    contact: InboxContact


INBOX_COLUMNS = (Conversation.id, Conversation.contact_id, Conversation.platform,
                 Conversation.title, Conversation.is_group, Conversation.opt_out_message_id,
                 Conversation.waiting_since, Conversation.last_outbound_at,
                 Conversation.last_message_preview)
CONTACT_COLUMNS = (Contact.name, Contact.do_not_contact, Contact.consent_status, User.name)


def _filtered(user, filters: InboxFilters):
    state = NEEDS_REPLY if filters.view == "needs" else AWAITING_REPLY
    stmt = (select(Conversation).join(Contact, Contact.id == Conversation.contact_id)
            .where(Conversation.state == state, Contact.archived_at.is_(None),
                   policy.contact_scope(user)))
    if filters.platform:
        stmt = stmt.where(Conversation.platform == filters.platform)
    if filters.owner == "me":
        stmt = stmt.where(Contact.owner_id == user.id)
    elif filters.owner == "none":
        stmt = stmt.where(Contact.owner_id.is_(None))
    elif filters.owner:
        stmt = stmt.where(Contact.owner_id == int(filters.owner))
    return stmt


def inbox_selection(user, filters: InboxFilters):
    """The conversations the inbox lists for `filters` (a SELECT of Conversation): what a bulk
    action on "all matching" works on."""
    return _filtered(user, filters)


def _counts(base, key, late_before: datetime | None) -> tuple[int, int]:
    """(conversations, of which waiting since before `late_before`), each counted up to
    COUNT_CAP + 1, in one pass over the first rows in `key` order. Oldest first, the late ones
    come first: the late count is exact unless every row counted was late."""
    inner = (base.with_only_columns(Conversation.id, key.label("at"))
             .order_by(key, Conversation.id).limit(inline(COUNT_CAP + 1)).subquery())
    late = (func.sum(case((inner.c.at < late_before, 1), else_=0)) if late_before is not None
            else literal(0))
    total, over = db.session.execute(select(func.count(), late).select_from(inner)).one()
    return int(total or 0), int(over or 0)


def inbox_page(user, filters: InboxFilters, after: str | None = None,
               limit: int = INBOX_PAGE) -> InboxPage:
    """One page of the inbox, longest wait first; keyset on (waiting_since, id)."""
    base = _filtered(user, filters)
    key = Conversation.waiting_since if filters.view == "needs" else Conversation.last_outbound_at
    stmt = (base.with_only_columns(*INBOX_COLUMNS, *CONTACT_COLUMNS)
            .outerjoin(User, User.id == Contact.owner_id))
    cursor = parse_cursor(after)
    if cursor:
        stmt = stmt.where(or_(key > cursor[0], and_(key == cursor[0], Conversation.id > cursor[1])))
    width = len(INBOX_COLUMNS)
    rows = [InboxRow(*r[:width], contact=InboxContact(*r[width:]))
            for r in db.session.execute(stmt.order_by(key, Conversation.id).limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more:
        last = rows[-1]
        at = last.waiting_since if filters.view == "needs" else last.last_outbound_at
        next_cursor = make_cursor(at, last.id)
    target = int(settings.get("response_target_hours") or 24)
    late_before = utcnow() - timedelta(hours=target) if filters.view == "needs" else None
    total, over = _counts(base, key, late_before)
    return InboxPage(filters=filters, rows=rows, next_cursor=next_cursor, first=cursor is None,
                     total=total, over_target=over, target_hours=target)


# A thread, page by page -------------------------------------------------------------------
@dataclass
class Day:
    day: date
    label: str
    messages: list


@dataclass
class Chunk:
    """Messages of one conversation, oldest first, and whether earlier ones exist."""

    conversation: Conversation
    messages: list
    has_more: bool
    days: list = field(default_factory=list)

    @property
    def first_id(self):
        return self.messages[0].id if self.messages else None


def day_label(day: date, today: date) -> str:
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    if day.year == today.year:
        return f"{day:%A} {day.day} {day:%B}"
    return f"{day:%a} {day.day} {day:%b %Y}"


def group_by_day(messages, tz_name: str | None) -> list[Day]:
    """Messages (rows with `local_at` set) under one heading per local day."""
    today = local(utcnow(), tz_name).date()
    days: list[Day] = []
    for m in messages:
        d = m.local_at.date()
        if not days or days[-1].day != d:
            days.append(Day(d, day_label(d, today), []))
        days[-1].messages.append(m)
    return days


@dataclass(slots=True)
class MessageRow:
    """What a thread shows of a message, read as a plain row (see crm.core.rows)."""
    id: int
    conversation_id: int
    direction: str
    sent_at: datetime
    body: str
    media: str | None
    author_id: int | None
    logged_by_id: int | None
    sender_name: str | None
    template_id: int | None
    edited_at: datetime | None
    delivery_status: str | None      # sent through a live channel: how far it got
    delivery_error: str | None
    deleted_at: datetime | None       # the sender deleted it: shown as such, text gone
    author: Named | None = None
    template: Named | None = None
    local_at: datetime | None = None    # sent_at in the viewer's zone
    editable: bool = False              # the viewer may correct or delete it

    # The message's own rules, not copies of them.
    is_inbound = Message.is_inbound
    media_label = Message.media_label


MESSAGE_COLUMNS = (Message.id, Message.conversation_id, Message.direction, Message.sent_at,
                   Message.body, Message.media, Message.author_id, Message.logged_by_id,
                   Message.sender_name, Message.template_id, Message.edited_at,
                   Message.delivery_status, Message.delivery_error, Message.deleted_at)


def _thread_statement(keyset: bool, limit: int):
    """The latest `limit` (+1) messages, newest first; with `keyset`, those before
    (before_at, before_id)."""
    stmt = (select(*MESSAGE_COLUMNS, User.name, DMTemplate.name)
            .outerjoin(User, User.id == Message.author_id)
            .outerjoin(DMTemplate, DMTemplate.id == Message.template_id)
            .where(Message.conversation_id == bindparam("conversation_id")))
    if keyset:
        # A row value: both databases then seek the index to it (an OR would make SQLite
        # walk the conversation's newer messages first).
        stmt = stmt.where(tuple_(Message.sent_at, Message.id)
                          < tuple_(bindparam("before_at"), bindparam("before_id")))
    return stmt.order_by(Message.sent_at.desc(), Message.id.desc()).limit(limit + 1)


# Built once: a thread's latest page and the page before a message.
_THREAD_LATEST = _thread_statement(False, THREAD_PAGE)
_THREAD_BEFORE = _thread_statement(True, THREAD_PAGE)

# The page after message `shown_id` of the conversation, oldest first, each row ending with
# that message's time: no row when it is not a message of the conversation.
_shown = Message.__table__.alias("shown")
_THREAD_AFTER = (
    select(*MESSAGE_COLUMNS, User.name, DMTemplate.name, _shown.c.sent_at)
    .select_from(_shown)
    .join(Message, and_(Message.conversation_id == _shown.c.conversation_id,
                        tuple_(Message.sent_at, Message.id)
                        > tuple_(_shown.c.sent_at, _shown.c.id)))
    .outerjoin(User, User.id == Message.author_id)
    .outerjoin(DMTemplate, DMTemplate.id == Message.template_id)
    .where(_shown.c.id == bindparam("shown_id"),
           _shown.c.conversation_id == bindparam("conversation_id"))
    .order_by(Message.sent_at, Message.id).limit(THREAD_PAGE + 1))


def _thread_rows(rows, viewer) -> list[MessageRow]:
    """Each row with its time in the viewer's zone and whether the viewer may correct it."""
    tz = zone(viewer.timezone)
    width = len(MESSAGE_COLUMNS)
    return [MessageRow(*row[:width], named(row.author_id, row[width]),
                       named(row.template_id, row[width + 1]), local_in(row.sent_at, tz),
                       row.deleted_at is None and policy.can_edit_message(viewer, row))
            for row in rows]


def thread_chunk(conv: Conversation, viewer, before: Message | None = None,
                 limit: int = THREAD_PAGE) -> Chunk:
    """The latest `limit` messages (or those before `before`); keyset on (sent_at, id). Each
    row carries its time in the viewer's zone and whether the viewer may correct it."""
    keyset = before is not None
    if limit == THREAD_PAGE:
        stmt = _THREAD_BEFORE if keyset else _THREAD_LATEST
    else:
        stmt = _thread_statement(keyset, limit)
    params = {"conversation_id": conv.id}
    if keyset:
        params.update(before_at=before.sent_at, before_id=before.id)
    rows = db.session.execute(stmt, params).all()
    messages = _thread_rows(reversed(rows[:limit]), viewer)
    return Chunk(conv, messages, len(rows) > limit, group_by_day(messages, viewer.timezone))


def thread_after(conv: Conversation, viewer, shown_id: int) -> tuple[Chunk, datetime] | None:
    """The messages of `conv` after message `shown_id` (the last one on screen), oldest
    first, up to a page (`has_more`: more came), with the time of that message; None when
    nothing came after it or it is not a message of `conv`. One statement."""
    rows = db.session.execute(_THREAD_AFTER, {"conversation_id": conv.id,
                                              "shown_id": shown_id}).all()
    if not rows:
        return None
    messages = _thread_rows(rows[:THREAD_PAGE], viewer)
    return (Chunk(conv, messages, len(rows) > THREAD_PAGE,
                  group_by_day(messages, viewer.timezone)), rows[0][-1])


# The caller holds the contact: the joined load of it (and its handles and tags) is waste.
_CONTACT_CONVERSATIONS = (
    select(Conversation).options(lazyload(Conversation.contact))
    .where(Conversation.contact_id == bindparam("contact_id"))
    .order_by(func.coalesce(Conversation.last_message_at, Conversation.created_at).desc(),
              Conversation.id.desc()).limit(bindparam("limit")))


def contact_conversations(contact, limit: int = 20) -> list[Conversation]:
    """A contact's conversations, latest activity first."""
    return db.session.scalars(_CONTACT_CONVERSATIONS,
                              {"contact_id": contact.id, "limit": limit}).all()
