"""The DM export importer: read a platform's export, match threads to contacts, write conversations."""
