# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The uv tools installed under a tool directory, as facts (``ansible_facts.uv.tools``).

PRIVATE API: only for this collection's modules; names may change without notice.
Read-only: it looks at files (uv's receipt ``uv-receipt.toml``, ``pyvenv.cfg``, the
``*.dist-info`` directories of the tool's environment) and never runs uv, so it costs no
index request and works with no uv on the host. A receipt that cannot be read is reported
in the tool's ``error``, never raised: one broken tool must not hide the others.

Facts checked against the real uv (0.8.0, 0.13.8): ``uv tool install`` keeps each tool in
``<tool_dir>/<normalized name>/`` with ``uv-receipt.toml`` beside ``pyvenv.cfg``
(``version_info`` is the interpreter's version); the receipt's ``[tool]`` table holds
``requirements`` (the tool first, then each ``--with``), ``python`` (the request, absent
without ``--python``) and ``entrypoints`` (``{name, install-path, from}``). ``bin/python``
in the environment links to the interpreter the tool runs on.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_text
from ansible_collections.pyfleet.uv.plugins.module_utils._toml_read import parse_toml

__all__ = ["DEFAULT_TOOL_DIR", "gather_tools", "tool_facts"]

DEFAULT_TOOL_DIR = "/opt/uv/tools"  # uv_tool's default tool_dir
_RECEIPT = "uv-receipt.toml"


def _norm(name):
    """A project name as PEP 503 compares them (``_venv.normalize_name``, not imported: its room is big)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement(entry):
    """A receipt entry as a requirement: ``ruff==0.16.10``, ``pkg[x]>=1; marker``, credentials masked."""
    if not isinstance(entry, dict):
        return redact_text(str(entry))
    out = str(entry.get("name", "?"))
    if entry.get("extras"):
        out += "[%s]" % ",".join(str(e) for e in entry["extras"])
    out += (" @ " + str(entry["url"])) if entry.get("url") else str(entry.get("specifier") or "")
    if entry.get("marker"):
        out += "; " + str(entry["marker"])
    return redact_text(out)


def _pyvenv(environment):
    out = {}
    try:
        with open(os.path.join(environment, "pyvenv.cfg")) as handle:
            lines = handle.read().splitlines()
    except (IOError, OSError, UnicodeDecodeError):
        return out
    for line in lines:
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip().lower()] = value.strip()
    return out


def _version(environment, name):
    """The version of the project ``name`` installed in ``environment``, from its ``.dist-info`` name."""
    lib = os.path.join(environment, "lib")
    try:
        pythons = sorted(d for d in os.listdir(lib) if d.startswith("python"))
    except OSError:
        return None
    for python in pythons:
        site = os.path.join(lib, python, "site-packages")
        try:
            entries = os.listdir(site)
        except OSError:
            continue
        for entry in sorted(entries):
            # A wheel's .dist-info is <escaped name>-<version>: neither part holds a '-'.
            if entry.endswith(".dist-info") and "-" in entry:
                project, version = entry[:-len(".dist-info")].split("-", 1)
                if _norm(project) == name:
                    return version
    return None


def _read_receipt(environment):
    """``(tool table, None)``, or ``(None, why)`` when the receipt is missing or broken."""
    path = os.path.join(environment, _RECEIPT)
    try:
        with open(path, "rb") as handle:
            data = parse_toml(handle.read().decode("utf-8"))
    except (IOError, OSError) as exc:
        return None, "uv's receipt %s cannot be read: %s" % (path, exc.strerror or exc)
    except (ValueError, IndexError, AttributeError, TypeError, KeyError, RecursionError) as exc:
        # UnicodeDecodeError is a ValueError; the others come from a file that is not the TOML uv writes
        return None, "uv's receipt %s is broken (%s); reinstall the tool (pyfleet.uv.uv_tool state=reinstalled)" % (
            path, exc)
    tool = data.get("tool")
    if not isinstance(tool, dict) or not isinstance(tool.get("requirements"), list) or not tool["requirements"]:
        return None, "uv's receipt %s has no [tool] requirements; reinstall the tool (pyfleet.uv.uv_tool state=reinstalled)" % path
    return tool, None


def tool_facts(environment):
    """One tool's facts: ``{name, version, requested, with, python: {version, path}, executables, environment, error}``.

    ``error`` is ``None`` for a readable receipt; otherwise it says what is wrong and the keys
    the receipt would have given (``requested``, ``with``, ``executables``) are empty.
    """
    name = os.path.basename(environment)
    receipt, error = _read_receipt(environment)
    receipt = receipt or {}
    entries = receipt.get("requirements") or []
    cfg = _pyvenv(environment)
    python = os.path.join(environment, "bin", "python")
    return {
        "name": name,
        "version": _version(environment, _norm(name)),
        "requested": _requirement(entries[0]) if entries else None,
        "with": [_requirement(e) for e in entries[1:]],
        "python": {"version": cfg.get("version_info") or cfg.get("version"),
                   "path": os.path.realpath(python) if os.path.exists(python) else None},
        "executables": [{"name": e.get("name"), "path": e.get("install-path")}
                        for e in receipt.get("entrypoints") or [] if isinstance(e, dict)],
        "environment": environment,
        "error": error,
    }


def gather_tools(tool_dir=DEFAULT_TOOL_DIR):
    """The facts of every tool under ``tool_dir``, by name; ``[]`` when the directory does not exist.

    A tool is a directory holding a ``pyvenv.cfg`` or a receipt (uv's own ``.lock`` and
    ``.gitignore`` and anything else are skipped).
    """
    try:
        names = sorted(os.listdir(tool_dir))
    except OSError:
        return []
    found = []
    for name in names:
        environment = os.path.join(tool_dir, name)
        if name.startswith("."):  # uv_tool's backup of a tool being replaced, uv's own files
            continue
        if os.path.isdir(environment) and (os.path.lexists(os.path.join(environment, _RECEIPT))
                                           or os.path.exists(os.path.join(environment, "pyvenv.cfg"))):
            try:
                found.append(tool_facts(environment))
            except (AttributeError, TypeError, KeyError, ValueError) as exc:  # fields of the wrong type
                found.append({"name": name, "version": None, "requested": None, "with": [],
                              "python": {"version": None, "path": None}, "executables": [],
                              "environment": environment,
                              "error": "uv's receipt in %s is not what uv writes (%s); reinstall the tool "
                                       "(pyfleet.uv.uv_tool state=reinstalled)" % (environment, exc)})
    return found
