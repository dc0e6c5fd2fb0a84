# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write plugins/module_utils/config/_uv_settings.py, the uv.toml key table, from uv's JSON schema.

Usage::

    git -C <uv checkout> show <commit>:uv.schema.json > /tmp/uv.schema.json
    python3 hacking/uv_settings_table.py /tmp/uv.schema.json --commit <commit> \\
        --described "<what that commit is>" --uv <uv binary> [--compare <other uv>]... [--out FILE]

The committed table: schema of astral-sh/uv 26a9dd4b2125bc271b47855e1fa0c49af3365db5
(0.12.5 plus 79 commits, the newest schema at hand), ``--uv`` the real uv 0.13.8,
``--compare`` the real uv 0.5.11 and 0.13.9 (from the suite's wheel cache).

The schema (``uv.schema.json`` in the astral-sh/uv repository, generated from uv's
settings structs) gives every key and its type. It describes pyproject's
``[tool.uv]`` and ``uv.toml`` together, so the keys that uv refuses in a ``uv.toml``
(``PROJECT_ONLY``, from ``validate_uv_toml`` in crates/uv-settings/src/lib.rs) are
listed apart. ``--uv`` names the uv binary the table is for: its own list of fields
(the ``expected one of ...`` of serde's unknown-field error, for the top level and for
``[pip]``) is the truth. A key that binary does not know is dropped; a key it knows
that the schema snapshot lacks must be described in ``EXTRA`` below (its type found by
trying values against that binary), or the script fails.
"""

from __future__ import annotations

import argparse
import json
import os
import pprint
import re
import subprocess
import sys
import tempfile
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "plugins", "module_utils", "config", "_uv_settings.py")

# Refused in uv.toml by uv itself: "The `managed` field is not allowed in a `uv.toml`
# file" (validate_uv_toml at the schema commit; minimum-libc-version found refused by
# uv 0.13.8 the same way).
PROJECT_ONLY = (
    "build-backend", "conflicts", "default-groups", "dependency-groups", "dev-dependencies",
    "environments", "managed", "minimum-libc-version", "package", "required-environments",
    "sources", "workspace",
)

# Keys uv 0.13.8 knows that the schema snapshot lacks. Types found by writing a boolean, a
# string, an integer and a list for each key and reading uv 0.13.8's answer
# ("invalid type: string \"2.17\", expected a boolean").
EXTRA = {
    "": {
        "require-build-hashes": {"type": ["boolean"]},
        "graalpy-install-mirror": {"type": ["string"]},
        "pyodide-install-mirror": {"type": ["string"]},
        "minimum-libc-version": {"type": ["object"], "keys": {"glibc": {"type": ["string"]},
                                                              "musl": {"type": ["string"]}}},
    },
    "pip": {
        "require-build-hashes": {"type": ["boolean"]},
    },
}

MAX_DEPTH = 4
DEPRECATED = re.compile(r"\(Deprecated: use `([a-z0-9-]+)` instead\.?\)")


class Schema:
    """Turns JSON schema nodes into the table's small type specs."""

    def __init__(self, schema: dict) -> None:
        self.schema = schema
        self.definitions = schema.get("definitions") or schema.get("$defs") or {}

    def ref(self, node: dict) -> dict:
        name = node["$ref"].rsplit("/", 1)[-1]
        return self.definitions[name]

    def spec(self, node: dict, depth: int = 0) -> dict:
        """``{"type": [...], "choices": [...], "items": spec, "keys": {...}, "minimum": n}``.

        ``type`` holds the TOML-level types (boolean, integer, number, string, array,
        object; null dropped). ``choices`` is given only when every string the node
        allows is a fixed one; ``keys`` only for objects with a fixed set of properties.
        """
        out = {"type": set(), "choices": set(), "free_string": False, "items": [], "keys": [], "open": False}
        self._collect(node, depth, out)
        return self._finish(out, depth)

    def _collect(self, node, depth, out) -> None:
        if node is True or node == {}:
            out["type"].update(("boolean", "integer", "number", "string", "array", "object"))
            out["free_string"] = True
            out["open"] = True
            return
        if "$ref" in node:
            self._collect(self.ref(node), depth, out)
        for key in ("allOf", "anyOf", "oneOf"):
            for branch in node.get(key, ()):
                self._collect(branch, depth, out)
        if "const" in node:
            self._value(node["const"], out)
        for value in node.get("enum", ()):
            self._value(value, out)
        types = node.get("type")
        if isinstance(types, str):
            types = [types]
        for kind in types or ():
            if kind == "null":
                continue
            out["type"].add(kind)
            if kind == "string" and "enum" not in node and "const" not in node:
                out["free_string"] = True
            if kind == "array" and "items" in node:
                out["items"].append(node["items"])
            if kind == "object":
                if node.get("properties"):
                    out["keys"].append(node["properties"])
                if node.get("additionalProperties") not in (None, False) or not node.get("properties"):
                    out["open"] = True
        if "minimum" in node:
            out["minimum"] = int(node["minimum"])

    @staticmethod
    def _value(value, out) -> None:
        if isinstance(value, bool):
            out["type"].add("boolean")
        elif isinstance(value, str):
            out["type"].add("string")
            out["choices"].add(value)
        elif value is not None:
            out["type"].add("integer" if isinstance(value, int) else "number")

    def _finish(self, out, depth) -> dict:
        spec = {"type": sorted(out["type"])}
        if "string" in out["type"] and not out["free_string"] and out["choices"]:
            spec["choices"] = sorted(out["choices"])
        if out["items"] and depth < MAX_DEPTH:
            merged = {"type": set(), "choices": set(), "free_string": False, "items": [], "keys": [], "open": False}
            for item in out["items"]:
                self._collect(item, depth + 1, merged)
            spec["items"] = self._finish(merged, depth + 1)
        if out["keys"] and not out["open"] and depth < MAX_DEPTH:
            keys = {}
            for properties in out["keys"]:
                for name, node in properties.items():
                    keys[name] = self.spec(node, depth + 1)
            spec["keys"] = keys
        if out.get("minimum") is not None:
            spec["minimum"] = out["minimum"]
        return spec


def uv_fields(uv: str, table: str | None = None) -> list:
    """The fields ``uv`` accepts at the top level (or in ``[table]``), from its own error."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "uv.toml")
        with open(path, "w") as handle:
            handle.write(("[%s]\n" % table if table else "") + "not-a-uv-setting = 1\n")
        proc = subprocess.run([uv, "--config-file", path, "cache", "dir"], capture_output=True, text=True,
                              env=dict(os.environ, NO_COLOR="1"), check=False)
    if "expected one of" not in proc.stderr:
        raise SystemExit("%s did not list its fields:\n%s" % (uv, proc.stderr))
    return re.findall(r"`([a-z0-9-]+)`", proc.stderr.split("expected one of", 1)[1])


def uv_version(uv: str) -> str:
    out = subprocess.run([uv, "--version"], capture_output=True, text=True, check=True).stdout
    return out.split()[1]


def reconcile(specs: dict, fields: list, extra: dict, where: str, notes: list) -> dict:
    """Keep the schema's keys that ``fields`` holds, add ``extra``; fail on anything unexplained."""
    out = {}
    for name in fields:
        if name in specs:
            out[name] = specs[name]
        elif name in extra:
            out[name] = extra[name]
            notes.append("%s%s: not in the schema snapshot, type from EXTRA" % (where, name))
        else:
            raise SystemExit("uv knows %s%s, which neither the schema nor EXTRA describe: add it to EXTRA"
                             % (where, name))
    for name in sorted(set(specs) - set(fields)):
        notes.append("%s%s: in the schema snapshot, unknown to the uv binary: dropped" % (where, name))
    return dict(sorted(out.items()))


def build(schema: dict, uv: str) -> tuple:
    reader = Schema(schema)
    top = {}
    deprecated = {}
    for name, node in schema["properties"].items():
        top[name] = reader.spec(node)
        match = DEPRECATED.search(node.get("description") or "")
        if match:
            deprecated[name] = match.group(1)
    notes: list = []
    top = reconcile(top, uv_fields(uv), EXTRA[""], "", notes)
    pip = top["pip"]
    pip["keys"] = reconcile(pip.get("keys", {}), uv_fields(uv, "pip"), EXTRA["pip"], "pip.", notes)
    return top, deprecated, notes


def render(top: dict, deprecated: dict, notes: list, version: str, commit: str, described: str) -> str:
    lines = [
        "# -*- coding: utf-8 -*-",
        "# Copyright (c) pyfleet.uv contributors",
        "# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)",
        "",
        '"""The keys of uv.toml and their types, for the uv version in ``UV_VERSION``.',
        "",
        "PRIVATE API: only for this collection's modules; names may change without notice.",
        "Pure data, no I/O.",
        "",
        "GENERATED by hacking/uv_settings_table.py: do not edit, run it again. It read uv's",
        "JSON schema (``uv.schema.json`` of astral-sh/uv at ``SCHEMA_COMMIT``) and kept the keys",
        "that the real uv binary of ``UV_VERSION`` lists as its own fields.",
        "",
        "Each spec: ``type`` (TOML-level types: boolean, integer, number, string, array, object),",
        "``choices`` (the fixed strings the schema allows; uv checks them, the module does not,",
        "because uv also takes aliases the schema does not list), ``items`` (the spec of an",
        "array's items), ``keys`` (the specs of an object's fixed keys), ``minimum``.",
        "",
        "Reconciliation notes:",
        "",
    ]
    lines.extend(textwrap.fill("- %s" % note, width=100, subsequent_indent="  ", break_on_hyphens=False) for note in notes)
    lines.extend([
        '"""',
        "",
        "from __future__ import absolute_import, division, print_function",
        "",
        "__metaclass__ = type",
        "",
        '__all__ = ["DEPRECATED", "INDEX_KEYS", "PROJECT_ONLY", "SCHEMA_COMMIT", "SETTINGS", "UV_VERSION"]',
        "",
        "UV_VERSION = %r" % version,
        "SCHEMA_COMMIT = %r  # %s" % (commit, described),
        "",
        "# Keys uv refuses in a uv.toml file (they belong in pyproject.toml).",
        "PROJECT_ONLY = frozenset([",
    ])
    lines.extend("    %r," % name for name in PROJECT_ONLY)
    lines.extend(["])", "", "# Deprecated key -> the key that replaces it (from the schema's descriptions).",
                  "DEPRECATED = {"])
    lines.extend("    %r: %r," % item for item in sorted(deprecated.items()))
    # pformat aligns its continuation lines under its opening brace: shift them past "SETTINGS = ".
    table = pprint.pformat(top, width=110).replace("\n", "\n" + " " * len("SETTINGS = "))
    lines.extend(["}", "", "SETTINGS = " + table])
    lines.extend(["", "# The keys of one [[index]] table.",
                  'INDEX_KEYS = SETTINGS["index"]["items"]["keys"]', ""])
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("schema", help="uv.schema.json of astral-sh/uv")
    parser.add_argument("--commit", required=True, help="the astral-sh/uv commit the schema came from")
    parser.add_argument("--described", default="", help="what that commit is (tag, or tag plus commits)")
    parser.add_argument("--uv", required=True, help="the uv binary whose fields the table must match")
    parser.add_argument("--compare", action="append", default=[],
                        help="another uv binary; the table's notes record which keys it lacks or adds (repeatable)")
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    with open(args.schema) as handle:
        schema = json.load(handle)
    top, deprecated, notes = build(schema, args.uv)
    for other in args.compare:
        fields = set(uv_fields(other))
        lacks, adds = sorted(set(top) - fields), sorted(fields - set(top))
        notes.append("uv %s lacks %s; adds %s" % (uv_version(other), ", ".join(lacks) or "nothing",
                                                  ", ".join(adds) or "nothing"))
    text = render(top, deprecated, notes, uv_version(args.uv), args.commit, args.described)
    with open(args.out + ".tmp", "w") as handle:
        handle.write(text)
    os.rename(args.out + ".tmp", args.out)
    print("%s: %d keys, %d notes" % (args.out, len(top), len(notes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
