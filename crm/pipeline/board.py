"""What the board reads: column totals in one GROUP BY (on an index that covers it), the
cards as plain rows in one query whose ids come from a UNION of each column's index-ordered
LIMIT query (with the deal's contact, first handle, owner and campaign), and their last DMs
and next tasks in two more — a constant number of statements however many deals there
are."""
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, bindparam, func, or_, select, union_all
from sqlalchemy.orm import aliased

from crm import policy
from crm.accounts.models import User
from crm.campaigns.models import Campaign
from crm.contacts.models import PLATFORM_LABELS, PLATFORMS, Contact, SocialHandle
from crm.conversations.models import Conversation
from crm.core.forms import int_or_none
from crm.core.money import money
from crm.core.timeutil import ago
from crm.extensions import db
from crm.pipeline.models import OPEN, Deal, Pipeline, Stage
from crm.tasks.models import Task

COLUMN_SIZE = 8


@dataclass
class BoardFilters:
    pipeline: int | None = None
    owner: str = ""       # "", "me", "none" or a user id
    campaign: str = ""    # "" or a campaign id
    platform: str = ""

    @classmethod
    def from_args(cls, args) -> "BoardFilters":
        pipeline = args.get("pipeline", "")
        owner = args.get("owner", "")
        campaign = args.get("campaign", "")
        platform = args.get("platform", "")
        return cls(pipeline=int_or_none(pipeline),
                   owner=owner if owner in ("me", "none") or owner.isdigit() else "",
                   campaign=campaign if campaign.isdigit() else "",
                   platform=platform if platform in PLATFORMS else "")

    def as_args(self) -> dict:
        out = {"pipeline": self.pipeline, "owner": self.owner, "campaign": self.campaign,
               "platform": self.platform}
        return {k: v for k, v in out.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.owner or self.campaign or self.platform)


@dataclass
class Total:
    count: int = 0
    values: dict = field(default_factory=dict)   # currency -> minor units

    def add(self, currency: str, count: int, value: int) -> None:
        self.count += count
        self.values[currency] = self.values.get(currency, 0) + int(value or 0)

    @property
    def amounts(self) -> list[tuple[str, int]]:
        """[(currency, minor)], largest first; deals in several currencies are not summed."""
        return sorted(self.values.items(), key=lambda kv: -kv[1]) or [("USD", 0)]


@dataclass(slots=True)
class CardDeal:
    """What a card shows of a deal, read as plain rows: building ORM objects (deal, contact,
    owner, campaign, handles) cost more than everything else on the board together."""
    id: int
    title: str
    version: int
    stage_id: int
    contact_id: int
    platform: str | None
    value_minor: int
    currency: str
    stage_entered_at: datetime
    next_step: str | None
    next_step_on: object
    outcome: str
    contact_owner_id: int | None
    contact_name: str
    owner_name: str | None
    campaign_name: str | None
    handle: object = None       # the contact's first handle: .platform, .display

    # The deal's own rules, not copies of them.
    is_open = Deal.is_open
    seconds_in_stage = Deal.seconds_in_stage
    days_in_stage = Deal.days_in_stage


@dataclass(slots=True)
class CardHandle:
    platform: str
    handle: str

    display = SocialHandle.display


class LastDM(NamedTuple):
    needs_reply: bool
    text: str


def move_form_id(stage_id: int) -> str:
    """The id of a column's stage menu, which the Move button of each of its cards submits."""
    return f"move-{stage_id}"


@dataclass
class Card:
    deal: CardDeal
    last_dm: object = None      # a row of the contact's latest conversation
    next_task: object = None    # a row of the deal's (or else the contact's) next open task
    # False for a deal the viewer owns on a contact they may not see: the card names the
    # contact and shows nothing else of them (see crm.policy, deals).
    contact_visible: bool = True

    @property
    def needs_next_step(self) -> bool:
        return self.deal.is_open and not self.deal.next_step and self.next_task is None

    @property
    def value(self) -> str:
        return money(self.deal.value_minor, self.deal.currency)

    @property
    def in_stage(self) -> str:
        days = self.deal.days_in_stage
        return "today" if days == 0 else f"{days} d"

    @property
    def platform_label(self) -> str:
        return PLATFORM_LABELS.get(self.deal.platform, self.deal.platform or "")

    @property
    def last_dm_line(self) -> "LastDM":
        """Where the conversation stands, as the last_dm_text macro says it."""
        conv = self.last_dm
        if conv is None:
            return LastDM(False, "No DMs logged")
        if conv.state == "needs_reply":
            return LastDM(True, f"they wrote {ago(conv.last_inbound_at)} ago")
        if conv.state == "awaiting_reply":
            return LastDM(False, f"You wrote {ago(conv.last_outbound_at)} ago · no reply yet")
        return LastDM(False, f"Last DM {ago(conv.last_message_at)} ago")

    @property
    def handle_text(self) -> str | None:
        """The contact's handle, when it is on the deal's platform."""
        handle = self.deal.handle
        return handle.display if handle and handle.platform == self.deal.platform else None


@dataclass
class Column:
    stage: Stage
    total: Total
    cards: list = field(default_factory=list)
    next_cursor: str | None = None

    @property
    def collapsed(self) -> bool:
        return self.stage.outcome != OPEN


_PIPELINES = (select(Pipeline).where(Pipeline.archived_at.is_(None))
              .order_by(Pipeline.position, Pipeline.id))


def pipelines() -> list[Pipeline]:
    return list(db.session.scalars(_PIPELINES))


def deal_where(user, f: BoardFilters) -> list:
    """The user's scope and the board filters, as WHERE clauses on Deal."""
    where = [policy.deal_scope(user), Deal.archived_at.is_(None)]
    if f.owner == "me":
        where.append(Deal.owner_id == user.id)
    elif f.owner == "none":
        where.append(Deal.owner_id.is_(None))
    elif f.owner:
        where.append(Deal.owner_id == int(f.owner))
    if f.campaign:
        where.append(Deal.campaign_id == int(f.campaign))
    if f.platform:
        where.append(Deal.platform == f.platform)
    return where


def totals(user, pipeline: Pipeline, f: BoardFilters,
           stage_ids=None) -> dict[int, Total]:
    """Count and value per stage of the pipeline (or of `stage_ids` only), in one grouped
    query that reads `ix_deals_board_totals` alone."""
    stmt = select(Deal.stage_id, Deal.currency, func.count(), func.sum(Deal.value_minor)) \
        .where(Deal.pipeline_id == pipeline.id, *deal_where(user, f))
    if stage_ids is not None:
        stmt = stmt.where(Deal.stage_id.in_(sorted(stage_ids)))
    rows = db.session.execute(stmt.group_by(Deal.stage_id, Deal.currency))
    out: dict[int, Total] = {}
    for stage_id, currency, count, value in rows:
        out.setdefault(stage_id, Total()).add(currency, count, value)
    return out


def encode_cursor(deal: Deal) -> str:
    return f"{deal.stage_entered_at.isoformat()}_{deal.id}"


def decode_cursor(cursor: str | None):
    try:
        at, _, deal_id = (cursor or "").rpartition("_")
        return datetime.fromisoformat(at), int(deal_id)
    except ValueError:
        return None


def _newest(stage_ids, where, limit: int, cursor=None):
    """The ids of each stage's newest `limit` deals (after `cursor`), as one UNION of
    index-ordered LIMIT queries for load_cards to read its cards with; None for no stages."""
    parts = []
    for stage_id in stage_ids:
        stmt = select(Deal.id).where(Deal.stage_id == stage_id, *where)
        if cursor:
            at, deal_id = cursor
            stmt = stmt.where(or_(Deal.stage_entered_at < at,
                                  and_(Deal.stage_entered_at == at, Deal.id < deal_id)))
        stmt = stmt.order_by(Deal.stage_entered_at.desc(), Deal.id.desc()).limit(limit)
        parts.append(select(stmt.subquery().c.id))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else union_all(*parts)


CARD_COLUMNS = (Deal.id, Deal.title, Deal.version, Deal.stage_id, Deal.contact_id,
                Deal.platform, Deal.value_minor, Deal.currency, Deal.stage_entered_at,
                Deal.next_step, Deal.next_step_on, Deal.outcome, Deal.contact_owner_id)


def _first_handle(column):
    return (select(column).where(SocialHandle.contact_id == Deal.contact_id)
            .order_by(SocialHandle.id).limit(1).correlate(Deal).scalar_subquery())


def _cards_base():
    """The cards' query without the deals it is for: built once (aliases, the handle's
    subqueries and the joins cost more than running it)."""
    owner, campaign = aliased(User), aliased(Campaign)
    return (select(*CARD_COLUMNS, Contact.name, owner.name, campaign.name,
                   _first_handle(SocialHandle.platform), _first_handle(SocialHandle.handle))
            .join(Contact, Contact.id == Deal.contact_id)
            .outerjoin(owner, owner.id == Deal.owner_id)
            .outerjoin(campaign, campaign.id == Deal.campaign_id)
            .order_by(Deal.stage_entered_at.desc(), Deal.id.desc()))


_CARDS = _cards_base()


def cards_statement(deal_ids):
    """The cards' query for the deals a statement of their ids picks (`_newest`), newest in
    their stage first: each deal with its contact's name and first handle, owner and
    campaign; None for no deals."""
    if deal_ids is None:
        return None
    return _CARDS.where(Deal.id.in_(deal_ids))


def load_cards(user, stmt) -> list[Card]:
    """The cards `cards_statement` reads (None: none), then their last DMs and next tasks in
    two more queries."""
    if stmt is None:
        return []
    rows = db.session.execute(stmt).all()
    deals = [CardDeal(*row[:-2], handle=CardHandle(*row[-2:]) if row[-1] else None)
             for row in rows]
    return _with_dms_and_tasks(user, deals)


def card_for(user, deal: Deal) -> Card:
    """The card of a deal already in memory with its contact (the answer to a move): only
    its last DM and next task are read."""
    handle = deal.contact.primary_handle
    card_deal = CardDeal(*(getattr(deal, c.key) for c in CARD_COLUMNS), deal.contact.name,
                         deal.owner.name if deal.owner else None,
                         deal.campaign.name if deal.campaign else None,
                         CardHandle(handle.platform, handle.handle) if handle else None)
    return _with_dms_and_tasks(user, [card_deal])[0]


# The cards' conversations and open tasks: built once, the cards' ids bound at each use.
_LAST_DMS = (select(Conversation.contact_id, Conversation.state, Conversation.last_message_at,
                    Conversation.last_inbound_at, Conversation.last_outbound_at)
             .where(Conversation.contact_id.in_(bindparam("contact_ids", expanding=True)),
                    Conversation.last_message_at.is_not(None))
             .order_by(Conversation.last_message_at.desc()))
_OPEN_TASKS = (select(Task.id, Task.title, Task.due_at, Task.deal_id, Task.contact_id,
                      Task.assignee_id)
               .where(Task.contact_id.in_(bindparam("contact_ids", expanding=True)),
                      Task.status == "open",
                      or_(Task.deal_id.is_(None),
                          Task.deal_id.in_(bindparam("deal_ids", expanding=True)))))


def _with_dms_and_tasks(user, deals: list[CardDeal]) -> list[Card]:
    """Each deal's card with its contact's last DM and its next open task, as far as `user`
    may see them."""
    hidden = {d.contact_id for d in deals
              if not policy.may_see_contact_of(user, d.contact_owner_id)}
    for d in deals:
        if d.contact_id in hidden:
            d.handle = None
    contact_ids = {d.contact_id for d in deals}
    last_dm: dict[int, object] = {}
    for conv in db.session.execute(_LAST_DMS, {"contact_ids": list(contact_ids - hidden)}):
        last_dm.setdefault(conv.contact_id, conv)
    by_deal: dict[int, object] = {}
    by_contact: dict[int, object] = {}
    # A deal's tasks are on the deal's contact (the task rules insist), so the contacts'
    # index finds them all. Sorted here: asked to sort, SQLite walks every open task in due
    # order instead (40 ms at 16,000 open tasks, against 0.1 ms).
    tasks = db.session.execute(_OPEN_TASKS, {"contact_ids": list(contact_ids),
                                             "deal_ids": [d.id for d in deals]}).all()
    for task in sorted(tasks, key=lambda t: (t.due_at, t.id)):
        if not policy.may_see_task(user, task.assignee_id, task.contact_id not in hidden):
            continue
        if task.deal_id is not None:
            by_deal.setdefault(task.deal_id, task)
        else:
            by_contact.setdefault(task.contact_id, task)
    return [Card(d, last_dm.get(d.contact_id),
                 by_deal.get(d.id) or by_contact.get(d.contact_id),
                 contact_visible=d.contact_id not in hidden) for d in deals]


def board_stages(pipeline: Pipeline, counts: dict[int, Total]) -> list[Stage]:
    """Active stages, plus retired ones still holding deals; open first, closed at the end."""
    shown = [s for s in pipeline.stages
             if s.retired_at is None or counts.get(s.id, Total()).count]
    return ([s for s in shown if s.outcome == OPEN] + [s for s in shown if s.outcome != OPEN])


def open_total(pipeline: Pipeline, counts: dict[int, Total]) -> Total:
    """Every open stage together: what the summary line above the board says."""
    out = Total()
    for stage in pipeline.stages:
        if stage.outcome == OPEN and stage.id in counts:
            for currency, value in counts[stage.id].values.items():
                out.values[currency] = out.values.get(currency, 0) + value
            out.count += counts[stage.id].count
    return out


def columns(user, pipeline: Pipeline, f: BoardFilters, only: set[int] | None = None,
            size: int = COLUMN_SIZE, counts: dict[int, Total] | None = None) -> list[Column]:
    """The board's columns (or only those in `only`), open columns with their newest cards."""
    counts = totals(user, pipeline, f) if counts is None else counts
    stages = [s for s in board_stages(pipeline, counts) if only is None or s.id in only]
    open_ids = tuple(s.id for s in stages if s.outcome == OPEN)
    cards = load_cards(user, cards_statement(_newest(open_ids, deal_where(user, f), size + 1)))
    out = []
    for stage in stages:
        col = Column(stage, counts.get(stage.id, Total()))
        if stage.outcome == OPEN:
            mine = [c for c in cards if c.deal.stage_id == stage.id]
            col.cards = mine[:size]
            if len(mine) > size:
                col.next_cursor = encode_cursor(col.cards[-1].deal)
        out.append(col)
    return out


def more_cards(user, stage: Stage, f: BoardFilters, cursor: str | None,
               size: int = COLUMN_SIZE) -> tuple[list[Card], str | None]:
    """The next cards of one column after `cursor` (keyset on time entered, then id)."""
    cards = load_cards(user, cards_statement(
        _newest([stage.id], deal_where(user, f), size + 1, decode_cursor(cursor))))
    next_cursor = encode_cursor(cards[size - 1].deal) if len(cards) > size else None
    return cards[:size], next_cursor
