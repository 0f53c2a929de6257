"""Pipelines, stages, deals, stage history and outcomes; the board."""
