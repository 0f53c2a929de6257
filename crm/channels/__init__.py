"""Live channels: Instagram, Messenger and WhatsApp accounts connected through Meta's APIs."""
