"""What the generator remembers about the rows it has written, so later parts (DMs, deals,
tasks) can stay consistent with earlier ones without reading the database back."""
import random
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Person:
    """One generated contact (only what later steps need)."""

    id: int
    kind: str
    name: str
    first: str
    owner_id: int | None
    created_at: datetime
    handles: list            # [(platform, handle)]
    consent: str = "unknown"
    dnc: bool = False
    archived_at: datetime | None = None
    # Outreach is not allowed from this moment on (opt-out or do-not-contact).
    blocked_at: datetime | None = None
    opt_out_by_dm: bool = False

    @property
    def may_contact(self) -> bool:
        return not self.dnc and self.consent != "opted_out" and self.archived_at is None


@dataclass
class ConversationSummary:
    id: int
    contact_id: int
    platform: str
    state: str
    last_outbound_at: datetime | None
    last_outbound_id: int | None
    last_outbound_author: int | None


@dataclass
class World:
    rng: random.Random
    now: datetime
    users: dict = field(default_factory=dict)        # role -> [user id]
    user_names: dict = field(default_factory=dict)   # id -> name
    people: list = field(default_factory=list)       # Person, index = id - 1
    conversations: list = field(default_factory=list)
    templates: list = field(default_factory=list)    # [(id, name, body)]
    import_runs: list = field(default_factory=list)  # [(id, platform)]
    open_deals: dict = field(default_factory=dict)   # contact id -> [(deal id, follow-up days)]
    deal_ids: dict = field(default_factory=dict)     # contact id -> [deal id]
    special: dict = field(default_factory=dict)      # ids the benchmark asks for by name

    @property
    def reps(self) -> list:
        return self.users["rep"]

    @property
    def managers(self) -> list:
        return self.users["manager"]

    def person(self, contact_id: int) -> Person:
        return self.people[contact_id - 1]
