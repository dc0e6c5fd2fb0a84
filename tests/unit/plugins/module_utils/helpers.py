# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the module_utils tests."""

from __future__ import annotations

import subprocess


def host_run(argv):
    """What ``_command.module_runner`` gives the helpers, made from subprocess for tests."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except OSError as exc:
        return None, str(exc)
    return proc.returncode, (proc.stdout + proc.stderr).strip()
