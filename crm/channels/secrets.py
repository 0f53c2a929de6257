"""Channel secrets encrypted at rest (crm.core.secrets), and how the admin page shows them."""
from crm.core.secrets import SecretsUnavailable, decrypt, encrypt, new_key  # noqa: F401


def masked(value: str) -> str:
    """What the admin page shows of a secret: its last four characters at most."""
    return "••••" + value[-4:] if len(value) >= 12 else "••••"
