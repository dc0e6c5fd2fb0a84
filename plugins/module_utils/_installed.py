# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What uv is installed on this host: version output, receipt, PATH lookup.

PRIVATE API: only for this collection's modules; names may change without notice.
This file only reads: it never writes, downloads or deletes anything.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

__all__ = [
    "RECEIPT_NAME",
    "find_uv",
    "installed_state",
    "parse_uv_version",
    "read_receipt",
    "run_version",
]

# The receipt this collection writes beside the binaries (see the uv_install docs).
RECEIPT_NAME = ".pyfleet-uv.json"
RECEIPT_SCHEMA = 1

# `uv --version` prints "uv 0.5.11 (c4d0caaee 2024-12-19)"; builds from 0.10.12 on
# also name their target triple inside the parentheses, e.g.
# "uv 0.13.9 (0a1b2c3d4 2026-11-02 x86_64-unknown-linux-gnu)", and builds made from
# the PyPI sdist print only "uv 0.13.8 (x86_64-unknown-linux-gnu)". uvx before 0.6
# prints "uv-tool-uvx 0.5.11".
_UV_VERSION_RE = re.compile(
    r"^\s*(uv|uvx|uv-tool-uvx)\s+(\d+\.\d+\.\d+(?:[-+.][0-9A-Za-z.+-]*)?)(?:\s+\(([^)]*)\))?\s*$"
)
_TRIPLE_RE = re.compile(r"^[a-z0-9_]+-[a-z0-9_]+-[a-z0-9_]+(?:-[a-z0-9_]+)?$")


def parse_uv_version(text):
    """Parse ``uv --version`` (or ``uvx --version``) output.

    Returns a dict ``{"name", "version", "target"}`` (``target`` is ``None`` for builds
    that do not print it), or ``None`` when the text is not a uv version line.
    """
    for line in (text or "").splitlines():
        match = _UV_VERSION_RE.match(line)
        if not match:
            continue
        target = None
        for word in (match.group(3) or "").split():
            # A commit hash and a date may stand beside it; only a triple names an OS.
            if _TRIPLE_RE.match(word) and ("-linux" in word or "-darwin" in word or "-windows" in word):
                target = word
        return {"name": match.group(1), "version": match.group(2), "target": target}
    return None


def run_version(path, run):
    """Run ``<path> --version`` through ``run``: ``(rc, text)``, rc ``None`` if it could not start."""
    return run([path, "--version"])


def find_uv(install_dir=None, path_env=None):
    """Path of the ``uv`` to report: in ``install_dir`` if given, else the first on PATH."""
    if install_dir:
        candidate = os.path.join(install_dir, "uv")
        return candidate if os.path.isfile(candidate) else None
    if path_env is None:
        path_env = os.environ.get("PATH", "")
    for directory in path_env.split(os.pathsep):
        candidate = os.path.join(directory or ".", "uv")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def read_receipt(install_dir):
    """The receipt of ``install_dir`` as a dict, or ``None`` if absent or unreadable."""
    try:
        with open(os.path.join(install_dir, RECEIPT_NAME), "r") as handle:
            data = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("schema") != RECEIPT_SCHEMA:
        return None
    return data


def installed_state(path, run):
    """``{path, version, target}`` of the uv at ``path`` as it reports itself, or ``None``.

    When the binary does not print its target (builds before 0.10.12), the receipt
    beside it supplies it, provided the receipt describes the same version.
    """
    if not path or not os.path.isfile(path):
        return None
    rc, text = run_version(path, run)
    parsed = parse_uv_version(text) if rc == 0 else None
    if not parsed or parsed["name"] != "uv":
        return None
    target = parsed["target"]
    if target is None:
        receipt = read_receipt(os.path.dirname(path))
        if receipt and receipt.get("version") == parsed["version"]:
            target = receipt.get("target")
    return {"path": path, "version": parsed["version"], "target": target}
