"""The shapes of the API: what each request may carry (validated before any service runs:
unknown fields, wrong types and values out of range are refused naming the field) and what
each answer holds. The OpenAPI document is generated from these classes."""
from datetime import timezone

from apiflask import Schema
from apiflask.fields import (AwareDateTime, Boolean, Date, Float, Integer, List, Nested, String)
from apiflask.validators import Length, OneOf, Range
from marshmallow import RAISE, ValidationError, validates_schema

from crm.contacts.models import CONSENT_STATES, KINDS, PLATFORMS
from crm.conversations.ingest import MAX_BODY
from crm.conversations.models import INBOUND, MEDIA_LABELS, OUTBOUND

PAGE_MAX = 100
MESSAGES_MAX = 100


class When(AwareDateTime):
    """A time: ISO 8601; without an offset it is read as UTC; always answered in UTC (the
    database keeps naive UTC times)."""

    def __init__(self, **kwargs):
        super().__init__(default_timezone=timezone.utc, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


def Flag(**kwargs):
    """A JSON boolean: true or false, not "yes" or 1."""
    return Boolean(truthy={True}, falsy={False}, **kwargs)


def Id(**kwargs):
    return Integer(strict=True, validate=Range(min=1), **kwargs)


class In(Schema):
    """Requests refuse what they do not know."""
    class Meta:
        unknown = RAISE


# Answers ---------------------------------------------------------------------------------
class UserOut(Schema):
    id = Integer()
    name = String()
    role = String(metadata={"enum": ["admin", "manager", "rep"]})
    active = Boolean()


class MeOut(UserOut):
    email = String()
    timezone = String()


class HandleOut(Schema):
    id = Integer()
    platform = String(metadata={"enum": list(PLATFORMS)})
    handle = String()
    followers = Integer(allow_none=True)
    engagement_rate = Float(allow_none=True)
    account_id = String(allow_none=True, metadata={"description": "The platform's own id "
                                                   "of the account, when known."})


class ContactSummaryOut(Schema):
    id = Integer()
    name = String()
    kind = String(metadata={"enum": list(KINDS)})
    company = String(allow_none=True)
    consent_status = String(metadata={"enum": list(CONSENT_STATES)})
    do_not_contact = Boolean()
    owner_name = String(allow_none=True)
    handles = List(Nested(HandleOut))
    tags = List(String())


class ContactOut(Schema):
    id = Integer()
    kind = String(metadata={"enum": list(KINDS)})
    name = String()
    first_name = String(allow_none=True)
    email = String(allow_none=True)
    phone = String(allow_none=True)
    company = String(allow_none=True)
    location = String(allow_none=True)
    notes = String(allow_none=True)
    owner_id = Integer(allow_none=True)
    consent_status = String(metadata={"enum": list(CONSENT_STATES),
                                      "description": "Read-only: change it with "
                                                     "POST /contacts/{id}/consent."})
    do_not_contact = Boolean()
    consent_changed_at = When(allow_none=True)
    may_contact = Boolean(metadata={"description": "Whether outreach is allowed now."})
    archived_at = When(allow_none=True)
    tags = List(String())
    handles = List(Nested(HandleOut))
    version = Integer(metadata={"description": "Send it back with a change: a change made "
                                               "meanwhile answers 409."})
    created_at = When()
    updated_at = When()


class ConsentEventOut(Schema):
    id = Integer()
    contact_id = Integer()
    at = When()
    from_status = String()
    to_status = String()
    from_dnc = Boolean()
    to_dnc = Boolean()
    source = String()
    note = String(allow_none=True)


class ConversationContactOut(Schema):
    name = String()
    do_not_contact = Boolean()
    consent_status = String()
    owner_name = String(allow_none=True)


class ConversationSummaryOut(Schema):
    id = Integer()
    contact_id = Integer()
    platform = String()
    title = String(allow_none=True)
    is_group = Boolean()
    waiting_since = When(allow_none=True)
    last_outbound_at = When(allow_none=True)
    last_message_preview = String(allow_none=True)
    opt_out_message_id = Integer(allow_none=True, metadata={
        "description": "An inbound message that reads like an opt-out, not yet acted on."})
    contact = Nested(ConversationContactOut)


class ConversationOut(Schema):
    id = Integer()
    contact_id = Integer()
    platform = String()
    external_thread_id = String()
    title = String(allow_none=True)
    is_group = Boolean()
    state = String(metadata={"enum": ["needs_reply", "awaiting_reply", "closed"]})
    waiting_since = When(allow_none=True)
    last_message_at = When(allow_none=True)
    last_inbound_at = When(allow_none=True)
    last_outbound_at = When(allow_none=True)
    message_count = Integer()
    last_message_preview = String(allow_none=True)
    opt_out_message_id = Integer(allow_none=True)
    snoozed_until = When(allow_none=True)
    created_at = When()


class MessageOut(Schema):
    id = Integer()
    conversation_id = Integer()
    direction = String(metadata={"enum": [INBOUND, OUTBOUND]})
    sent_at = When()
    body = String()
    media = String(allow_none=True, metadata={"enum": [*MEDIA_LABELS, None]})
    author_id = Integer(allow_none=True)
    sender_name = String(allow_none=True)
    template_id = Integer(allow_none=True)
    external_id = String(allow_none=True)
    edited_at = When(allow_none=True)
    delivery_status = String(allow_none=True)
    deleted_at = When(allow_none=True)


class DealSummaryOut(Schema):
    id = Integer()
    title = String()
    version = Integer()
    stage_id = Integer()
    contact_id = Integer()
    contact_name = String()
    platform = String(allow_none=True)
    value_minor = Integer()
    currency = String()
    stage_entered_at = When()
    next_step = String(allow_none=True)
    next_step_on = Date(allow_none=True)
    outcome = String(metadata={"enum": ["open", "won", "lost"]})
    owner_name = String(allow_none=True)
    campaign_name = String(allow_none=True)


class DealOut(Schema):
    id = Integer()
    title = String()
    contact_id = Integer()
    pipeline_id = Integer()
    stage_id = Integer()
    campaign_id = Integer(allow_none=True)
    owner_id = Integer(allow_none=True)
    value_minor = Integer()
    currency = String()
    platform = String(allow_none=True)
    outcome = String(metadata={"enum": ["open", "won", "lost"]})
    stage_entered_at = When()
    closed_at = When(allow_none=True)
    lost_reason_id = Integer(allow_none=True)
    lost_note = String(allow_none=True)
    expected_close_on = Date(allow_none=True)
    next_step = String(allow_none=True)
    next_step_on = Date(allow_none=True)
    version = Integer()
    created_at = When()
    updated_at = When()


class TaskOut(Schema):
    id = Integer()
    title = String()
    notes = String(allow_none=True)
    due_at = When()
    assignee_id = Integer(allow_none=True)
    contact_id = Integer(allow_none=True)
    deal_id = Integer(allow_none=True)
    status = String(metadata={"enum": ["open", "done", "cancelled"]})
    is_outreach = Boolean()
    auto = Boolean()
    done_at = When(allow_none=True)
    version = Integer()


class CampaignOut(Schema):
    id = Integer()
    name = String()
    brand = String(allow_none=True)
    starts_on = Date(allow_none=True)
    ends_on = Date(allow_none=True)
    budget_minor = Integer(allow_none=True)
    currency = String()
    description = String(allow_none=True)
    owner_id = Integer(allow_none=True)
    archived_at = When(allow_none=True)
    version = Integer()


class StageOut(Schema):
    id = Integer()
    name = String()
    position = Integer()
    outcome = String(metadata={"enum": ["open", "won", "lost"]})
    retired_at = When(allow_none=True)


class PipelineOut(Schema):
    id = Integer()
    name = String()
    kind = String(metadata={"enum": ["sales", "influencer"]})
    follow_up_days = Integer()
    stages = List(Nested(StageOut))


def page_of(item, name: str):
    """A cursor page of `item`: the rows, and the link to the next page (null at the end)."""
    return Schema.from_dict({
        "data": List(Nested(item)),
        "next": String(allow_none=True, metadata={
            "description": "The URL of the next page (same filters); null on the last."}),
    }, name=name)


# Requests --------------------------------------------------------------------------------
class PageArgs(In):
    cursor = String(metadata={"description": "From the `next` link of the previous page."})
    limit = Integer(strict=False, validate=Range(min=1, max=PAGE_MAX), load_default=25)


class ContactArgs(PageArgs):
    q = String(validate=Length(max=100), metadata={"description": "Name, handle, email …"})
    kind = String(validate=OneOf(KINDS))
    owner = String(metadata={"description": "me, none or a user id"})
    platform = String(validate=OneOf(PLATFORMS))
    consent = String(validate=OneOf([*CONSENT_STATES, "dnc"]))
    tag = String(validate=Length(max=64))
    archived = Boolean(load_default=False)
    sort = String(validate=OneOf(["name", "newest", "updated"]), load_default="name")


class HandleIn(In):
    platform = String(required=True, validate=OneOf(PLATFORMS))
    handle = String(required=True, validate=Length(min=1, max=255))
    followers = Integer(strict=True, allow_none=True, validate=Range(min=0))
    engagement_rate = Float(allow_none=True, validate=Range(min=0, max=100))


class ContactFields(In):
    kind = String(validate=OneOf(KINDS))
    name = String(validate=Length(min=1, max=200))
    first_name = String(allow_none=True, validate=Length(max=100))
    email = String(allow_none=True, validate=Length(max=255))
    phone = String(allow_none=True, validate=Length(max=50))
    company = String(allow_none=True, validate=Length(max=200))
    location = String(allow_none=True, validate=Length(max=200))
    notes = String(allow_none=True, validate=Length(max=20000))
    tags = List(String(validate=Length(min=1, max=64)), validate=Length(max=50))


class ContactIn(ContactFields):
    name = String(required=True, validate=Length(min=1, max=200))
    owner_id = Id(allow_none=True)
    handles = List(Nested(HandleIn), validate=Length(max=20))


class ContactPatch(ContactFields):
    version = Integer(strict=True, metadata={
        "description": "The version you read: a change made meanwhile answers 409."})


class ConsentIn(In):
    status = String(validate=OneOf(CONSENT_STATES))
    do_not_contact = Flag()
    source = String(validate=Length(max=200), metadata={
        "description": "Where and how the person said so (required to opt in again "
                       "someone who opted out)."})
    note = String(allow_none=True, validate=Length(max=2000))
    confirm = Flag(load_default=False, metadata={
        "description": "To opt in again someone who opted out: they asked for it."})

    @validates_schema
    def _something(self, data, **kwargs):
        if "status" not in data and "do_not_contact" not in data:
            raise ValidationError("Send status, do_not_contact or both.", "status")


class InboxArgs(PageArgs):
    view = String(validate=OneOf(["needs", "awaiting"]), load_default="needs")
    owner = String(metadata={"description": "me, none or a user id"})
    platform = String(validate=OneOf(PLATFORMS))


class ThreadArgs(In):
    cursor = String()
    limit = Integer(strict=False, validate=Range(min=1, max=PAGE_MAX), load_default=20)


class DealArgs(PageArgs):
    stage = Integer(strict=False, required=True, metadata={
        "description": "A stage id: its deals, newest in the stage first (a board column)."})
    owner = String(metadata={"description": "me, none or a user id"})
    campaign = Integer(strict=False)
    platform = String(validate=OneOf(PLATFORMS))


class DealMoveIn(In):
    stage_id = Id(required=True)
    version = Integer(strict=True, required=True, metadata={
        "description": "The deal's version you read: a move made meanwhile answers 409."})
    lost_reason_id = Id(allow_none=True, metadata={"description": "Needed for a lost stage."})
    lost_note = String(allow_none=True, validate=Length(max=2000))


class DealFields(In):
    title = String(validate=Length(min=1, max=200))
    value_minor = Integer(strict=True, validate=Range(min=0), metadata={
        "description": "The value in minor units (cents)."})
    currency = String(validate=OneOf(["USD", "EUR", "GBP"]))
    owner_id = Id(allow_none=True)
    campaign_id = Id(allow_none=True, metadata={
        "description": "A campaign deal passes the consent gate (409 when refused)."})
    platform = String(allow_none=True, validate=OneOf(PLATFORMS))
    expected_close_on = Date(allow_none=True)
    next_step = String(allow_none=True, validate=Length(max=200))
    next_step_on = Date(allow_none=True)


class DealIn(DealFields):
    contact_id = Id(required=True)
    title = String(required=True, validate=Length(min=1, max=200))
    stage_id = Id(allow_none=True, metadata={
        "description": "An open stage (default: the first of the contact's pipeline)."})


class DealPatch(DealFields):
    version = Integer(strict=True, required=True, metadata={
        "description": "The deal's version you read: a change made meanwhile answers 409."})


class CampaignPersonIn(In):
    contact_id = Id(required=True)
    stage_id = Id(allow_none=True)
    value_minor = Integer(strict=True, allow_none=True, validate=Range(min=0))


class TaskArgs(PageArgs):
    section = String(validate=OneOf(["overdue", "today", "upcoming"]), load_default="today")
    who = String(load_default="me", metadata={
        "description": "me; managers: all, none or a user id"})


class TaskIn(In):
    title = String(required=True, validate=Length(min=1, max=200))
    due_at = When(required=True)
    notes = String(allow_none=True, validate=Length(max=20000))
    contact_id = Id(allow_none=True)
    deal_id = Id(allow_none=True)
    assignee_id = Id(allow_none=True)
    is_outreach = Flag(load_default=False)


class VersionIn(In):
    version = Integer(strict=True, required=True)


class CampaignArgs(PageArgs):
    archived = Boolean(load_default=False)


class HandleRef(In):
    platform = String(required=True, validate=OneOf(PLATFORMS))
    handle = String(required=True, validate=Length(min=1, max=255))


class AccountRef(In):
    platform = String(required=True, validate=OneOf(PLATFORMS))
    account_id = String(required=True, validate=Length(min=1, max=100))


class ContactRef(In):
    """Who the messages are with: exactly one of id, handle or account."""
    id = Id()
    handle = Nested(HandleRef)
    account = Nested(AccountRef, metadata={
        "description": "The platform's own id of the person (as its API gives it)."})

    @validates_schema
    def _exactly_one(self, data, **kwargs):
        if len([k for k in ("id", "handle", "account") if k in data]) != 1:
            raise ValidationError("Name the contact by exactly one of id, handle or account.",
                                  "id")


class NewContactIn(In):
    """The contact to create when none matches (its handle or account is added to it)."""
    name = String(required=True, validate=Length(min=1, max=200))
    kind = String(validate=OneOf(KINDS), load_default="contact")
    company = String(allow_none=True, validate=Length(max=200))
    email = String(allow_none=True, validate=Length(max=255))


class MessageIn(In):
    direction = String(required=True, validate=OneOf([INBOUND, OUTBOUND]),
                       metadata={"description": "in: the contact wrote; out: we wrote."})
    sent_at = When(required=True)
    body = String(load_default="", validate=Length(max=MAX_BODY))
    media = String(allow_none=True, validate=OneOf(list(MEDIA_LABELS)))
    external_id = String(required=True, validate=Length(min=1, max=200), metadata={
        "description": "The source's own message id: sending it again adds nothing."})
    sender_name = String(allow_none=True, validate=Length(max=200))

    @validates_schema
    def _text_or_attachment(self, data, **kwargs):
        if not (data.get("body") or "").strip() and not data.get("media"):
            raise ValidationError("A message needs text or an attachment (media).", "body")


class MessagesIn(In):
    contact = Nested(ContactRef, required=True)
    create_contact = Nested(NewContactIn, metadata={
        "description": "Create the contact when none matches the handle or account."})
    platform = String(required=True, validate=OneOf(PLATFORMS))
    thread_id = String(load_default="", validate=Length(max=200), metadata={
        "description": "The platform's thread id (empty: the contact's one conversation "
                       "there)."})
    messages = List(Nested(MessageIn), required=True,
                    validate=Length(min=1, max=MESSAGES_MAX))


class IngestedOut(Schema):
    contact_id = Integer()
    contact_created = Boolean()
    conversation_id = Integer()
    added = List(Nested(MessageOut))
    duplicates = Integer(metadata={"description": "Messages already stored (same "
                                                  "external_id): skipped."})
    opt_out_flagged = Boolean(metadata={
        "description": "An inbound message read like an opt-out: the conversation is "
                       "flagged for someone to confirm."})


class ProblemOut(Schema):
    type = String()
    title = String()
    status = Integer()
    detail = String()
    instance = String()
    errors = List(Nested(Schema.from_dict({"field": String(allow_none=True),
                                           "detail": String()}, name="ProblemField")))
