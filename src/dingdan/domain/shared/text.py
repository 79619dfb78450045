"""Free text from people: one checker for every name, note, message and reference.

Text is stored as sent (surrounding whitespace aside): Chinese is never converted between
scripts or widths, and any Unicode round-trips. What is refused everywhere:

- control characters (NUL above all: PostgreSQL cannot store it in text, and a NUL cut
  short by one layer and not another hides text); a text of several lines may hold line
  breaks and tabs;
- a name made only of invisible characters (zero-width spaces and joiners, bidi marks and
  overrides, other format characters and blanks), which shows as nothing and cannot be
  told apart from another such name.

Comparing and searching use :func:`folded` (NFKC, then case folding): ``ＡＢＣ`` finds ``abc``.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from dingdan.domain.shared.errors import FieldErrors

_LINE_BREAKS = frozenset("\n\r\t")
_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cf", "Cc", "Mn", "Me", "Mc"})


def has_control(text: str, *, multiline: bool = False) -> bool:
    """Whether ``text`` holds a control character (category Cc); line breaks and tabs are
    allowed when ``multiline``."""
    return any(
        unicodedata.category(ch) == "Cc" and not (multiline and ch in _LINE_BREAKS) for ch in text
    )


def is_invisible(text: str) -> bool:
    """Whether nothing of ``text`` would show: every character is a blank (Z*), a format
    character (Cf: zero-width space and joiners, bidi marks, embeddings, overrides and
    isolates, the BOM) or a combining mark on nothing."""
    return all(unicodedata.category(ch) in _INVISIBLE for ch in text)


def check_text(
    value: object,
    field: str,
    errors: FieldErrors,
    *,
    max_length: int,
    required: bool = False,
    multiline: bool = False,
) -> str | None:
    """The text without surrounding whitespace, or ``None`` when absent or blank (``required``
    then adds ``required``) or bad (its error added: ``not_text``, ``at_most_characters``,
    ``control_characters`` or ``invisible_text``)."""
    if value is None:
        if required:
            errors.add(field, "required")
        return None
    if not isinstance(value, str):
        errors.add(field, "not_text")
        return None
    text = value.strip()
    if not text:
        if required:
            errors.add(field, "required")
        return None
    if len(text) > max_length:
        errors.add(field, "at_most_characters", max=max_length)
        return None
    return text if check_clean(text, field, errors, multiline=multiline) else None


def check_clean(value: object, field: str, errors: FieldErrors, *, multiline: bool = False) -> bool:
    """The hygiene part alone, for checkers that say presence and length in their own codes:
    a text (anything else passes here) with a control character or with nothing visible adds
    ``control_characters`` or ``invisible_text`` and is False."""
    if not isinstance(value, str) or not value.strip():
        return True
    if has_control(value.strip(), multiline=multiline):
        errors.add(field, "control_characters")
        return False
    if is_invisible(value):
        errors.add(field, "invisible_text")
        return False
    return True


@lru_cache(maxsize=4096)
def folded(text: str) -> str:
    """``text`` as it is compared and searched: NFKC (full-width letters and digits are the
    ASCII ones, compatibility forms their plain letters), then case folding."""
    return unicodedata.normalize("NFKC", text).casefold()


_FORMULA_START = ("=", "+", "-", "@")


def spreadsheet_safe(value: object) -> object:
    """A cell of a CSV a person opens in a spreadsheet: text that it would run as a formula
    (``=``, ``+``, ``-``, ``@`` first, also after leading blanks or as a full-width sign;
    a tab or carriage return first) gets a leading apostrophe. Other values are unchanged."""
    if not isinstance(value, str) or not value:
        return value
    head = value[0]
    if head.isascii() and not head.isspace():  # the common case, without normalising
        return "'" + value if head in "=+-@" else value
    first = unicodedata.normalize("NFKC", value.lstrip()[:1])
    if value[0] in "\t\r" or first.startswith(_FORMULA_START):
        return "'" + value
    return value


def export_cell(value: object) -> object:
    """A text cell of an export a person may open and import again: ``spreadsheet_safe``,
    and a text that already starts with an apostrophe gets one more, so that an import,
    which strips one leading apostrophe (``from_spreadsheet``), gives back the text as it
    was (``'Tis`` → ``''Tis`` → ``'Tis``)."""
    if isinstance(value, str) and value.startswith("'"):
        return "'" + value
    return spreadsheet_safe(value)


def from_spreadsheet(text: str) -> str:
    """A cell as an import reads it: one leading apostrophe (which an export or a person
    put there so that a spreadsheet keeps the text as text) is dropped."""
    return text[1:] if text.startswith("'") else text


def storable(text: str, limit: int) -> str:
    """Text received from outside (a callback's field, a raw body) as a log keeps it: NUL,
    which PostgreSQL's text cannot hold, written visibly as ``\\x00``, then cut to ``limit``."""
    return text.replace("\x00", "\\x00")[:limit]
