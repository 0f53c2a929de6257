"""Money as people read it: "$1,200", "€12.50", "1,000 SEK" (the `money` template filter)."""

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def money(minor, currency="USD") -> str:
    """An amount kept in minor units (cents), with its currency's symbol where it has one."""
    if minor is None:
        return "—"
    symbol = _SYMBOLS.get(currency)
    amount = f"{minor / 100:,.0f}" if minor % 100 == 0 else f"{minor / 100:,.2f}"
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"
