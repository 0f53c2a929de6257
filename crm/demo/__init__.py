"""Demo data: a believable workspace for trying Rapport."""
