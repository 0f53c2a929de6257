"""/api/v1/conversations: the inbox's lists (needs reply, awaiting reply), a conversation,
its messages page by page (the thread's own query), and a contact's conversations."""
from types import SimpleNamespace

from flask_login import current_user

from crm import policy
from crm.api import paging
from crm.api.blueprint import bp
from crm.api.schemas import (ConversationOut, ConversationSummaryOut, InboxArgs, MessageOut,
                             ThreadArgs, page_of)
from crm.conversations.queries import (InboxFilters, contact_conversations, inbox_page,
                                       thread_chunk)
from crm.core.keyset import BadCursor, make_cursor, parse_cursor

TAG = "Conversations"
CONTACT_CONVERSATIONS = 100


@bp.get("/conversations", endpoint="conversations")
@bp.input(InboxArgs, location="query")
@bp.output(page_of(ConversationSummaryOut, "ConversationPage"))
@bp.doc(tags=[TAG], summary="List conversations waiting on you or on them",
        description="The inbox: `view=needs` (the contact waits on us; longest wait first) "
                    "or `view=awaiting` (we wait on them), of the contacts you may see.")
def list_conversations(query_data):
    args = {k: str(v) for k, v in query_data.items() if k in ("view", "owner", "platform")}
    found = inbox_page(current_user, InboxFilters.from_args(args),
                       after=paging.cursor_from(query_data), limit=query_data["limit"])
    return paging.page(found.rows, found.next_cursor)


@bp.get("/conversations/<int:conversation_id>", endpoint="conversation")
@bp.output(ConversationOut)
@bp.doc(tags=[TAG], summary="Get a conversation", responses=[404])
def get_conversation(conversation_id):
    return policy.get_conversation(current_user, conversation_id)


@bp.get("/conversations/<int:conversation_id>/messages", endpoint="messages")
@bp.input(ThreadArgs, location="query")
@bp.output(page_of(MessageOut, "MessagePage"))
@bp.doc(tags=[TAG], summary="A conversation's messages", responses=[404],
        description="The latest `limit` messages, oldest first; `next` gives the ones "
                    "before them.")
def list_messages(conversation_id, query_data):
    conv = policy.get_conversation(current_user, conversation_id)
    before = None
    token = paging.cursor_from(query_data)
    if token is not None:
        at_id = parse_cursor(token)
        if at_id is None:
            raise BadCursor("The cursor is not one this list gave out.")
        before = SimpleNamespace(sent_at=at_id[0], id=at_id[1])
    chunk = thread_chunk(conv, current_user, before=before, limit=query_data["limit"])
    first = chunk.messages[0] if chunk.messages else None
    more = make_cursor(first.sent_at, first.id) if chunk.has_more and first else None
    return paging.page(chunk.messages, more)


@bp.get("/contacts/<int:contact_id>/conversations", endpoint="contact_conversations")
@bp.output(page_of(ConversationOut, "ContactConversationList"))
@bp.doc(tags=[TAG], summary="A contact's conversations", responses=[404],
        description=f"Latest activity first (up to {CONTACT_CONVERSATIONS}; `next` is "
                    "always null).")
def list_contact_conversations(contact_id):
    contact = policy.get_contact(current_user, contact_id)
    return {"data": contact_conversations(contact, limit=CONTACT_CONVERSATIONS), "next": None}
