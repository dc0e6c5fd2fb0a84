# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A small TOML writer (TOML 1.0) for the configuration files this collection owns.

PRIVATE API: only for this collection's modules; names may change without notice.
Pure code: it takes data and returns text, no I/O. Managed hosts run Python 3.6, which
has no ``tomllib`` (and nothing here reads TOML); the tests read the output back with
``tomllib`` where it exists.

The output is deterministic: keys in sorted order, plain values of a table before its
sub-tables, sub-tables before arrays of tables, so the same data always gives the same
bytes. Lists whose items are all dicts become arrays of tables (``[[index]]``), dicts
become tables (``[pip]``); inside arrays, dicts are written as inline tables.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

__all__ = ["TomlError", "dumps", "format_key", "format_string", "format_value"]

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
INT64 = (-(1 << 63), (1 << 63) - 1)
# The escapes TOML's basic strings define; every other control character is \uXXXX.
ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


class TomlError(ValueError):
    """A value TOML cannot hold; ``path`` names it (``pip.index-url``, ``index[0].url``)."""

    def __init__(self, path, message):
        self.path = path
        super(TomlError, self).__init__("%s: %s" % (path or "(document)", message))


def _escape_char(char):
    if char in ESCAPES:
        return ESCAPES[char]
    code = ord(char)
    if code < 0x20 or code == 0x7F:
        return "\\u%04X" % code
    if 0xD800 <= code <= 0xDFFF:
        raise ValueError("a lone surrogate (U+%04X) is not a Unicode scalar value" % code)
    return char


def format_string(text, path=""):
    """``text`` as a TOML basic string, escaped."""
    try:
        return '"%s"' % "".join(_escape_char(char) for char in text)
    except ValueError as exc:
        raise TomlError(path, str(exc))


def format_key(key, path=""):
    """``key`` bare when TOML allows it (``index-url``), else quoted."""
    if not isinstance(key, str):
        raise TomlError(path, "keys must be strings, not %s" % type(key).__name__)
    return key if BARE_KEY.match(key) else format_string(key, path)


def _format_float(value, path):
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = repr(value)
    if not any(char in text for char in ".eEn"):
        text += ".0"
    return text


def format_value(value, path=""):
    """One value as TOML text, on one line (arrays and dicts written inline)."""
    if value is None:
        raise TomlError(path, "TOML has no null value")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not INT64[0] <= value <= INT64[1]:
            raise TomlError(path, "integer %d does not fit in 64 bits" % value)
        return str(value)
    if isinstance(value, float):
        return _format_float(value, path)
    if isinstance(value, str):
        return format_string(value, path)
    if isinstance(value, (list, tuple)):
        return "[%s]" % ", ".join(format_value(item, "%s[%d]" % (path, index)) for index, item in enumerate(value))
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ %s }" % ", ".join(
            "%s = %s" % (format_key(key, path), format_value(value[key], _join(path, key)))
            for key in sorted(value, key=_sort_key(path))
        )
    raise TomlError(path, "cannot write a %s as TOML" % type(value).__name__)


def _join(path, key):
    return "%s.%s" % (path, key) if path else key


def _sort_key(path):
    def key(name):
        if not isinstance(name, str):
            raise TomlError(path, "keys must be strings, not %s" % type(name).__name__)
        return name
    return key


def _is_table_array(value):
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(item, dict) for item in value)


def _table(lines, header_path, table, path):
    """Write the body of ``table``: plain keys, then sub-tables, then arrays of tables."""
    keys = sorted(table, key=_sort_key(path))
    for key in keys:
        value = table[key]
        if not isinstance(value, dict) and not _is_table_array(value):
            lines.append("%s = %s" % (format_key(key, path), format_value(value, _join(path, key))))
    for key in keys:
        value = table[key]
        if isinstance(value, dict):
            sub_header = header_path + [format_key(key, path)]
            if lines:
                lines.append("")
            lines.append("[%s]" % ".".join(sub_header))
            _table(lines, sub_header, value, _join(path, key))
    for key in keys:
        value = table[key]
        if _is_table_array(value):
            sub_header = header_path + [format_key(key, path)]
            for index, item in enumerate(value):
                if lines:
                    lines.append("")
                lines.append("[[%s]]" % ".".join(sub_header))
                _table(lines, sub_header, item, "%s[%d]" % (_join(path, key), index))


def dumps(document, header=None):
    """``document`` (a dict) as TOML text ending in a newline.

    ``header`` is a list of comment lines written first (each prefixed with ``# ``).
    Raises ``TomlError`` naming the key of a value TOML cannot hold (``None``, an
    integer beyond 64 bits, a string with a lone surrogate, an object).
    """
    if not isinstance(document, dict):
        raise TomlError("", "a TOML document is a table (dict), not %s" % type(document).__name__)
    lines = []
    for comment in header or ():
        if "\n" in comment or "\r" in comment:
            raise TomlError("", "a header line holds a line break")
        lines.append(("# %s" % comment).rstrip())
    body = []
    _table(body, [], document, "")
    if lines and body:
        lines.append("")
    lines.extend(body)
    return "\n".join(lines) + "\n" if lines else ""
