# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""uv_sync's data: the lock file's header and packages, the name of an environment, a project tree.

PRIVATE API: only for this collection's plugins; names may change without notice.
Pure code and read-only file walks, standard library only, valid on Python 3.6 (it runs on managed
hosts; the action plugin imports ``SKIP_DIRS`` and ``project_files`` to choose what it sends).

Facts checked against the real uv 0.13.8:

- ``uv.lock`` starts with ``version = 1`` and ``revision = N`` (0.13.8 writes revision 5). uv reads
  locks of a higher revision (checked with ``revision = 99``), but refuses another ``version``:
  "uses an unsupported schema version (v2, but only v1 is supported)", exit 2. So only the
  version tells that a newer uv wrote the lock.
- ``uv lock --locked`` exits 0 without any index request when the lock matches ``pyproject.toml``
  (counted), and 1 after resolving again when it does not ("needs to be updated").
- ``uv sync --frozen --dry-run`` into a missing ``UV_PROJECT_ENVIRONMENT`` asks no index and prints
  its plan as `` + name==version`` lines, the project as `` + app @ file:///...``.
- ``uv export --frozen --format requirements-txt`` prints ``name==version`` with ``--hash`` lines
  (when the index gave hashes) and the workspace members as paths (``.``, ``./packages/x``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re

__all__ = [
    "ENVIRONMENT_SUFFIX",
    "SKIP_DIRS",
    "environment_key",
    "export_split",
    "lock_header",
    "lock_packages",
    "project_files",
    "top_level_names",
    "tree_digest",
]

# The versioned environments of ``environment`` live in ``<environment>.d/``.
ENVIRONMENT_SUFFIX = ".d"
# Directories that are never part of a project's source: version control, environments, caches,
# build output. A directory holding a ``pyvenv.cfg`` (an environment of any name) is skipped too.
SKIP_DIRS = frozenset([".git", ".hg", ".svn", ".venv", "venv", "__pycache__", ".mypy_cache", ".pytest_cache",
                       ".ruff_cache", ".tox", ".nox", "node_modules", "build", "dist", ".eggs"])
_HEADER = re.compile(r'^(version|revision)\s*=\s*(\d+)\s*$')
_TABLE = re.compile(r"^\s*\[")
_STRING_KEY = re.compile(r'^(name|version)\s*=\s*"([^"]*)"\s*$')


def lock_header(text):
    """``(version, revision)`` of a uv.lock's text (each an int, or ``None`` when missing)."""
    found = {}
    for line in (text or "").splitlines():
        if _TABLE.match(line):
            break  # the header keys come before the first table
        match = _HEADER.match(line.strip())
        if match:
            found[match.group(1)] = int(match.group(2))
    return found.get("version"), found.get("revision")


def lock_packages(text):
    """``{name: version}`` of the ``[[package]]`` tables of a uv.lock (a package without a version,
    such as a project with a dynamic version, is left out)."""
    out = {}
    name = version = None
    inside = False
    for line in (text or "").splitlines() + ["[[end]]"]:
        stripped = line.strip()
        if _TABLE.match(line):
            if inside and name and version:
                out[name] = version
            inside = stripped == "[[package]]"
            name = version = None
            continue
        match = _STRING_KEY.match(stripped) if inside else None
        if match:
            if match.group(1) == "name" and name is None:
                name = match.group(2)
            elif match.group(1) == "version" and version is None:
                version = match.group(2)
    return out


def environment_key(lock_sha256, settings):
    """The directory name of the environment that ``settings`` (a JSON-able dict: the project's
    digest, the interpreter, the selection options) build from the lock: ``<12 hex of the lock's
    sha256>-<8 hex of the settings' sha256>``."""
    blob = json.dumps(settings, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return "%s-%s" % (lock_sha256[:12], hashlib.sha256(blob).hexdigest()[:8])


def _skipped(root, name, skip_paths):
    full = os.path.join(root, name)
    return (name in SKIP_DIRS or name.endswith(".egg-info") or os.path.realpath(full) in skip_paths
            or os.path.exists(os.path.join(full, "pyvenv.cfg")))


def project_files(top, skip_paths=()):
    """The project's files below ``top``, as sorted paths relative to it (symbolic links included,
    never followed; ``SKIP_DIRS``, ``*.egg-info``, environments, ``*.pyc`` and ``skip_paths`` left out)."""
    skip = set(os.path.realpath(p) for p in skip_paths)
    out = []
    for root, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not _skipped(root, d, skip) and not os.path.islink(os.path.join(root, d)))
        out.extend(os.path.relpath(os.path.join(root, d), top) for d in os.listdir(root)
                   if os.path.islink(os.path.join(root, d)) and os.path.isdir(os.path.join(root, d))
                   and not _skipped(root, d, skip))  # the environment's own link when it lies in the project
        for name in files:
            if not name.endswith((".pyc", ".pyo")):
                out.append(os.path.relpath(os.path.join(root, name), top))
    return sorted(out)


def tree_digest(top, skip_paths=()):
    """sha256 over the project's files (``project_files``): their relative paths and contents
    (a symbolic link by its target). The same sources give the same digest wherever they lie."""
    digest = hashlib.sha256()
    for rel in project_files(top, skip_paths):
        full = os.path.join(top, rel)
        digest.update(rel.encode("utf-8", "surrogateescape") + b"\0")
        if os.path.islink(full):
            digest.update(b"link:" + os.readlink(full).encode("utf-8", "surrogateescape"))
        else:
            with open(full, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 16), b""):
                    digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def export_split(text):
    """``(hashed requirement lines, local paths)`` of ``uv export --format requirements-txt``.

    Requirements keep their ``--hash`` continuation lines; comments go; a line that names a
    path (``.``, ``./packages/x``, ``-e ./x``) is a workspace member, returned as the path.
    """
    requirements, paths = [], []
    for line in (text or "").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("-e "):
            stripped = stripped[3:].strip()
        if stripped.startswith((".", "/")) or stripped.startswith("file:"):
            paths.append(stripped)
        elif line[:1].isspace() and requirements:
            requirements.append(line.rstrip())
        else:
            requirements.append(line.rstrip())
    return requirements, paths


def top_level_names(record_text):
    """The importable top-level names of a distribution, from its ``RECORD``: first path parts
    that are packages (``app/__init__.py``) or modules (``six.py``), not metadata or scripts."""
    names = set()
    for line in (record_text or "").splitlines():
        path = line.rsplit(",", 2)[0] if line.count(",") >= 2 else line
        parts = path.replace("\\", "/").split("/")
        head = parts[0]
        if not head or head == ".." or head.endswith((".dist-info", ".data")) or head == "__pycache__":
            continue
        if len(parts) > 1:
            candidate = head
        elif head.endswith(".py"):
            candidate = head[:-3]
        else:
            continue
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", candidate):
            names.add(candidate)
    return sorted(names)
