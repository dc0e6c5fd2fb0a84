# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A small TOML reader for the files uv writes (its tool receipts, ``uv-receipt.toml``).

PRIVATE API: only for this collection's modules; names may change without notice.
Pure code: text in, data out, no I/O. Managed hosts run Python 3.6, which has no ``tomllib``.
It has its own room so that a module that only reads receipts (``uv_facts``) does not pack
``_uv_tool``'s request logic; ``_toml.py`` is the writer and reads nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

__all__ = ["parse_toml"]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


class _Toml(object):
    """TOML 1.0 as uv writes receipts: tables, arrays of tables, strings, arrays, inline tables,
    booleans and numbers. Managed hosts run Python 3.6, which has no ``tomllib``."""

    def __init__(self, text):
        self.text = text
        self.pos = 0

    def fail(self, what):
        line = self.text.count("\n", 0, self.pos) + 1
        raise ValueError("%s on line %d" % (what, line))

    def peek(self, size=1):
        return self.text[self.pos:self.pos + size]

    def skip(self, newlines=True):
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char in " \t" or (newlines and char in "\r\n"):
                self.pos += 1
            elif char == "#":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            else:
                return

    def key(self):
        parts = []
        while True:
            self.skip(False)
            if self.peek() in "\"'":
                parts.append(self.string())
            else:
                match = _BARE.match(self.text, self.pos)
                if not match:
                    self.fail("a key was expected")
                parts.append(match.group(0))
                self.pos = match.end()
            self.skip(False)
            if self.peek() != ".":
                return parts
            self.pos += 1

    def string(self):
        quote = self.peek()
        multi = self.peek(3) == quote * 3
        self.pos += 3 if multi else 1
        if multi and self.peek() == "\n":
            self.pos += 1
        out = []
        while True:
            if self.pos >= len(self.text):
                self.fail("an unterminated string")
            if self.text.startswith(quote * 3 if multi else quote, self.pos):
                self.pos += 3 if multi else 1
                return "".join(out)
            char = self.text[self.pos]
            if char == "\\" and quote == '"':
                code = self.text[self.pos + 1:self.pos + 2]
                if code in ("u", "U"):
                    size = 4 if code == "u" else 8
                    out.append(chr(int(self.text[self.pos + 2:self.pos + 2 + size], 16)))
                    self.pos += 2 + size
                    continue
                if code not in _ESCAPES:
                    self.fail("an unknown escape \\%s" % code)
                out.append(_ESCAPES[code])
                self.pos += 2
                continue
            out.append(char)
            self.pos += 1

    def value(self):
        self.skip(False)
        char = self.peek()
        if char in "\"'":
            return self.string()
        if char in "[{":
            closing = "]" if char == "[" else "}"
            self.pos += 1
            items, table = [], {}
            while True:
                self.skip(char == "[")
                if self.peek() == closing:
                    self.pos += 1
                    return items if char == "[" else table
                if char == "[":
                    items.append(self.value())
                else:
                    keys = self.key()
                    self.expect("=")
                    _assign(table, keys, self.value())
                self.skip(char == "[")
                if self.peek() == ",":
                    self.pos += 1
                elif self.peek() != closing:
                    self.fail("',' or '%s' was expected" % closing)
        match = re.compile(r"true|false|[-+]?[0-9_.eE+-]+").match(self.text, self.pos)
        if not match:
            self.fail("a value was expected")
        self.pos = match.end()
        word = match.group(0)
        if word in ("true", "false"):
            return word == "true"
        try:
            return int(word.replace("_", ""))
        except ValueError:
            return float(word.replace("_", ""))

    def expect(self, char):
        self.skip(False)
        if self.peek() != char:
            self.fail("'%s' was expected" % char)
        self.pos += 1

    def document(self):
        root = current = {}
        while True:
            self.skip()
            if self.pos >= len(self.text):
                return root
            if self.peek(2) == "[[":
                self.pos += 2
                keys = self.key()
                self.expect("]")
                self.expect("]")
                parent = _table(root, keys[:-1])
                current = {}
                parent.setdefault(keys[-1], []).append(current)
            elif self.peek() == "[":
                self.pos += 1
                keys = self.key()
                self.expect("]")
                current = _table(root, keys)
            else:
                keys = self.key()
                self.expect("=")
                _assign(current, keys, self.value())
            self.skip(False)
            if self.pos < len(self.text) and self.peek() not in "\r\n":
                self.fail("the end of the line was expected")


def _table(root, keys):
    table = root
    for key in keys:
        table = table.setdefault(key, {})
        if isinstance(table, list):
            table = table[-1]
    return table


def _assign(table, keys, value):
    _table(table, keys[:-1])[keys[-1]] = value


def parse_toml(text):
    """The data of a TOML document as uv writes its receipts; ``ValueError`` naming the line."""
    return _Toml(text).document()
