"""Contacts, influencers and leads; their handles, tags, notes and consent."""
