"""Follow-up tasks, the Today page and automatic follow-ups."""
