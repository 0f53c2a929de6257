"""Streaming parsers for the DM history exports of Instagram, Facebook, X, LinkedIn,
WhatsApp and TikTok. Pure Python: no Flask, no database."""
from .base import ExportError, ExportSource, Participant, ParsedMessage, ParsedThread
from .detect import open_export
from .text import fix_mojibake
from .whatsapp import whatsapp_date_order

__all__ = ["ExportError", "ExportSource", "Participant", "ParsedMessage", "ParsedThread",
           "fix_mojibake", "open_export", "whatsapp_date_order"]
