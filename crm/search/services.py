"""One search over contacts, deals, campaigns, messages and pages, each read through its
feature's query and scoped by the policy; a few of each kind, every query on an index."""
from dataclasses import dataclass, field

from crm.campaigns.queries import find_campaigns
from crm.contacts.queries import find_contacts
from crm.conversations.search import find_messages
from crm.pipeline.queries import find_deals
from crm.search.destinations import find_destinations

MIN_LENGTH = 2
MAX_LENGTH = 100
PER_KIND = 5          # in the palette
PER_KIND_PAGE = 10    # on the search page


@dataclass
class Results:
    q: str
    error: str | None = None
    contacts: list = field(default_factory=list)
    deals: list = field(default_factory=list)
    campaigns: list = field(default_factory=list)
    messages: list = field(default_factory=list)
    pages: list = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(x) for x in (self.contacts, self.deals, self.campaigns, self.messages,
                                    self.pages))


def search(user, q: str, per_kind: int = PER_KIND) -> Results:
    """What `user` may see that matches `q`; a query too short or too long says so instead."""
    q = " ".join((q or "").split())
    if not q:
        return Results(q)
    if len(q) < MIN_LENGTH:
        return Results(q, error=f"Type at least {MIN_LENGTH} characters to search.")
    if len(q) > MAX_LENGTH:
        return Results(q[:MAX_LENGTH], error=f"Search for at most {MAX_LENGTH} characters.")
    return Results(q, contacts=find_contacts(user, q, per_kind),
                   deals=find_deals(user, q, per_kind),
                   campaigns=find_campaigns(user, q, per_kind),
                   messages=find_messages(user, q, per_kind),
                   pages=find_destinations(user, q, per_kind))
