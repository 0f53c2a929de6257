"""The one permission policy: who may see, list and edit which records.

Every view, fragment, export and CLI path asks here. Out of scope means 404, never 403,
so that a URL does not reveal whether a record exists.
"""
from flask import abort
from sqlalchemy import false, or_, select

from crm.campaigns.models import Campaign
from crm.contacts.models import Contact
from crm.conversations.models import Conversation
from crm.core.forms import int_or_none
from crm.extensions import db
from crm.imports.models import ImportRun
from crm.pipeline.models import Deal
from crm.saved_views.models import SavedView
from crm.tasks.models import Task


def _is_manager(user) -> bool:
    return bool(user and user.is_authenticated and user.is_manager)


def scope_key(user):
    """What every scope below depends on, for remembering what a scope reads: "all" for a
    manager or admin, otherwise the user's id."""
    return "all" if _is_manager(user) else user.id


# Contacts ------------------------------------------------------------------------------
def contact_scope(user):
    """A WHERE clause limiting Contact rows to those `user` may see."""
    if _is_manager(user):
        return True
    return or_(Contact.owner_id == user.id, Contact.owner_id.is_(None))


def owner_scope(user, owner_id: int):
    """A WHERE clause for the contacts of `owner_id` that `user` may see: `contact_scope` and
    that owner together, said as the one clause they amount to. (Said as both, PostgreSQL
    multiplies their shares and expects a tenth of a rep's contacts.)"""
    if may_see_contact_of(user, owner_id):
        return Contact.owner_id == owner_id
    return false()


def can_view_contact(user, contact) -> bool:
    if contact is None:
        return False
    return may_see_contact_of(user, contact.owner_id)


def may_see_contact_of(user, owner_id: int | None) -> bool:
    """`can_view_contact` for a row that carries only the contact's owner (a board card
    reads its deal's copy of it)."""
    return _is_manager(user) or owner_id in (None, user.id)


def can_edit_contact(user, contact) -> bool:
    """Reps edit what they may see; managers and admins edit everything."""
    return can_view_contact(user, contact)


def can_reassign(user) -> bool:
    return _is_manager(user)


def can_claim(user, contact) -> bool:
    return contact.owner_id is None and user.role == "rep"


def get_contact(user, contact_id, *, for_update: bool = False, options=()):
    """The contact, or 404 when it does not exist or `user` may not see it. `options` are
    loader options: what the caller's answer does not show need not be read with it."""
    contact = db.session.get(Contact, contact_id, options=options)
    if not can_view_contact(user, contact):
        abort(404)
    return contact


# Conversations and messages follow their contact ---------------------------------------
def conversation_scope(user):
    """`contact_scope` for conversations. The conversation keeps its contact's owner
    (contact_owner_id, kept by crm.contacts.owner_copies): the rule reads the conversation
    alone."""
    if _is_manager(user):
        return True
    return or_(Conversation.contact_owner_id == user.id, Conversation.contact_owner_id.is_(None))


def conversation_owner_scope(user, owner_id: int):
    """`owner_scope` for conversations: those of `owner_id`'s contacts that `user` may see."""
    if may_see_contact_of(user, owner_id):
        return Conversation.contact_owner_id == owner_id
    return false()


def get_conversation(user, conversation_id):
    conv = db.session.get(Conversation, conversation_id)
    if conv is None or not can_view_contact(user, conv.contact):
        abort(404)
    return conv


def can_edit_message(user, message) -> bool:
    """Authors (or whoever logged it) correct their own entries; managers correct anyone's."""
    if _is_manager(user):
        return True
    return user.id in {message.author_id, getattr(message, "logged_by_id", None)} - {None}


# Deals: a rep sees the deals they own and the deals on contacts they may see -------------
# Owning a deal on someone else's contact is a key to the deal, not to the person: the deal
# shows the contact's name and nothing else of them (no page, handle, consent, DMs, nor the
# tasks of others), and outreach to them needs a contact the user may see (README, Security).
def deal_scope(user, contact=None):
    """With `contact` (one the user may see), the clause for that contact's deals: every one
    of them is in scope."""
    if _is_manager(user) or (contact is not None and can_view_contact(user, contact)):
        return True
    # The deal keeps its contact's owner (contact_owner_id, kept by crm.contacts.owner_copies), so
    # the rule reads the deal alone: the covering ix_deals_board_totals answers a rep's
    # board totals without looking up a single contact.
    return or_(Deal.owner_id == user.id, Deal.contact_owner_id == user.id,
               Deal.contact_owner_id.is_(None))


def can_view_deal(user, deal) -> bool:
    if deal is None:
        return False
    return _is_manager(user) or deal.owner_id == user.id or can_view_contact(user, deal.contact)


def get_deal(user, deal_id, *, options=()):
    """The deal, or 404 (as get_contact, `options` included)."""
    deal = db.session.get(Deal, deal_id, options=options)
    if not can_view_deal(user, deal):
        abort(404)
    return deal


# Tasks: assigned to me, or on a contact I may see -----------------------------------------
def task_scope(user, contact=None):
    """With `contact` (one the user may see, as `get_contact` gave it), the clause for that
    contact's tasks: every one of them is in scope, so there is nothing to test."""

    if _is_manager(user) or (contact is not None and can_view_contact(user, contact)):
        return True
    return or_(Task.assignee_id == user.id,
               Task.contact_id.in_(select(Contact.id).where(contact_scope(user))))


def can_view_task(user, task) -> bool:
    """A deleted task is seen by nobody (the audit log keeps what it was)."""
    if task is None or task.status == "deleted":
        return False
    return may_see_task(user, task.assignee_id,
                        task.contact is not None and can_view_contact(user, task.contact))


def may_see_task(user, assignee_id: int | None, contact_visible: bool) -> bool:
    """`can_view_task` for a row read without its task: given to the user, or on a contact
    they may see."""
    return _is_manager(user) or assignee_id == user.id or contact_visible


def may_be_given_task(user, contact=None, deal=None) -> bool:
    """Whether `user` may be a task's assignee: they may see its contact or its deal (a
    reminder on a deal they own on someone else's contact), so nobody is handed work on a
    record they may not open."""
    if contact is None and deal is None:
        return True
    return can_view_contact(user, contact) or (deal is not None and can_view_deal(user, deal))


def get_task(user, task_id):
    task = db.session.get(Task, task_id)
    if not can_view_task(user, task):
        abort(404)
    return task


# Campaigns are shared; the deals inside them are scoped by deal_scope -------------------
def can_manage_campaign(user, campaign=None) -> bool:
    return _is_manager(user) or (campaign is not None and campaign.owner_id == user.id)


def get_campaign(user, campaign_id):
    """Any signed-in user may open a campaign; what it shows is limited by deal_scope."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not (user and user.is_authenticated):
        abort(404)
    return campaign


# Templates are shared by the team; their author or a manager edits them ------------------
def can_edit_template(user, template) -> bool:
    return _is_manager(user) or template.created_by_id == user.id


# Imports: the person who ran it, or a manager -------------------------------------------
def import_scope(user):
    if _is_manager(user):
        return True
    return ImportRun.created_by_id == user.id


def get_import(user, run_id, kind: str | None = None):
    """An import run the user started (managers: anyone's); with `kind`, only that kind."""
    run = db.session.get(ImportRun, run_id)
    if run is None or not (_is_manager(user) or run.created_by_id == user.id):
        abort(404)
    if kind is not None and run.kind != kind:
        abort(404)
    return run


# Reports: a rep's dashboard counts their own records; managers choose anyone or everyone --
def report_owner_id(user, requested=None) -> int | None:
    """Whose records the dashboard counts (None: everyone's, for managers and admins only)."""
    if not _is_manager(user):
        return user.id
    return int_or_none(requested)


# Saved views: one's own, and those shared with the team; their owner (or, when shared, an
# admin) edits them ------------------------------------------------------------------------
def saved_view_scope(user_id):
    """A WHERE clause limiting SavedView rows to the user's own and the shared ones (`user_id`
    may be a bound parameter, for a statement built once)."""
    return or_(SavedView.owner_id == user_id, SavedView.shared.is_(True))


def can_edit_saved_view(user, view) -> bool:
    return view.owner_id == user.id or (view.shared and bool(user.is_admin))


def get_saved_view(user, view_id):
    """A view the user may see (their own or a shared one), or 404."""
    view = db.session.get(SavedView, view_id)
    if view is None or not (view.owner_id == user.id or view.shared):
        abort(404)
    return view


# Administration ------------------------------------------------------------------------
def require_admin(user) -> None:
    if not (user and user.is_authenticated and user.is_admin):
        abort(404)


def require_manager(user) -> None:
    if not _is_manager(user):
        abort(404)
