"""Workspace settings an admin can change (targets, windows, stop phrases)."""
