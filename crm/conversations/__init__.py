"""DM conversations and their messages, reply state and the needs-reply inbox."""
