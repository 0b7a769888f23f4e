"""One person, one name: the key a name is known under, whatever its case or spelling.

``Ann``, ``ANN``, `` ann ``, ``Änn``, ``A.nn`` and ``Аnn`` (with a Cyrillic A) are the
same key, so nobody can enrol, request or approve as a look-alike of an enrolled person.
The key is the name's NFKD form without accents, case-folded, common Cyrillic and Greek
look-alike letters mapped to Latin, digits that pass for letters mapped to them, and
every separator dropped.
"""

from __future__ import annotations

import re
import unicodedata

from agent.errors import UsageError

#: Letters of other scripts drawn like Latin ones (after case folding).
_CONFUSABLES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j", "ԁ": "d",
    "ӏ": "l", "ɡ": "g", "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v",
    "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ß": "ss", "ø": "o", "ł": "l",
    "đ": "d", "æ": "ae", "œ": "oe", "ı": "i",
    # Digits people write for letters: '0' for 'o', '1' for 'l'.
    "0": "o", "1": "l", "5": "s",
})
_SEPARATORS = re.compile(r"[\s._\-'’`]+")
_ALLOWED = re.compile(r"^[a-z2-9]{2,64}$")


def person_key(name: str) -> str:
    """The key ``name`` is known under (UsageError when nothing of a name is left)."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold().translate(_CONFUSABLES)
    text = _SEPARATORS.sub("", text)
    if not _ALLOWED.match(text):
        raise UsageError(
            f"{name!r} is not usable as a person's name",
            fix="use letters (2 to 64), e.g. 'Ann Smith'; no symbols or other scripts",
        )
    return text


def same_person(a: str, b: str) -> bool:
    """True when two names are the same person's (case, accents, look-alikes)."""
    try:
        return person_key(a) == person_key(b)
    except UsageError:
        return a.strip().casefold() == b.strip().casefold()
