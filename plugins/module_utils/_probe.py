# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Probes of the host: run a program for its output, read a tool's ``--version`` line, find it on PATH.

PRIVATE API: only for this collection's modules; names may change without notice.
Also ``missing_dirs``, the folders missing above a path. A leaf (it imports only ``tools``), so
that the modules that run uv (``_uv_runner``) or write a file (``_config_file``) carry neither
``_installed``'s ELF reading nor ``targets`` in their payload; ``_installed`` imports these under
the same names (there is one parser of ``uv --version``). Helpers take a ``run(argv) -> (rc, text)``
callable instead of starting processes themselves; ``module_runner`` makes one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.pyfleet.uv.plugins.module_utils.tools import UV, get_tool

__all__ = ["find_binary", "find_uv", "missing_dirs", "module_runner", "parse_uv_version", "parse_version"]

# `uv --version` prints "uv 0.5.11 (c4d0caaee 2024-12-19)"; builds from 0.10.12 on
# also name their target triple inside the parentheses, e.g.
# "uv 0.13.9 (0a1b2c3d4 2026-11-02 x86_64-unknown-linux-gnu)", and builds made from
# the PyPI sdist print only "uv 0.13.8 (x86_64-unknown-linux-gnu)". uvx before 0.6
# prints "uv-tool-uvx 0.5.11". ruff and ty print "ruff 0.17.6" and "ty 1.0.0": the same
# line without the parentheses (the names each tool may print are in ``tools.TOOLS``).
_VERSION_LINE = r"^\s*(%s)\s+(\d+\.\d+\.\d+(?:[-+.]?[0-9A-Za-z.+-]*)?)(?:\s+\(([^)]*)\))?\s*$"
_VERSION_RES = {}
_TRIPLE_RE = re.compile(r"^[a-z0-9_]+-[a-z0-9_]+-[a-z0-9_]+(?:-[a-z0-9_]+)?$")


def _version_re(tool):
    pattern = _VERSION_RES.get(tool.name)
    if pattern is None:
        names = "|".join(re.escape(name) for name in tool.version_names)
        pattern = _VERSION_RES[tool.name] = re.compile(_VERSION_LINE % names)
    return pattern


def parse_uv_version(text):
    """Parse ``uv --version`` (or ``uvx --version``) output; see ``parse_version``."""
    return parse_version(text, UV)


def parse_version(text, tool=UV):
    """Parse the ``--version`` output of one of ``tool``'s binaries.

    Returns a dict ``{"name", "version", "target"}`` (``target`` is ``None`` for builds
    that do not print it), or ``None`` when the text is not such a version line.
    """
    pattern = _version_re(get_tool(tool))
    for line in (text or "").splitlines():
        match = pattern.match(line)
        if not match:
            continue
        target = None
        for word in (match.group(3) or "").split():
            # A commit hash and a date may stand beside it; only a triple names an OS.
            if _TRIPLE_RE.match(word) and ("-linux" in word or "-darwin" in word or "-windows" in word):
                target = word
        return {"name": match.group(1), "version": match.group(2), "target": target}
    return None


def find_uv(install_dir=None, path_env=None):
    """Path of the ``uv`` to report: in ``install_dir`` if given, else the first on PATH."""
    return find_binary(UV, install_dir, path_env)


def find_binary(tool, install_dir=None, path_env=None):
    """Path of ``tool``'s own binary: in ``install_dir`` if given, else the first on PATH."""
    name = get_tool(tool).binaries[0]
    if install_dir:
        candidate = os.path.join(install_dir, name)
        return candidate if os.path.isfile(candidate) else None
    if path_env is None:
        path_env = os.environ.get("PATH", "")
    for directory in path_env.split(os.pathsep):
        candidate = os.path.join(directory or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def missing_dirs(path):
    """``path`` and those of its parents that do not exist yet, outermost first (none if it exists)."""
    missing = []
    head = os.path.abspath(path)
    while not os.path.isdir(head):
        missing.append(head)
        parent = os.path.dirname(head)
        if parent == head:
            break
        head = parent
    return missing[::-1]


def module_runner(module):
    """A ``run(argv)`` that returns ``(rc, stdout and stderr joined)``.

    ``rc`` is ``None`` when the program could not be started at all (missing, not
    executable, wrong format); the text then says why. Never raises, never fails the
    module: a probe that cannot run is an answer, not an error.
    """
    def run(argv):
        try:
            rc, out, err = module.run_command(
                list(argv),
                environ_update=dict(LC_ALL="C", LANG="C"),
                errors="surrogate_then_replace",
                handle_exceptions=False,
            )
        except (IOError, OSError) as exc:
            return None, "%s: %s" % (argv[0], exc.strerror or exc)
        return rc, "\n".join(part for part in (out.strip(), err.strip()) if part)
    return run
