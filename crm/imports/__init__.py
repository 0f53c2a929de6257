"""Contacts from CSV and DM history from platform data exports."""
