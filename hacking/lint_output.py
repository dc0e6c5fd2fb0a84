# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a tool run printed, sorted into what the stage judges and what it only records.

The lint stage runs ansible-lint (and galaxy-importer) from virtual environments built from
the newest releases. A dependency of ansible-core may deprecate something that ansible-core
imports (cryptography 51 deprecated DSA, which ansible-core 2.21's ssh agent code imports):
Python prints a warning at import, and ansible-lint echoes it as ``WARNING`` lines. Such a
line says nothing about this collection, so it is *tolerated*, but only when all of these hold:

- it is a Python warning whose category is a DeprecationWarning (any ``...DeprecationWarning``,
  such as ``CryptographyDeprecationWarning``), printed by ``warnings`` or echoed by ansible-lint;
- the file it names lies inside the tool's own virtual environment (``site-packages``) and
  not inside the checkout being linted.

Every other line besides the tool's summary is a *finding*, and fails the stage. Tolerated
lines are logged with the versions that raised them, so a drift is named when it happens.
"""

from __future__ import annotations

import os
import re

# ansible-lint's echo of a Python warning: "WARNING  <file>:<line> <Category> <text>".
LINT_ECHO = re.compile(r"^WARNING\s+(?P<file>/\S+?):(?P<line>\d+):?\s+(?P<category>\w*DeprecationWarning):?\s+(?P<text>.*)$")
# Python's own format: "<file>:<line>: <Category>: <text>", then the source line indented.
PY_WARNING = re.compile(r"^(?P<file>/\S+?):(?P<line>\d+): (?P<category>\w*DeprecationWarning): (?P<text>.*)$")


def _inside(path: str, folder: str) -> bool:
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def classify(text: str, venv: str, checkout: str, summary=None):
    """``(summary_lines, tolerated, findings)`` of a tool's output ``text``.

    ``venv`` is the tool's virtual environment, ``checkout`` the tree being linted, ``summary`` a
    compiled pattern of the tool's clean summary line (such lines are returned apart).
    """
    summaries, tolerated, findings = [], [], []
    lines = text.splitlines()
    skip_source = False
    for line in lines:
        if not line.strip():
            continue
        if skip_source:
            skip_source = False
            if line.startswith((" ", "\t")):
                tolerated[-1] = tolerated[-1] + " | " + line.strip()
                continue
        if summary is not None and summary.match(line):
            summaries.append(line)
            continue
        match = LINT_ECHO.match(line) or PY_WARNING.match(line)
        if match and _inside(match.group("file"), venv) and not _inside(match.group("file"), checkout):
            tolerated.append(line)
            skip_source = match.re is PY_WARNING
            continue
        findings.append(line)
    return summaries, tolerated, findings


def describe_tolerated(tolerated, venv: str) -> str:
    """One line per distinct warning: category, the file (relative to site-packages) and line."""
    seen = []
    for line in tolerated:
        match = LINT_ECHO.match(line) or PY_WARNING.match(line.split(" | ")[0])
        if not match:
            continue
        where = match.group("file")
        marker = os.sep + "site-packages" + os.sep
        if marker in where:
            where = where.split(marker, 1)[1]
        item = "%s from %s:%s" % (match.group("category"), where, match.group("line"))
        if item not in seen:
            seen.append(item)
    return "%d line(s) tolerated (dependency deprecation warnings from %s): %s" % (
        len(tolerated), venv, "; ".join(seen))
