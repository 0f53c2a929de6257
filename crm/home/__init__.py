"""The signed-in home page: today's work at a glance."""
