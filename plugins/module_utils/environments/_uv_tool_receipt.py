# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""uv's tool receipt (``uv-receipt.toml``) read, and a tool's request compared with it in uv's words.

PRIVATE API: only for this collection's modules; names may change without notice.
Pure functions of text (standard library only: managed hosts have no ``packaging`` and Python 3.6
has no ``tomllib``), plus ``read_receipt``, which only reads a file.

What uv (0.8.0 to 0.13.9) writes in ``uv-receipt.toml`` for a request, checked against the real uv:

- names normalized (``Pyfleet_Hello`` is ``pyfleet-hello``), versions in specifiers normalized
  per PEP 440 (``>= 01.0`` is ``>=1.0``, ``==1.1.0`` stays ``==1.1.0``);
- markers rewritten: single quotes, ``python_version`` as ``python_full_version``
  (``python_version >= '3.8'`` is ``python_full_version >= '3.8'``);
- a ``file://`` URL or a local path as ``path = "/abs/path"``, other URLs as ``url``;
- the Python request in uv's words: ``python3.11`` and ``3.11`` are ``3.11``, ``cp311`` and
  ``cpython3.11`` are ``cpython@3.11``; a path stays as given.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

try:
    from urllib.parse import unquote, urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported on targets
    from urllib import unquote  # type: ignore
    from urlparse import urlsplit  # type: ignore

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_text
from ansible_collections.pyfleet.uv.plugins.module_utils._toml_read import parse_toml
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._venv import normalize_name

__all__ = ["RECEIPT", "ToolError", "canonical_entry", "canonical_python", "canonical_request", "entry_text",
           "normalize_version", "parse_toml", "read_receipt", "refuse_credentials"]

RECEIPT = "uv-receipt.toml"
_REQUEST = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[([^\]]*)\])?\s*([^;]*?)\s*(?:;\s*(.*?))?\s*$")
_VERSION = re.compile(
    r"^v?(?:(\d+)!)?(\d+(?:\.\d+)*)"
    r"(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d*))?"
    r"(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d*))?"
    r"(?:[-_.]?(dev)[-_.]?(\d*))?"
    r"(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?(\.\*)?$", re.I)
_PRE = {"alpha": "a", "beta": "b", "c": "rc", "pre": "rc", "preview": "rc"}
_CLAUSE = re.compile(r"^(~=|===|==|!=|<=|>=|<|>)(.*)$")
# One marker clause: ``python_version ~= '3.9'``, ``'3.9' <= python_version``, ``python_version not in '2.7'``.
_CLAUSE_TEXT = r"(?P<left>'[^']*'|[a-z_]+) (?P<op>===|==|!=|~=|<=|>=|<|>|not in|in) (?P<right>'[^']*'|[a-z_]+)"
_MARKER_CLAUSE = re.compile("^%s$" % _CLAUSE_TEXT)
_MARKER_CLAUSE_IN = re.compile(r"(?<![\w'])%s(?![\w'])" % _CLAUSE_TEXT)
_MINOR = re.compile(r"^\d+\.\d+$")
_REVERSED = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
# uv's Python request: [implementation][@]version[t], implementation as a word or two letters.
_PYTHON = re.compile(r"^(?:(cpython|cp|pypy|pp|graalpy|gp|python|py)[@-]?)?(\d)(?:\.?(\d+))?(?:\.(\d+))?(t?)$")
_PYTHON_IMPL = {"cp": "cpython", "pp": "pypy", "gp": "graalpy", "py": "", "python": ""}


class ToolError(UvError):
    """A request, a receipt or a file in bin_dir is not usable; the message says which and why."""


# -- the receipt: read with the TOML reader uv_facts shares (_toml_read.py) ------------------------


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
    except (ValueError, IndexError, TypeError, AttributeError, KeyError, RecursionError) as exc:
        # the shared reader raises more than ValueError on a file that is not the TOML uv writes
        raise ToolError("uv's receipt %s is not valid TOML (%s); reinstall the tool with state=reinstalled"
                        % (path, exc))
    tool = data.get("tool") if isinstance(data, dict) else None
    if (not isinstance(tool, dict) or not isinstance(tool.get("requirements"), list) or not tool["requirements"]
            or not all(_valid_entry(e) for e in tool["requirements"])
            or not isinstance(tool.get("python", ""), str) or not isinstance(tool.get("entrypoints", []), list)
            or not all(isinstance(e, dict) and all(isinstance(e.get(k, ""), str) for k in ("name", "install-path"))
                       for e in tool.get("entrypoints", []))):
        raise ToolError("uv's receipt %s has no valid [tool] requirements; reinstall the tool with state=reinstalled"
                        % path)
    return tool


def _valid_entry(entry):
    """Whether a receipt's ``requirements`` entry has the types uv writes (a name, text fields, extras a list)."""
    return (isinstance(entry, dict) and isinstance(entry.get("name"), str)
            and all(isinstance(entry.get(k, ""), str) for k in ("specifier", "marker", "url", "path", "directory", "editable"))
            and isinstance(entry.get("extras", []), list) and all(isinstance(x, str) for x in entry.get("extras", [])))


# -- requests and receipt entries -------------------------------------------------------------------

def normalize_version(text):
    """``text`` as PEP 440 spells the version (``01.0`` is ``1.0``, ``1.0-1`` is ``1.0.post1``), else as given."""
    match = _VERSION.match((text or "").strip())
    if not match:
        return (text or "").strip()
    epoch, release, pre, pre_n, post_dash, post, post_n, dev, dev_n, local, star = match.groups()
    out = ("%d!" % int(epoch)) if epoch and int(epoch) else ""
    out += ".".join(str(int(part)) for part in release.split("."))
    if pre:
        out += _PRE.get(pre.lower(), pre.lower()) + str(int(pre_n or 0))
    if post_dash or post:
        out += ".post%d" % int(post_dash or post_n or 0)
    if dev:
        out += ".dev%d" % int(dev_n or 0)
    if local:
        out += "+" + re.sub(r"[-_]", ".", local.lower())
    return out + (star or "")


def _specifier(text):
    clauses = []
    for part in re.sub(r"\s+", "", text or "").split(","):
        match = _CLAUSE.match(part)
        if match:
            clauses.append(match.group(1) + (match.group(2) if match.group(1) == "===" else normalize_version(match.group(2))))
        elif part:
            clauses.append(part)
    return ",".join(sorted(clauses))


def _marker(text):
    """A marker as uv records it, so that a request settles whatever its operators.

    Quotes single, blanks collapsed; each ``python_version`` clause in uv's words (uv 0.8 to 0.13 turn
    them into ``python_full_version`` ranges: ``~= '3.9'`` is ``>= '3.9' and < '4'``, ``> '3.8'`` is
    ``>= '3.9'``, ``== '3.11'`` is ``== '3.11.*'``, ``in '3.10 3.11'`` is ``>= '3.10' and < '3.12'``);
    the clauses of an expression without parentheses sorted, as both sides are compared sorted. A
    marker uv simplifies further (two clauses merged into one range) may still differ: then uv's own
    dry run is asked, and the tool is updated once more.
    """
    marker = re.sub(r"\s+", " ", (text or "").replace('"', "'")).strip()
    marker = re.sub(r"\s*(===|==|!=|~=|<=|>=|<|>)\s*", r" \1 ", marker)
    marker = re.sub(r"'\s*(.*?)\s*'", lambda m: "'%s'" % m.group(1), marker)
    single = _MARKER_CLAUSE.match(marker)
    if single:  # a lone clause may become an "or" of two (not in '3.9 3.10'), which no parentheses hold
        marker = _python_clause(single, alone=True)
    else:
        marker = _MARKER_CLAUSE_IN.sub(lambda m: _python_clause(m, alone=False), marker)
    if "(" in marker:
        return marker
    groups = [" and ".join(sorted(part.split(" and "))) for part in marker.split(" or ")]
    return " or ".join(sorted(groups))


def _python_clause(match, alone):
    """One ``python_version`` clause (a regex match of ``_MARKER_CLAUSE``) as uv records it, else as given."""
    left, op, right = match.group("left"), match.group("op"), match.group("right")
    if right == "python_version" and left.startswith("'"):
        op, value = _REVERSED.get(op, op), left.strip("'")
    elif left == "python_version" and right.startswith("'"):
        value = right.strip("'")
    else:
        return match.group(0)
    full = "python_full_version %s '%s'"
    parts = value.split()
    if op in ("in", "not in") and parts and all(_MINOR.match(p) for p in parts):
        minors = sorted(set(tuple(int(n) for n in p.split(".")) for p in parts))
        if any(b != (a[0], a[1] + 1) for a, b in zip(minors, minors[1:])):
            return match.group(0)  # not one range: left to uv's dry run
        low, high = minors[0], minors[-1]
        if low == high:
            return full % ("==" if op == "in" else "!=", "%d.%d.*" % low)
        if op == "in":
            return "%s and %s" % (full % (">=", "%d.%d" % low), full % ("<", "%d.%d" % (high[0], high[1] + 1)))
        if not alone:
            return match.group(0)
        return "%s or %s" % (full % ("<", "%d.%d" % low), full % (">=", "%d.%d" % (high[0], high[1] + 1)))
    star = re.match(r"^(\d+)\.\*$", value)
    if op == "==" and star:
        major = int(star.group(1))
        return "%s and %s" % (full % (">=", major), full % ("<", major + 1))
    if not _MINOR.match(value) and not re.match(r"^\d+$", value):
        return match.group(0)
    numbers = [int(n) for n in value.split(".")]
    if op in (">=", "<"):
        return full % (op, value)
    if op in (">", "<=") and len(numbers) == 2:
        return full % (">=" if op == ">" else "<", "%d.%d" % (numbers[0], numbers[1] + 1))
    if op in ("==", "!=") and len(numbers) == 2:
        return full % (op, value + ".*")
    if op == "~=" and len(numbers) == 2:
        return "%s and %s" % (full % (">=", value), full % ("<", numbers[0] + 1))
    return match.group(0)


def _location(url):
    """A URL as uv records it: a ``file://`` URL as its absolute path, others as given."""
    if url.startswith("file://"):
        return "path:" + os.path.normpath(unquote(urlsplit(url).path))
    if url.startswith("/"):
        return "path:" + os.path.normpath(url)
    return url


def _canonical(name, extras, specifier, url, marker):
    out = normalize_name(str(name))
    if extras:
        out += "[%s]" % ",".join(sorted(normalize_name(str(e)) for e in extras))
    if url:
        out += " @ " + _location(str(url))
    else:
        out += _specifier(specifier)
    if marker:
        out += "; " + _marker(str(marker))
    return out


def canonical_request(requirement):
    """A PEP 508 requirement as a comparable string (names and versions normalized, specifiers sorted).

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
    url = entry.get("url") or entry.get("path") or entry.get("directory") or entry.get("editable")
    extras = entry.get("extras") if isinstance(entry.get("extras"), list) else []
    return _canonical(entry["name"], extras, entry.get("specifier"), url, entry.get("marker"))


def entry_text(entry):
    """A receipt entry as a requirement to show: ``ruff==0.16.10``, ``pkg[x]>=1; marker``."""
    if not isinstance(entry, dict):
        return str(entry)
    out = str(entry.get("name", "?"))
    if isinstance(entry.get("extras"), list) and entry["extras"]:
        out += "[%s]" % ",".join(str(e) for e in entry["extras"])
    url = entry.get("url") or entry.get("path") or entry.get("directory") or entry.get("editable")
    out += (" @ %s" % url) if url else str(entry.get("specifier") or "")
    if entry.get("marker"):
        out += "; %s" % entry["marker"]
    return out


def canonical_python(request):
    """A Python request as a comparable value: ``("cpython", "3.11", "")`` for ``cp311``, ``3.11``,
    ``python3.11``; a path resolved; any other request (``pypy``, a name) as given, lower-cased."""
    text = (request or "").strip()
    if not text:
        return None
    if "/" in text:
        return os.path.realpath(text)
    match = _PYTHON.match(text.lower())
    if not match:
        return text.lower()
    impl, major, minor, patch, variant = match.groups()
    impl = _PYTHON_IMPL.get(impl, impl) or "cpython"
    return (impl, ".".join(p for p in (major, minor, patch) if p), variant)


def refuse_credentials(requirement):
    """``ToolError`` when ``requirement`` carries credentials in a URL (user info, a query value).

    uv records the requirement as given in ``uv-receipt.toml``, which every user can read.
    """
    if redact_text(requirement) != requirement:
        raise ToolError(
            "%s carries credentials in its URL, and uv writes the requirement as given into the tool's receipt "
            "(uv-receipt.toml), which every user can read: serve the file from an index and give its credentials "
            "with index_url, extra_index_urls or find_links (masked in every result; uv never writes their password)"
            % redact_text(requirement))
