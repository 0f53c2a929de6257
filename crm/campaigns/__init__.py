"""Campaigns: a brand's collaboration push, its deals, budget and outcomes."""
