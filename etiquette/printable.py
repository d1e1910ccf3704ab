"""Text from outside (file names, call ids, a transcript's fields) made safe to print or log.

A file name may hold a newline (and forge a line of output), an escape sequence
(and move the cursor or recolour the terminal), or bytes that are not UTF-8.
Two escapes, both in the style of Python's `repr`:

- `shown(name)`: a path or a call id as printed and written into an error:
  every character that does not print is escaped (`\\n`, `\\x1b`, `\\u2028`),
  an undecodable byte of a file name is `\\xe9`, and a backslash is doubled so
  the escaping is unambiguous;
- `printable(text)`: a whole line (an error message that may quote names
  already `shown`): characters that do not print are escaped, backslashes are
  left alone, so `printable(shown(x)) == shown(x)`;
- `safe(text)`: `printable`, and rich markup escaped, for what goes to a rich console.
"""

from __future__ import annotations

from os import PathLike

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by the file system's surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: object) -> str:
    """The text with every character that does not print escaped; one line, whatever it held."""
    value = str(text)
    if value.isprintable():
        return value
    return "".join(char if char.isprintable() else _escape(char) for char in value)


def shown(name: str | PathLike) -> str:
    """A file name or a call id as printed: `printable`, with backslashes doubled."""
    value = str(name)
    if value.isprintable() and "\\" not in value:
        return value
    return "".join("\\\\" if char == "\\" else char if char.isprintable() else _escape(char) for char in value)


def safe(text: object) -> str:
    """Text for a rich console: `printable`, with rich markup escaped (a name like "[reverse]x"
    is printed as it is, not read as a style)."""
    from rich.markup import escape

    return escape(printable(text))


def encodable(text: str) -> bool:
    """True when the text can be written as UTF-8 (no lone surrogate from a JSON escape or a file name)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
