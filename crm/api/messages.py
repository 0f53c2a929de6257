"""POST /api/v1/messages: DMs from a source Rapport has no channel for (a bridge for
LinkedIn, X or TikTok), written through the one ingestion service: a message sent again
(the same external_id) adds nothing, reply state and reports follow, an outbound message to
someone who opted out is refused, an inbound one is checked for an opt-out. All or nothing:
one refused message refuses the request, and nothing of it is kept."""
from flask import abort
from flask_login import current_user

from crm import policy
from crm.api.blueprint import bp
from crm.api.schemas import IngestedOut, MessagesIn
from crm.channels.people import by_scoped_id
from crm.contacts import services as contacts
from crm.contacts.handles import HandleError, normalize_handle
from crm.conversations import ingest
from crm.conversations.ingest import IncomingMessage
from crm.conversations.models import OUTBOUND
from crm.core.errors import ValidationFailed
from crm.core.timeutil import to_utc_naive
from crm.extensions import db

TAG = "Messages"
# The same answer whether nobody has it or someone the user may not see: a 404 says nothing
# of records out of scope.
NO_HANDLE = "No contact you may see has that handle; send create_contact to create one."
NO_ACCOUNT = "No contact you may see has that account; send create_contact to create one."


def _visible(contact):
    """The contact when the token's user may see it; else the same 404 as an unknown one."""
    if contact is None or not policy.can_view_contact(current_user, contact):
        return None
    return contact


def _create(data: dict, platform: str, handle: str, account_id: str | None, field: str):
    contact = contacts.create_contact(current_user, {k: v for k, v in data.items()})
    contacts.add_handle(current_user, contact, platform, handle, account_id=account_id,
                        field=field, audited=False)
    db.session.flush()
    return contact


def contact_for(ref: dict, new: dict | None):
    """(the contact the messages are with, whether it was created now)."""
    if "id" in ref:
        return policy.get_contact(current_user, ref["id"]), False
    if "handle" in ref:
        platform, raw = ref["handle"]["platform"], ref["handle"]["handle"]
        try:
            handle = normalize_handle(platform, raw)
        except HandleError as e:
            raise ValidationFailed(str(e), field="contact.handle.handle")
        found = contacts.find_handle(platform, handle)
        if found is not None:
            contact = _visible(found.contact)
            if contact is None:
                abort(404, NO_HANDLE)
            return contact, False
        if new is None:
            abort(404, NO_HANDLE)
        return _create(new, platform, raw, None, "contact.handle.handle"), True
    platform, account_id = ref["account"]["platform"], ref["account"]["account_id"]
    found = by_scoped_id(platform, account_id)
    if found is not None:
        contact = _visible(found)
        if contact is None:
            abort(404, NO_ACCOUNT)
        return contact, False
    if new is None:
        abort(404, NO_ACCOUNT)
    return _create(new, platform, account_id, account_id, "contact.account.account_id"), True


@bp.post("/messages", endpoint="ingest_messages")
@bp.input(MessagesIn)
@bp.output(IngestedOut, status_code=201)
@bp.doc(tags=[TAG], summary="Add messages of a conversation",
        description="One or many messages with one contact (by id, handle or the "
                    "platform's account id; created when `create_contact` is sent and none "
                    "matches). Idempotent by `external_id`: 201 when something was added, "
                    "200 when every message was already there. An outbound message to "
                    "someone who may not be contacted is refused (409); one bad message "
                    "refuses them all (422), and nothing is written.",
        responses={200: "Every message was already there: nothing added.",
                   404: "No contact you may see matches (and none was to be created).",
                   409: "Refused by the consent gate."})
def ingest_messages(json_data):
    contact, created = contact_for(json_data["contact"], json_data.get("create_contact"))
    conv = ingest.conversation_for(contact, json_data["platform"], json_data["thread_id"])
    incoming = [IncomingMessage(
        m["direction"], to_utc_naive(m["sent_at"]), m.get("body") or "", m.get("media"),
        external_id=m["external_id"], sender_name=m.get("sender_name"),
        written_in_rapport=m["direction"] == OUTBOUND) for m in json_data["messages"]]
    result = ingest.ingest(current_user, conv, incoming, source=ingest.API)
    db.session.flush()
    body = {"contact_id": contact.id, "contact_created": created, "conversation_id": conv.id,
            "added": result.added, "duplicates": result.duplicates,
            "opt_out_flagged": result.opt_out is not None}
    return body, 201 if result.added or created else 200
