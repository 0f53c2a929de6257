"""DM templates with placeholders, and how well each one works."""
