"""Consent figures: opt-outs over time and their sources (from the append-only history),
outreach the consent gate refused (audit "outreach_refused"), and contacts with unknown
consent whom we are DMing."""
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, literal, literal_column, or_, select

from crm.audit.models import AuditEvent
from crm.contacts.models import ConsentEvent, Contact
from crm.conversations.models import Conversation
from crm.core.cache import OUTREACH, REFUSALS, remember
from crm.extensions import db
from crm.reports.sqlhelp import indexed_by

DM_REPLY_SOURCE = "Opt-out reply in a DM"
TOP_SOURCES = 6


@dataclass
class ConsentFigures:
    opt_outs_by_period: list = field(default_factory=list)   # count per period
    sources: list = field(default_factory=list)              # (source, count), largest first
    refusals_by_action: list = field(default_factory=list)   # (action, count)
    unknown_in_outreach: int = 0

    @property
    def opt_outs(self) -> int:
        return sum(self.opt_outs_by_period)

    @property
    def refusals(self) -> int:
        return sum(n for _, n in self.refusals_by_action)


# One-click opt-outs quote the contact's words; grouping by the quote would scatter them.
SOURCE_LABEL = case((ConsentEvent.evidence_message_id.is_not(None), DM_REPLY_SOURCE),
                    else_=func.coalesce(func.nullif(ConsentEvent.source, ""), "Not recorded"))
REFUSED_ACTION = AuditEvent.changes["action"].as_string()


def opt_out_where(scope) -> list:
    """Events in the range that opted the contact out or marked them do-not-contact."""
    where = [or_(and_(ConsentEvent.to_status == "opted_out",
                      ConsentEvent.from_status != "opted_out"),
                 and_(ConsentEvent.to_dnc.is_(True), ConsentEvent.from_dnc.is_(False))),
             ConsentEvent.at >= scope.start, ConsentEvent.at < scope.end]
    contacts = [w for w in scope.contact_where() if w is not True]
    if contacts:
        where.append(ConsentEvent.contact_id.in_(select(Contact.id).where(*contacts)))
    return where


def refusal_where(scope) -> list:
    where = [AuditEvent.action == "outreach_refused", AuditEvent.at >= scope.start,
             AuditEvent.at < scope.end]
    if scope.owner_id is not None:
        where.append(AuditEvent.actor_id == scope.owner_id)
    return where


def dmed_in_range(scope, *, per_contact: bool = False):
    """A clause on Contact: one of their conversations had its latest DM from us in the range
    (probed per contact when asked, or for one owner)."""
    dmed = select(Conversation.contact_id).where(
        Conversation.state.in_(("needs_reply", "awaiting_reply", "closed")),
        Conversation.last_outbound_at >= scope.start, Conversation.last_outbound_at < scope.end)
    if scope.platform:
        dmed = dmed.where(Conversation.platform == scope.platform)
    if per_contact or scope.owner_id is not None:
        # One person's contacts are few next to the conversations DMed in the range: start
        # from the contacts and probe each one's conversations (250 ms → 50 ms for a rep).
        return dmed.where(Conversation.contact_id == Contact.id).exists()
    return Contact.id.in_(dmed)


def unknown_in_outreach_where(scope) -> list:
    """Unknown consent, contactable, and our latest DM to them fell in the range."""
    return [Contact.consent_status == "unknown", Contact.do_not_contact.is_(False),
            Contact.archived_at.is_(None), dmed_in_range(scope), *scope.contact_where()]


def unknown_in_outreach(scope) -> int:
    """The contacts of unknown_in_outreach_where, from one range of ix_contacts_unknown_outreach
    (its WHERE written as the index's, for SQLite to match): their latest outbound DM (kept,
    crm.conversations.reply_state) is in the range, or later with an earlier one in the range
    (probed: none for a range that ends today); on one platform, every one's DMs are probed."""
    probe = dmed_in_range(scope, per_contact=True)
    stmt = select(func.count()).select_from(Contact).where(
        Contact.archived_at.is_(None), Contact.consent_status == literal_column("'unknown'"),
        Contact.do_not_contact == False,  # noqa: E712 (the index's own predicate)
        Contact.last_outbound_at >= scope.start,
        probe if scope.platform else or_(Contact.last_outbound_at < scope.end, probe),
        *scope.contact_where())
    return db.session.scalar(indexed_by(stmt, Contact, "ix_contacts_unknown_outreach"))


def consent_figures(scope, periods) -> ConsentFigures:
    """Three small queries on indexed history tables, each remembered apart: the opt-outs
    change with consent events, the refusals with the audit log, unknown consent in
    outreach with every DM (a conversation's last outbound time)."""
    span = tuple((p.start, p.end) for p in periods)
    key = scope.cache_key
    fig = ConsentFigures()
    fig.opt_outs_by_period, fig.sources = remember(
        "opt_outs", key + span, lambda: opt_outs(scope, periods), scope.reads("consent_events"))
    fig.refusals_by_action = remember("refusals", key, lambda: refusals(scope), (REFUSALS,))
    fig.unknown_in_outreach = remember(
        "unknown_in_outreach", key, lambda: unknown_in_outreach(scope),
        ("contacts", "conversations", OUTREACH))
    return fig


def opt_outs(scope, periods) -> tuple[list, list]:
    """(opt-outs per period, [(source, count)] largest first)."""
    by_period = [0] * len(periods)
    # Opt-outs per period and per source in one pass over the range's events: rows per
    # (source, period), sources largest first (then by name, as the database sorts).
    period = case(*[(and_(ConsentEvent.at >= p.start, ConsentEvent.at < p.end), i)
                    for i, p in enumerate(periods)], else_=None) if periods else literal(None)
    total = func.sum(func.count()).over(partition_by=SOURCE_LABEL)
    sources: dict = {}
    for source, i, n in db.session.execute(
            select(SOURCE_LABEL, period, func.count()).where(*opt_out_where(scope))
            .group_by(SOURCE_LABEL, period).order_by(total.desc(), SOURCE_LABEL)):
        sources[source] = sources.get(source, 0) + n
        if i is not None:
            by_period[i] += n
    sources = list(sources.items())
    top = sources[:TOP_SOURCES]
    if len(sources) > TOP_SOURCES:
        top.append(("Other sources", sum(n for _, n in sources[TOP_SOURCES:])))
    return by_period, top


def refusals(scope) -> list:
    """[(action, count)] of the outreach the consent gate refused in the range."""
    # Refusals are a sliver of the audit log: for one person SQLite would rather read all of
    # their audit events of the range (thousands) than the range's refusals.
    return [(a or "outreach", n) for a, n in db.session.execute(
        indexed_by(select(REFUSED_ACTION, func.count()).where(*refusal_where(scope))
                   .group_by(REFUSED_ACTION).order_by(func.count().desc(), REFUSED_ACTION),
                   AuditEvent, "ix_audit_action_at"))]
