"""Saved views: a list's filters, named, as quick links on its page; shared with the team or not."""
