"""The pages the palette offers by name: the navigation's destinations and a few actions."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Destination:
    label: str
    endpoint: str
    words: str = ""          # other words people look for it by
    who: str = "anyone"      # anyone | admin


DESTINATIONS = [
    Destination("Home", "home.index", "start overview"),
    Destination("Contacts", "contacts.index", "people creators influencers leads list"),
    Destination("New contact", "contacts.new", "add person create"),
    Destination("Inbox", "conversations.inbox", "dms messages waiting reply conversations"),
    Destination("Board", "pipeline.board", "pipeline deals stages kanban"),
    Destination("New deal", "pipeline.new_deal", "add create"),
    Destination("Today", "tasks.today", "tasks follow-ups due todo"),
    Destination("New task", "tasks.new", "add create todo"),
    Destination("Campaigns", "campaigns.index", "brands collaborations"),
    Destination("New campaign", "campaigns.new", "add create"),
    Destination("Templates", "dm_templates.index", "dm messages snippets"),
    Destination("Imports", "imports.index", "csv upload export dm archive"),
    Destination("Dashboard", "reports.dashboard", "reports figures charts numbers"),
    Destination("Your account", "accounts.security", "security password two-factor profile"),
    Destination("Users", "admin.users", "admin team roles people", who="admin"),
    Destination("Settings", "admin.settings_page", "admin response target", who="admin"),
    Destination("Audit log", "admin.audit", "admin history changes", who="admin"),
    Destination("Pipelines and stages", "pipeline.admin_pipelines", "admin", who="admin"),
    Destination("Live channels", "channels.index", "admin instagram messenger whatsapp",
                who="admin"),
    Destination("Background jobs", "jobs.index", "admin queue worker", who="admin"),
]


def find_destinations(user, q: str, limit: int = 5) -> list[Destination]:
    """The pages whose name (or the words they are known by) hold every word of `q`."""
    words = q.lower().split()
    if not words:
        return []
    found = []
    for d in DESTINATIONS:
        if d.who == "admin" and not user.is_admin:
            continue
        said = f"{d.label} {d.words}".lower()
        if all(w in said for w in words):
            found.append(d)
    # Those whose name starts with what was typed first.
    found.sort(key=lambda d: not d.label.lower().startswith(words[0]))
    return found[:limit]
