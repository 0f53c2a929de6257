"""Bulk actions on the contacts list and the inbox: one transaction, a summary, and undo."""
