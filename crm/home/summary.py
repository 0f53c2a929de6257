"""What the home page shows: today's work, each part bounded in cost."""
from dataclasses import dataclass

from crm.conversations.queries import InboxFilters, inbox_page
from crm.tasks.queries import today_lists
from crm.tasks.services import due_counts

SHOWN = 5


@dataclass
class Summary:
    waiting: object      # an InboxPage of the longest waits
    tasks: object        # TodayLists, a few of each
    due: dict            # {"overdue": n, "due_today": n}


def summary_for(user) -> Summary:
    """The longest of the waits on you (the inbox's first view, the navigation's badge) and
    my tasks."""
    filters = InboxFilters()
    return Summary(waiting=inbox_page(user, filters, limit=SHOWN),
                   tasks=today_lists(user, limit=SHOWN, counted=False), due=due_counts(user))
