"""Placeholders in DM templates: which exist, which a text uses, and filling them in."""
import re
from dataclasses import dataclass

PLACEHOLDERS = {
    "first_name": "Their first name",
    "name": "Their full name",
    "handle": "Their handle on the platform you send on",
    "platform": "The platform, e.g. Instagram",
    "campaign": "The campaign of their latest deal",
    "my_name": "Your name",
}
LABELS = {"first_name": "first name", "name": "name", "handle": "handle",
          "platform": "platform", "campaign": "campaign", "my_name": "your name"}

# {first_name} or { first_name }; anything between single braces counts as a placeholder.
PATTERN = re.compile(r"\{\s*([^{}\s]*)\s*\}")


def used_in(body: str) -> list[str]:
    """Placeholder names in `body`, in order of first use."""
    seen = []
    for name in PATTERN.findall(body or ""):
        if name not in seen:
            seen.append(name)
    return seen


def problems(body: str) -> list[str]:
    """What is wrong with the placeholders of `body` (empty when it is fine)."""
    errors = []
    if "{{" in (body or "") or "}}" in (body or ""):
        errors.append("Use single braces for placeholders, e.g. {first_name}.")
    unknown = [n for n in used_in(body) if n not in PLACEHOLDERS]
    if unknown:
        names = ", ".join("{" + n + "}" for n in unknown)
        known = ", ".join("{" + n + "}" for n in PLACEHOLDERS)
        word = "placeholder" if len(unknown) == 1 else "placeholders"
        errors.append(f"Unknown {word} {names}. Use one of: {known}.")
    return errors


@dataclass
class Rendering:
    """A template filled in for one contact. `text` is only usable when nothing is missing."""

    parts: list          # ("text", str) | ("value", name, str) | ("missing", name)
    missing: list[str]

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def text(self) -> str:
        if self.missing:
            raise ValueError("Fill in " + ", ".join(self.missing) + " first.")
        return "".join(p[1] if p[0] == "text" else p[2] for p in self.parts)


def render(body: str, values: dict) -> Rendering:
    """Fill `body` with `values`; a placeholder without a value is reported, never blanked."""
    parts, missing, pos = [], [], 0
    for match in PATTERN.finditer(body or ""):
        if match.start() > pos:
            parts.append(("text", body[pos:match.start()]))
        name = match.group(1)
        value = (values.get(name) or "").strip()
        if value:
            parts.append(("value", name, value))
        else:
            parts.append(("missing", name))
            if name not in missing:
                missing.append(name)
        pos = match.end()
    if pos < len(body or ""):
        parts.append(("text", body[pos:]))
    return Rendering(parts, missing)
