"""Search over everything a user may see, and the command palette that asks it."""
