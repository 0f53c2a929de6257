"""What `make bench` measures, one line per page, with the issue's targets.

A page is measured once its endpoint exists in the app, so pages still being built are
simply skipped. `path` is filled in from the dataset (e.g. {big_contact}); a POST page
names a request builder in bench/forms.py instead, which writes valid forms. A page with
`after` is timed right after that write, made by the same user each time (no throughput:
wrk cannot pair the two).
"""
from dataclasses import dataclass

# Issue 15's shares on PostgreSQL: pages 12 %, search and filters 10 % (as on SQLite), the
# board and the dashboard 6 %, writes 10 % (as on SQLite).
PG_PAGES, PG_BOARD = 0.12, 0.06


@dataclass(frozen=True)
class Page:
    name: str
    endpoint: str                     # measured only when the app has this endpoint
    path: str = ""
    ratio: float | None = None        # target: throughput as a share of bare Flask
    p95_ms: float | None = None       # target: single-client p95
    post: str | None = None           # request builder in bench/forms.py (POST pages)
    after: str | None = None          # before each timed GET, this write as the same user
    roles: tuple = ("rep", "manager")
    headers: tuple = ()               # extra request headers, as (name, value) pairs
    bearer: bool = False              # the REST API: the role's API token, not its cookie
    pg_ratio: float | None = None     # on PostgreSQL, where issue 15 asks another share

    def ratio_on(self, database: str) -> float | None:
        """The throughput target on `database`."""
        return self.pg_ratio if database == "postgresql" and self.pg_ratio else self.ratio


PAGES = [
    Page("contacts list, first page", "contacts.index", "/contacts", 0.15, 20, pg_ratio=PG_PAGES),
    Page("contacts search (common surname)", "contacts.index", "/contacts?q=garcia", 0.10, 30),
    Page("contacts filter (influencers on Instagram)", "contacts.index",
         "/contacts?kind=influencer&platform=instagram", 0.10, 30),
    Page("contact page, 2,000-message conversation", "contacts.show",
         "/contacts/{big_contact}", 0.15, 20, pg_ratio=PG_PAGES),
    Page("needs-reply inbox", "conversations.inbox", "/inbox", 0.15, 20, pg_ratio=PG_PAGES),
    Page("pipeline board", "pipeline.board", "/board", 0.08, 50, pg_ratio=PG_BOARD),
    Page("Today (tasks)", "tasks.today", "/today", 0.15, 20, pg_ratio=PG_PAGES),
    Page("dashboard", "reports.dashboard", "/dashboard", p95_ms=100, pg_ratio=PG_BOARD),
    Page("dashboard, after the user's own DM", "reports.dashboard", "/dashboard", p95_ms=100,
         after="log_dm"),
    Page("log a DM (HTMX POST)", "conversations.log", ratio=0.10, p95_ms=25, post="log_dm"),
    Page("move a deal (HTMX POST)", "pipeline.move", ratio=0.10, p95_ms=25, post="move_deal"),
    # What the command palette asks while someone types: the results fragment (htmx), over
    # contacts, deals, campaigns, a million messages' words and the pages.
    Page("search palette (common surname)", "search.index", "/search?q=garcia&palette=1",
         0.10, 100, headers=(("HX-Request", "true"),)),
    # The REST API's lists (issue 22): as fast as the pages they mirror.
    Page("API contacts list", "api.contacts", "/api/v1/contacts", 0.15, 20, bearer=True),
    Page("API contacts filter (influencers on Instagram)", "api.contacts",
         "/api/v1/contacts?kind=influencer&platform=instagram", 0.10, 20, bearer=True),
    Page("API conversations needing a reply", "api.conversations", "/api/v1/conversations",
         0.15, 20, bearer=True),
    Page("API messages, 2,000-message conversation", "api.messages",
         "/api/v1/conversations/{big_conversation}/messages", 0.15, 20, bearer=True),
    Page("API deals of a stage", "api.deals", "/api/v1/deals?stage=1", 0.10, 20, bearer=True),
    Page("API tasks due today", "api.tasks", "/api/v1/tasks?section=today", 0.15, 20,
         bearer=True),
    Page("API campaigns", "api.campaigns", "/api/v1/campaigns", 0.15, 20, bearer=True),
]
