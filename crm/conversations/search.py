"""Finding messages by their words, newest first, within the viewer's scope: FTS5 on
SQLite, the GIN text-search index on PostgreSQL (crm.conversations.search_index)."""
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import column, select, table, text

from crm import policy
from crm.contacts.models import Contact
from crm.contacts.queries import CrossJoin
from crm.conversations.models import Conversation, Message
from crm.extensions import db

MESSAGES_FTS = table("messages_fts", column("rowid"))
# Letters and digits only: FTS5 and PostgreSQL's parser both split words at anything else,
# and nothing typed can then change the query's syntax.
_WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 8
PREFIX_FROM = 3      # the last word, while typed, matches as a prefix from this length
EXCERPT = 100


@dataclass
class MessageHit:
    id: int
    conversation_id: int
    contact_id: int
    contact_name: str
    platform: str
    direction: str
    sent_at: datetime
    excerpt: str


def words(q: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(q)][:MAX_WORDS]


def _fts5_query(terms: list[str]) -> str:
    quoted = ['"' + t + '"' for t in terms]
    if len(terms[-1]) >= PREFIX_FROM:
        quoted[-1] += "*"
    return " ".join(quoted)


def _tsquery(terms: list[str]) -> str:
    quoted = ["'" + t + "'" for t in terms]
    if len(terms[-1]) >= PREFIX_FROM:
        quoted[-1] += ":*"
    return " & ".join(quoted)


def excerpt(body: str, terms: list[str], width: int = EXCERPT) -> str:
    """The part of `body` around its first matching word, on one line."""
    flat = " ".join(body.split())
    if len(flat) <= width:
        return flat
    lower = flat.lower()
    at = min((i for i in (lower.find(t) for t in terms) if i >= 0), default=0)
    start = max(0, min(at - width // 3, len(flat) - width))
    cut = flat[start:start + width]
    return ("…" if start else "") + cut + ("…" if start + width < len(flat) else "")


def find_messages(user, q: str, limit: int = 5) -> list[MessageHit]:
    """The newest few messages holding every word of `q` (the last may be half typed), on
    contacts the user may see."""
    terms = words(q)
    if not terms:
        return []
    columns = (Message.id, Message.conversation_id, Conversation.contact_id, Contact.name,
               Conversation.platform, Message.direction, Message.sent_at, Message.body)
    if db.engine.dialect.name == "sqlite":
        # From the index outwards, newest id first (FTS5 walks its rowids backwards), each
        # hit then a primary-key lookup, until `limit` are in the user's scope.
        stmt = (select(*columns)
                .select_from(CrossJoin(MESSAGES_FTS, Message.__table__,
                                       Message.id == MESSAGES_FTS.c.rowid))
                .where(text("messages_fts MATCH :words").bindparams(words=_fts5_query(terms)))
                .order_by(MESSAGES_FTS.c.rowid.desc()))
    else:
        matching = _pg_matching(terms)
        if matching is None:
            return []
        stmt = select(*columns).where(matching).order_by(Message.id.desc())
    stmt = (stmt.join(Conversation, Conversation.id == Message.conversation_id)
            .join(Contact, Contact.id == Conversation.contact_id)
            .where(policy.contact_scope(user)).limit(limit))
    return [MessageHit(*row[:-1], excerpt(row.body, terms)) for row in db.session.execute(stmt)]


# PostgreSQL's GIN index finds the messages holding some words, but not newest first. Words
# held by at most this many messages are read from it (all of them, then the newest few
# in scope kept); commoner ones, by walking the messages backwards until enough are found,
# which is quick only because they are common (for a rare word it would read every message).
INDEX_FIRST_UP_TO = 2000


def _pg_matching(terms: list[str]):
    """The clause for the messages holding `terms`, chosen by how many there are (one capped
    look in the index decides); None when no message holds them."""
    # Written as the index is (to_tsvector('simple', body)), so the planner can use it.
    matches = text("to_tsvector('simple', messages.body) @@ to_tsquery('simple', :words)"
                   ).bindparams(words=_tsquery(terms))
    found = db.session.scalars(select(Message.id).where(matches)
                               .limit(INDEX_FIRST_UP_TO + 1)).all()
    if not found:
        return None
    return Message.id.in_(found) if len(found) <= INDEX_FIRST_UP_TO else matches
