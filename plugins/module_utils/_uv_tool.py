# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A uv tool as data: its receipt, its requirements compared with a request, who owns a file in bin_dir.

PRIVATE API: only for this collection's modules; names may change without notice.
Pure functions of text, plus small readers (``read_receipt``, ``describe_owner``,
``unusable_by_others``) that only look at files: nothing here writes or runs anything.

Facts checked against the real uv (0.8.0, 0.13.8):

- ``uv tool install`` keeps each tool in ``$UV_TOOL_DIR/<normalized name>/``, a virtual
  environment with ``uv-receipt.toml`` beside its ``pyvenv.cfg``. The receipt's ``[tool]`` table
  holds ``requirements`` (inline tables ``{name, specifier?, extras?, marker?, url?}``; the
  tool first, then each ``--with``), ``python`` (the request as given, absent without
  ``--python``), ``entrypoints`` (``{name, install-path, from}``) and ``[tool.options]``.
- ``uv tool`` has no dry run and no JSON output; ``uv pip install --dry-run --exact`` against the
  tool's environment predicts what ``uv tool install`` changes (it syncs the environment exactly
  to the requirements), and makes no index request when the environment satisfies them.
- ``uv tool install`` refuses an executable it did not link for this tool:
  ``error: Executable already exists: ruff (use `--force` to overwrite)`` (``Executables already
  exist: a, b`` for several), after removing the environment it had just made. A package without
  console scripts ends with ``No executables are provided by package `six`; removing tool``.
- ``UV_TOOL_DIR``, ``UV_TOOL_BIN_DIR`` and ``UV_PYTHON_INSTALL_DIR`` cannot be set in uv.toml.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import stat

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_text
from ansible_collections.pyfleet.uv.plugins.module_utils._venv import normalize_name, read_pyvenv
from ansible_collections.pyfleet.uv.plugins.module_utils.tools import TOOLS

__all__ = [
    "RECEIPT",
    "ToolError",
    "canonical_request",
    "canonical_entry",
    "changed_names",
    "check_bin_dir",
    "collision_names",
    "describe_owner",
    "entry_text",
    "explain_failure",
    "no_executables_line",
    "parse_toml",
    "read_receipt",
    "tool_summary",
    "unusable_by_others",
]

RECEIPT = "uv-receipt.toml"
_COLLISION = re.compile(r"Executables? already exists?: (.+?) \(use `--force`")
_NO_EXECUTABLES = re.compile(r"^No executables are provided by (?:package )?.*$", re.M)
_REQUEST = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[([^\]]*)\])?\s*([^;]*?)\s*(?:;\s*(.*?))?\s*$")
_BARE = re.compile(r"[A-Za-z0-9_-]+")
# uv's words for "the index has no such package or version" (uv 0.8 to 0.13).
_NOT_FOUND_HINTS = ("was not found in", "there is no version of", "no versions of", "unsatisfiable")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


class ToolError(UvError):
    """A request, a receipt or a file in bin_dir is not usable; the message says which and why."""


# -- the receipt: a small TOML reader for what uv writes ------------------------------------------

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


def read_receipt(environment):
    """The ``[tool]`` table of ``<environment>/uv-receipt.toml``, or ``None`` if there is none.

    ``ToolError`` when it exists but cannot be read or parsed.
    """
    path = os.path.join(environment, RECEIPT)
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
    except (IOError, OSError) as exc:
        if not os.path.lexists(path):
            return None
        raise ToolError("uv's receipt %s cannot be read: %s" % (path, exc.strerror or exc))
    except UnicodeDecodeError as exc:
        raise ToolError("uv's receipt %s is not UTF-8: %s" % (path, exc))
    try:
        data = parse_toml(text)
    except (ValueError, IndexError) as exc:
        raise ToolError("uv's receipt %s is not valid TOML (%s); reinstall the tool with state=reinstalled" % (path, exc))
    tool = data.get("tool")
    if not isinstance(tool, dict) or not isinstance(tool.get("requirements"), list):
        raise ToolError("uv's receipt %s has no [tool] requirements; reinstall the tool with state=reinstalled" % path)
    return tool


# -- requests and receipt entries -------------------------------------------------------------------

def _specifier(text):
    return ",".join(sorted(p for p in re.sub(r"\s+", "", text or "").split(",") if p))


def _canonical(name, extras, specifier, url, marker):
    out = normalize_name(name)
    if extras:
        out += "[%s]" % ",".join(sorted(normalize_name(e) for e in extras))
    if url:
        out += " @ " + url
    else:
        out += _specifier(specifier)
    if marker:
        out += "; " + re.sub(r"\s+", " ", marker.replace("'", '"')).strip()
    return out


def canonical_request(requirement):
    """A PEP 508 requirement as a comparable string (name normalized, specifiers sorted).

    ``ToolError`` when it is not a requirement. Only used to compare with the receipt: a
    mismatch means uv is asked, never that something is assumed changed.
    """
    match = _REQUEST.match(requirement or "")
    rest = match.group(3) if match else ""
    if not match or (rest and not re.match(r"^(?:~=|===?|!=|<=?|>=?|@)", rest)):
        raise ToolError("%r is not a valid requirement (PEP 508, e.g. ansible-lint==25.* or httpie>=3)"
                        % (requirement,))
    extras = [e.strip() for e in (match.group(2) or "").split(",") if e.strip()]
    url = rest[1:].strip() if rest.startswith("@") else None
    return _canonical(match.group(1), extras, None if url else rest, url, match.group(4))


def canonical_entry(entry):
    """A receipt's ``requirements`` entry as ``canonical_request`` spells it."""
    if not isinstance(entry, dict) or not entry.get("name"):
        return repr(entry)
    return _canonical(entry["name"], entry.get("extras") or [], entry.get("specifier"), entry.get("url"),
                      entry.get("marker"))


def entry_text(entry):
    """A receipt entry as a requirement to show: ``ruff==0.16.10``, ``pkg[x]>=1; marker``."""
    if not isinstance(entry, dict):
        return str(entry)
    out = entry.get("name", "?")
    if entry.get("extras"):
        out += "[%s]" % ",".join(entry["extras"])
    out += (" @ " + entry["url"]) if entry.get("url") else (entry.get("specifier") or "")
    if entry.get("marker"):
        out += "; " + entry["marker"]
    return out


def tool_summary(environment, after, receipt, given):
    """The ``tool`` result: ``{name, version, requested, with, python, environment, executables}``.

    From the receipt when there is one (after a real run), else from the options ``given``
    (check mode); ``after`` is the environment's package list. Credentials are masked.
    """
    receipt = receipt or {}
    name = os.path.basename(environment)
    cfg = read_pyvenv(environment) or {}
    entries = receipt.get("requirements") or []
    base = os.path.join(environment, "bin", "python")
    extras = [entry_text(e) for e in entries[1:]] if entries else list(given["with"])
    return {
        "name": name,
        "version": (after.get(normalize_name(name)) or {}).get("version"),
        "requested": redact_text(entry_text(entries[0]) if entries else given["name"]),
        "with": [redact_text(e) for e in extras],
        "python": dict(version=cfg.get("version_info"), request=receipt.get("python") or given["python"],
                       base=os.path.realpath(base) if os.path.exists(base) else None),
        "environment": environment,
        "executables": [dict(name=p.get("name"), path=p.get("install-path"))
                        for p in receipt.get("entrypoints") or [] if isinstance(p, dict)],
    }


def changed_names(items):
    """``six 1.17.0, ruff 0.16.10 -> 0.17.6`` from ``changes_from_lists`` entries."""
    return ", ".join("%s %s -> %s" % (i["name"], i["from"], i["to"]) if "to" in i else "%s %s" % (i["name"], i["version"])
                     for i in items)


# -- uv's failures ----------------------------------------------------------------------------------

def collision_names(text):
    """The executables uv refused to overwrite, from its ``Executable already exists`` error."""
    match = _COLLISION.search(text or "")
    return [n.strip() for n in match.group(1).split(",") if n.strip()] if match else []


def no_executables_line(text):
    """uv's ``No executables are provided by package ...`` line, or ``None``."""
    match = _NO_EXECUTABLES.search(text or "")
    return match.group(0).strip() if match else None


def explain_failure(msg, output, name, bin_dir, tool_dir, where):
    """``msg`` (uv's failure, from ``failure_message``) with what it means for the tool ``name``.

    ``output`` is uv's whole output (some lines that matter are not on stderr); ``where`` says which
    indexes were asked (credentials masked), for a package that was not found.
    """
    names = collision_names(output)
    if names:
        owners = "; ".join("%s exists and was not linked by uv for %s: %s" % (
            os.path.join(bin_dir, n), name, describe_owner(os.path.join(bin_dir, n), tool_dir)) for n in names)
        return ("%s. Nothing was changed: remove it, choose another bin_dir, or set force=true to overwrite it.\n%s"
                % (owners, msg))
    line = no_executables_line(output)
    if line:
        return ("%s: %s is not a command-line tool (it has no console scripts); install it into a virtual "
                "environment with pyfleet.uv.uv_venv, or add it to a tool with 'with'.\n%s" % (line, name, msg))
    if any(hint in msg for hint in _NOT_FOUND_HINTS):
        return "%s\nindexes asked: %s" % (msg, where)
    return msg


# -- files that others must be able to use ----------------------------------------------------------

def describe_owner(path, tool_dir):
    """Who put ``path`` (a file in bin_dir) there, in words, as far as this host tells.

    A binary of this collection's ``uv_install``/``ruff_install``/``ty_install`` (its receipt
    beside it), a link uv made for another tool, another link, or a file and its owning user.
    """
    directory, name = os.path.split(path)
    for tool in sorted(TOOLS.values(), key=lambda t: t.name):
        if name in tool.binaries and os.path.isfile(os.path.join(directory, tool.receipt)):
            return "placed by pyfleet.uv.%s_install (its receipt %s is beside it)" % (
                tool.name, os.path.join(directory, tool.receipt))
    try:
        info = os.lstat(path)
    except OSError:
        return "gone"
    if stat.S_ISLNK(info.st_mode):
        target = os.readlink(path)
        full = os.path.normpath(os.path.join(directory, target))
        inside = os.path.relpath(full, os.path.abspath(tool_dir))
        if not inside.startswith(os.pardir):
            return "linked by uv for the tool %s (a link to %s)" % (inside.split(os.sep)[0], target)
        return "a symbolic link to %s, owned by user %s" % (target, _user(info.st_uid))
    return "a file owned by user %s" % _user(info.st_uid)


def check_bin_dir(bin_dir):
    """``ToolError`` unless ``bin_dir`` is a directory this user may link executables in."""
    if not os.path.isdir(bin_dir):
        raise ToolError("bin_dir %s does not exist (or is not a directory): create it first (ansible.builtin.file) "
                        "or choose another bin_dir" % bin_dir)
    if not os.access(bin_dir, os.W_OK | os.X_OK):
        raise ToolError("bin_dir %s is not writable by %s: run the task with become, or choose another bin_dir"
                        % (bin_dir, _user(os.geteuid())))


def _user(uid):
    try:
        import pwd  # pylint: disable=import-outside-toplevel
        return "%s (uid %d)" % (pwd.getpwuid(uid).pw_name, uid)
    except (ImportError, KeyError):
        return "uid %d" % uid


def unusable_by_others(path):
    """Why users other than its owner cannot run ``path`` (an interpreter), or ``None``.

    Every directory on the way to the real file must be searchable by others (``o+x``), the
    file readable and executable by them: a Python in root's home (``/root`` is 0700) is not
    (uv issue 13309).
    """
    real = os.path.realpath(path)
    head = os.path.dirname(real)
    dirs = []
    while True:
        dirs.append(head)
        parent = os.path.dirname(head)
        if parent == head:
            break
        head = parent
    for directory in reversed(dirs):
        try:
            mode = os.stat(directory).st_mode
        except OSError as exc:
            return "%s cannot be read (%s)" % (directory, exc.strerror or exc)
        if not mode & stat.S_IXOTH:
            return "%s is mode %04o: other users cannot enter it" % (directory, stat.S_IMODE(mode))
    try:
        mode = os.stat(real).st_mode
    except OSError as exc:
        return "%s cannot be read (%s)" % (real, exc.strerror or exc)
    if (mode & (stat.S_IROTH | stat.S_IXOTH)) != (stat.S_IROTH | stat.S_IXOTH):
        return "%s is mode %04o: other users cannot run it" % (real, stat.S_IMODE(mode))
    return None
