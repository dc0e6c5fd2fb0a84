# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TOML writer: exact text for a table of documents, read back with tomllib."""

from __future__ import annotations

import math

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils.config._toml import TomlError, dumps, format_value

tomllib = pytest.importorskip("tomllib")  # Python 3.11+, the controller's Python in the suite


VALUES = [
    ("true", True, "true"),
    ("false", False, "false"),
    ("int", 42, "42"),
    ("negative", -7, "-7"),
    ("int64-max", (1 << 63) - 1, "9223372036854775807"),
    ("float", 1.5, "1.5"),
    ("float-whole", 2.0, "2.0"),
    ("float-exp", 1e16, "1e+16"),
    ("inf", float("inf"), "inf"),
    ("-inf", float("-inf"), "-inf"),
    ("plain", "https://pypi.example.com/simple", '"https://pypi.example.com/simple"'),
    ("quote-backslash", 'C:\\uv "x"', '"C:\\\\uv \\"x\\""'),
    ("controls", "a\tb\nc\rd\x08\x0c", '"a\\tb\\nc\\rd\\b\\f"'),
    ("other-controls", "\x00\x1f\x7f", '"\\u0000\\u001F\\u007F"'),
    ("unicode", "caf\u00e9 \u2603 \U0001F40D", '"caf\u00e9 \u2603 \U0001F40D"'),
    ("empty-string", "", '""'),
    ("list", ["a", "b"], '["a", "b"]'),
    ("empty-list", [], "[]"),
    ("mixed-list", [1, "x", True], '[1, "x", true]'),
    ("nested-list", [[1, 2], ["a"]], '[[1, 2], ["a"]]'),
    ("inline-table", {"b": 1, "a": "x"}, '{ a = "x", b = 1 }'),
    ("empty-inline", {}, "{}"),
    ("inline-quoted-key", {"a b": 1}, '{ "a b" = 1 }'),
    ("tuple", ("a",), '["a"]'),
]


@pytest.mark.parametrize("name, value, text", VALUES, ids=[v[0] for v in VALUES])
def test_format_value(name, value, text):
    assert format_value(value) == text
    back = tomllib.loads("v = %s\n" % text)["v"]
    if isinstance(value, float) and math.isnan(value):
        assert math.isnan(back)
    else:
        assert back == (list(value) if isinstance(value, tuple) else value)


def test_nan():
    assert format_value(float("nan")) == "nan"
    assert math.isnan(tomllib.loads("v = nan\n")["v"])


DOCUMENTS = [
    ("empty", {}, ""),
    ("scalars-sorted", {"offline": False, "cache-dir": "/var/cache/uv", "concurrent-downloads": 4},
     'cache-dir = "/var/cache/uv"\nconcurrent-downloads = 4\noffline = false\n'),
    ("table-after-plain", {"pip": {"index-url": "https://x/simple", "no-build": True}, "preview": True},
     'preview = true\n\n[pip]\nindex-url = "https://x/simple"\nno-build = true\n'),
    ("array-of-tables", {"index": [{"name": "a", "url": "https://a/simple", "default": True},
                                   {"name": "b", "url": "https://b/simple", "explicit": True}]},
     '[[index]]\ndefault = true\nname = "a"\nurl = "https://a/simple"\n\n'
     '[[index]]\nexplicit = true\nname = "b"\nurl = "https://b/simple"\n'),
    ("sub-table-of-array-item", {"index": [{"url": "https://a/simple", "cache-control": {"api": "max-age=60"}}]},
     '[[index]]\nurl = "https://a/simple"\n\n[index.cache-control]\napi = "max-age=60"\n'),
    ("nested-tables", {"a": {"b": {"c": 1}, "d": 2}},
     "[a]\nd = 2\n\n[a.b]\nc = 1\n"),
    ("empty-table", {"pip": {}}, "[pip]\n"),
    ("array-of-tables-in-table", {"t": {"x": [{"k": 1}, {"k": 2}]}},
     "[t]\n\n[[t.x]]\nk = 1\n\n[[t.x]]\nk = 2\n"),
    ("list-of-mixed-stays-inline", {"cache-keys": [{"file": "pyproject.toml"}, "x"]},
     'cache-keys = [{ file = "pyproject.toml" }, "x"]\n'),
    ("quoted-keys", {"a.b": {"c d": 1}}, '["a.b"]\n"c d" = 1\n'),
    ("allow-insecure-host", {"allow-insecure-host": ["127.0.0.1:8080", "localhost"]},
     'allow-insecure-host = ["127.0.0.1:8080", "localhost"]\n'),
]


@pytest.mark.parametrize("name, document, text", DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_dumps(name, document, text):
    assert dumps(document) == text
    assert tomllib.loads(dumps(document)) == document


def test_header_comes_first_and_is_read_as_comments():
    text = dumps({"offline": True}, header=["Managed by someone.", ""])
    assert text == "# Managed by someone.\n#\n\noffline = true\n"
    assert tomllib.loads(text) == {"offline": True}


def test_same_data_any_key_order_same_bytes():
    one = {"b": 1, "a": {"y": [1], "x": "z"}, "index": [{"url": "u", "name": "n"}]}
    two = {"index": [{"name": "n", "url": "u"}], "a": {"x": "z", "y": [1]}, "b": 1}
    assert dumps(one) == dumps(two)


@pytest.mark.parametrize("document, path", [
    ({"a": None}, "a"),
    ({"t": {"b": [1, None]}}, "t.b[1]"),
    ({"big": 1 << 63}, "big"),
    ({"s": "\ud800"}, "s"),
    ({"o": object()}, "o"),
    ({"index": [{"url": None}]}, "index[0].url"),
    ({1: "x"}, ""),
], ids=["none", "none-in-list", "int-too-big", "lone-surrogate", "object", "none-in-array-table", "int-key"])
def test_unwritable_values_name_their_key(document, path):
    with pytest.raises(TomlError) as exc:
        dumps(document)
    assert exc.value.path == path


def test_header_line_break_refused():
    with pytest.raises(TomlError):
        dumps({}, header=["a\nb = 1"])


@pytest.mark.parametrize("text", [
    "\\", "\"", "\\u0041", "'''", '"""', "#not a comment", "[[index]]", "a\u2028b", "\x1b[31m",
])
def test_tricky_strings_round_trip(text):
    document = {"k": text, "t": {text: text}}
    assert tomllib.loads(dumps(document)) == document
