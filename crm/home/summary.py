"""Figures for the home page, each bounded in cost."""
from crm.conversations.services import needs_reply_count


def summary_for(user) -> dict:
    out = {"needs_reply": needs_reply_count(user)}
    try:
        from crm.tasks.services import due_counts
    except ImportError:
        due_counts = None
    if due_counts is not None:
        out.update(due_counts(user))
    return out
