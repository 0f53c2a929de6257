"""Bulk actions: each one is one transaction over a selection (crm.bulk.selection), goes
through the same services, policy and consent gate as one record at a time, and is kept as
a BulkChange with each row's values before it, so that its author can undo it for a while.

A service flushes and returns the BulkChange; the request commits (or, on any error, rolls
back everything: a failure half-way changes nothing).
"""
from datetime import timedelta

from sqlalchemy import select

from crm import policy
from crm.accounts.models import User
from crm.audit import services as audit
from crm.bulk.models import BulkChange, BulkChangeRow
from crm.campaigns import services as campaigns
from crm.campaigns.models import Campaign
from crm.contacts import services as contacts
from crm.contacts.consent import may_contact, record_refusal
from crm.contacts.models import Contact
from crm.conversations import services as conversations
from crm.conversations.models import Conversation
from crm.core.errors import OutreachRefused, ValidationFailed
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.pipeline.models import Deal

MAX_ROWS = 500      # crm.bulk.selection refuses more, saying so
UNDO_MINUTES = 15
CONTACT_ACTIONS = {"reassign": "Reassign owner", "tag": "Add a tag",
                   "campaign": "Add to a campaign", "archive": "Archive", "restore": "Restore"}
INBOX_ACTIONS = {"close": "Mark no reply needed", "snooze": "Snooze", "reassign": "Reassign owner"}


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _listed(pairs, limit: int = 5) -> str:
    shown = [f"{name} ({why})" for name, why in pairs[:limit]]
    more = len(pairs) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


class _Run:
    """A bulk action being done: what changed (with the before values) and what was not."""

    def __init__(self, actor, action: str, entity_type: str, missing: int = 0):
        self.actor = actor
        self.change = BulkChange(user_id=actor.id, action=action, entity_type=entity_type,
                                 undo_until=utcnow() + timedelta(minutes=UNDO_MINUTES))
        self.done: list = []        # (record, before)
        self.skipped: list = []     # [name, why]
        self.refused: list = []     # [name, why]
        if missing:
            self.skipped.append([_plural(missing, "row"), "gone, or not yours to see"])

    def skip(self, name: str, why: str) -> None:
        self.skipped.append([name, why])

    def finish(self, head: str, after) -> BulkChange:
        """Store the rows with their state after the change, the summary, and the audit."""
        db.session.flush()
        change = self.change
        parts = [head]
        if self.refused:
            parts.append(f"{len(self.refused)} refused: {_listed(self.refused)}")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped: {_listed(self.skipped)}")
        change.summary = ("; ".join(parts) + ".")[:500]
        change.details = {"skipped": self.skipped, "refused": self.refused}
        for record, before in self.done:
            change.rows.append(BulkChangeRow(entity_id=record.id, before=before,
                                             after=after(record)))
        db.session.add(change)
        db.session.flush()
        audit.record(self.actor, f"bulk_{change.action}", change, entity_type="bulk_change",
                     summary=change.summary[:255],
                     changes={"rows": len(self.done), "skipped": len(self.skipped),
                              "refused": len(self.refused)})
        return change


def _version(record) -> dict:
    return {"version": record.version}


# The selection bar's menus, on every list page that has one: built once.
_ACTIVE_USERS = select(User.id, User.name).where(User.active.is_(True)).order_by(User.name)
_OPEN_CAMPAIGNS = (select(Campaign.id, Campaign.name).where(Campaign.archived_at.is_(None))
                   .order_by(Campaign.name).limit(200))


def bar_options(user, *, with_campaigns: bool = True) -> dict:
    """What the selection bar offers `user`: whom to reassign to (managers only) and which
    campaigns to add people to."""
    owners = db.session.execute(_ACTIVE_USERS).all() if policy.can_reassign(user) else []
    open_campaigns = db.session.execute(_OPEN_CAMPAIGNS).all() if with_campaigns else []
    return {"bulk_owners": owners, "bulk_campaigns": open_campaigns,
            "bulk_can_reassign": policy.can_reassign(user), "bulk_max": MAX_ROWS,
            "bulk_undo_window": UNDO_MINUTES,
            "bulk_snoozes": [(k, label) for k, (label, _) in conversations.SNOOZES.items()]}


def _owner(owner_id: str | int | None):
    """The new owner: an active user, or None for "none" (Unassigned)."""
    if owner_id in (None, ""):
        raise ValidationFailed("Choose the new owner.", field="owner_id")
    if owner_id == "none":
        return None
    user = db.session.get(User, int(owner_id)) if str(owner_id).isdigit() else None
    if user is None or not user.active:
        raise ValidationFailed("Choose an active user as the new owner.", field="owner_id")
    return user


# Contacts --------------------------------------------------------------------------------
def reassign(actor, selection, owner_id, *, entity_type: str = "contact") -> BulkChange:
    """Give the selected contacts (or the contacts of selected conversations) a new owner."""
    if not policy.can_reassign(actor):
        raise ValidationFailed("Only managers can reassign contacts.", field="action")
    owner = _owner(owner_id)
    new_id = owner.id if owner else None
    run = _Run(actor, "reassign", "contact", selection.missing)
    people = selection.rows if entity_type == "contact" else \
        list({conv.contact_id: conv.contact for conv in selection.rows}.values())
    for contact in people:
        if not policy.can_edit_contact(actor, contact):
            run.skip(contact.name, "not yours to edit")
        elif contact.owner_id == new_id:
            run.skip(contact.name, f"already {owner.name}'s" if owner else "already unassigned")
        else:
            run.done.append((contact, {"owner_id": contact.owner_id}))
            contacts.set_owner(actor, contact, new_id)
    who = owner.name if owner else "nobody (unassigned)"
    return run.finish(f"{_plural(len(run.done), 'contact')} reassigned to {who}", _version)


def add_tag(actor, selection, name: str) -> BulkChange:
    """Add one tag to every selected contact."""
    tag = (name or "").strip().lower()
    if not tag:
        raise ValidationFailed("Name the tag to add.", field="new_tag")
    if len(tag) > 64 or "," in tag or ";" in tag:
        raise ValidationFailed("A tag is one word or phrase of at most 64 characters.",
                               field="new_tag")
    run = _Run(actor, "tag", "contact", selection.missing)
    for contact in selection.rows:
        names = [t.name for t in contact.tags]
        if not policy.can_edit_contact(actor, contact):
            run.skip(contact.name, "not yours to edit")
        elif tag in names:
            run.skip(contact.name, "already tagged")
        else:
            run.done.append((contact, {"tags": names}))
            contacts.update_contact(actor, contact, {}, tags=names + [tag])
    return run.finish(f"{_plural(len(run.done), 'contact')} tagged “{tag}”", _version)


def add_to_campaign(actor, selection, campaign_id) -> BulkChange:
    """Put every selected contact in a campaign; the consent gate decides for each person,
    and the summary names whom it refused and why."""
    campaign = db.session.get(Campaign, int(campaign_id)) \
        if str(campaign_id or "").isdigit() else None
    if campaign is None or campaign.archived_at is not None:
        raise ValidationFailed("Choose a campaign that is not archived.", field="campaign_id")
    run = _Run(actor, "campaign", "contact", selection.missing)
    for contact in selection.rows:
        if not policy.can_edit_contact(actor, contact):
            run.skip(contact.name, "not yours to edit")
            continue
        try:
            deal = campaigns.add_to_campaign(actor, campaign, contact)
        except OutreachRefused as e:
            record_refusal(actor, contact.id, e.action, e.message)
            run.refused.append([contact.name, may_contact(contact).reason.removeprefix(
                contact.name).strip().rstrip(".")])
        except ValidationFailed as e:
            run.skip(contact.name, "already in it" if "already in" in e.message else e.message)
        else:
            run.done.append((deal, {"contact_id": contact.id}))
    return run.finish(f"{_plural(len(run.done), 'contact')} added to “{campaign.name}”",
                      _version)


def archive(actor, selection, *, restore: bool = False) -> BulkChange:
    """Archive the selected contacts (or restore archived ones)."""
    run = _Run(actor, "restore" if restore else "archive", "contact", selection.missing)
    for contact in selection.rows:
        if not policy.can_edit_contact(actor, contact):
            run.skip(contact.name, "not yours to edit")
        elif contact.is_archived != restore:
            run.skip(contact.name, "not archived" if restore else "already archived")
        else:
            run.done.append((contact, {"archived": contact.is_archived}))
            (contacts.restore if restore else contacts.archive)(actor, contact)
    verb = "restored" if restore else "archived"
    return run.finish(f"{_plural(len(run.done), 'contact')} {verb}", _version)


# Conversations -----------------------------------------------------------------------------
def _conversation_state(conv) -> dict:
    """What undo compares: a conversation has no version, but any message or close since
    changes one of these."""
    return {"state": conv.state, "closed_at": _iso(conv.closed_at),
            "last_message_at": _iso(conv.last_message_at),
            "snoozed_until": _iso(conv.snoozed_until)}


def _iso(value):
    return value.isoformat() if value else None


def close(actor, selection) -> BulkChange:
    """No reply needed: the selected conversations leave the inbox until they write again."""
    run = _Run(actor, "close", "conversation", selection.missing)
    for conv in selection.rows:
        if conv.state == "closed":
            run.skip(conv.contact.name, "already done")
        else:
            run.done.append((conv, {}))
            conversations.close_conversation(actor, conv)
    return run.finish(f"{_plural(len(run.done), 'conversation')} marked no reply needed",
                      _conversation_state)


def snooze(actor, selection, choice: str) -> BulkChange:
    """Snooze the selected conversations: out of the inbox until then, or until they write."""
    if choice not in conversations.SNOOZES:
        raise ValidationFailed("Snooze for 4 hours, 1 day, 3 days or 1 week.", field="snooze")
    run = _Run(actor, "snooze", "conversation", selection.missing)
    for conv in selection.rows:
        run.done.append((conv, {}))
        conversations.snooze_conversation(actor, conv, choice)
    label = conversations.SNOOZES[choice][0]
    return run.finish(f"{_plural(len(run.done), 'conversation')} snoozed for {label}",
                      _conversation_state)


# Undo --------------------------------------------------------------------------------------
def get_change(actor, change_id: int) -> BulkChange | None:
    """A bulk action of `actor`'s own (nobody else's), or None."""
    change = db.session.get(BulkChange, change_id)
    return change if change is not None and change.user_id == actor.id else None


def can_undo(change: BulkChange) -> bool:
    return change.undone_at is None and utcnow() <= change.undo_until and bool(change.rows)


def undo(actor, change: BulkChange) -> str:
    """Put each row back as it was, unless someone changed it since (those are skipped and
    named). Only its author, only for UNDO_MINUTES."""
    if change.user_id != actor.id:
        raise ValidationFailed("Only the person who did it can undo a bulk action.")
    if change.undone_at is not None:
        raise ValidationFailed("This bulk action was already undone.")
    if utcnow() > change.undo_until:
        raise ValidationFailed(f"Undo is possible for {UNDO_MINUTES} minutes after a bulk "
                               "action; this one is older.")
    put_back, changed = 0, []
    undo_row = _UNDO[change.action]
    for row in change.rows:
        name = undo_row(actor, change, row)
        if name is None:
            put_back += 1
        else:
            changed.append(name)
    noun = "conversation" if change.entity_type == "conversation" else "contact"
    text = f"Undone: {_plural(put_back, noun)} put back as they were"
    if changed:
        names = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        text += (f"; {len(changed)} left as they are, because someone changed them since "
                 f"(or you no longer may): {names}")
    text += "."
    change.undone_at = utcnow()
    change.undo_summary = text[:500]
    db.session.flush()
    audit.record(actor, f"undo_{change.action}", change, entity_type="bulk_change",
                 summary=text[:255], changes={"put_back": put_back, "left": len(changed)})
    return text


def _contact_row(actor, change, row):
    """The contact to put back, or its name (or a placeholder) when it changed since."""
    contact = db.session.get(Contact, row.entity_id)
    if contact is None or not policy.can_edit_contact(actor, contact):
        return None, f"contact #{row.entity_id}"
    if contact.version != row.after.get("version"):
        return None, contact.name
    return contact, None


def _undo_contact(actor, change, row):
    contact, left = _contact_row(actor, change, row)
    if contact is None:
        return left
    if change.action == "reassign":
        contacts.set_owner(actor, contact, row.before.get("owner_id"))
    elif change.action == "tag":
        contacts.update_contact(actor, contact, {}, tags=row.before.get("tags", []))
    elif change.action == "archive":
        contacts.restore(actor, contact)
    elif change.action == "restore":
        contacts.archive(actor, contact)
    return None


def _undo_campaign(actor, change, row):
    deal = db.session.get(Deal, row.entity_id)
    if deal is None or not policy.can_view_deal(actor, deal):
        return f"deal #{row.entity_id}"
    if deal.version != row.after.get("version") or deal.archived_at is not None:
        return deal.contact.name
    campaigns.withdraw_from_campaign(actor, deal, "bulk add undone")
    return None


def _undo_conversation(actor, change, row):
    conv = db.session.get(Conversation, row.entity_id)
    if conv is None or not policy.can_view_contact(actor, conv.contact):
        return f"conversation #{row.entity_id}"
    if _conversation_state(conv) != row.after:
        return conv.contact.name
    conversations.reopen_conversation(actor, conv)
    return None


_UNDO = {"reassign": _undo_contact, "tag": _undo_contact, "archive": _undo_contact,
         "restore": _undo_contact, "campaign": _undo_campaign, "close": _undo_conversation,
         "snooze": _undo_conversation}

