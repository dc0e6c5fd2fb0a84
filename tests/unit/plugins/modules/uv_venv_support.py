# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the uv_venv tests share: the real uv, a loopback index, the module as a fixture, and small helpers
(the fixtures live in conftest.py of this folder, so that each test module gets them by name)."""

from __future__ import annotations

import glob
import os
import subprocess
import sys

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "module_utils"))
from real_uv import needs_mirror, real_uv  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "utils"))
import venvindex  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

# The base Python of the environments: the one running the tests (its real interpreter).
PYTHON = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


def listing(path):
    out = {}
    for dist in glob.glob(os.path.join(path, "lib", "python*", "site-packages", "*.dist-info")):
        name, version = os.path.basename(dist)[:-len(".dist-info")].split("-", 1)
        out[name.lower().replace("_", "-")] = version
    return out


def broken_wheel(directory):
    """A wheel that uv's dry run accepts (its METADATA reads fine) and whose install fails (bad CRC)."""
    import zipfile  # pylint: disable=import-outside-toplevel
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "brokenpkg-1.0-py3-none-any.whl")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("brokenpkg/__init__.py", 'VALUE = "intact-content-here"\n')
        archive.writestr("brokenpkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: brokenpkg\nVersion: 1.0\n")
        archive.writestr("brokenpkg-1.0.dist-info/WHEEL",
                         "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr("brokenpkg-1.0.dist-info/RECORD", "")
    with open(path, "rb") as handle:
        data = handle.read()
    at = data.index(b"intact-content-here")
    with open(path, "wb") as handle:
        handle.write(data[:at] + b"X" + data[at + 1:])
    return directory


def spy_uv(uv, directory):
    """A uv that writes the command line it was started with (its real argv) to a log, then runs the real uv."""
    os.makedirs(directory, exist_ok=True)
    log = os.path.join(directory, "argv.log")
    spy = os.path.join(directory, "uv")
    with open(spy, "w") as handle:
        handle.write('#!/bin/sh\ntr "\\0" " " < /proc/$$/cmdline >> "%s"\necho >> "%s"\nexec "%s" "$@"\n' % (log, log, uv))
    os.chmod(spy, 0o755)
    return spy, log


def tree(path):
    out = {}
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            full = os.path.join(root, name)
            out[full] = os.lstat(full).st_mtime_ns
    out[path] = os.lstat(path).st_mtime_ns
    return out


def default_python(uv):
    out = subprocess.run([uv, "python", "find"], capture_output=True, text=True, check=False,
                         env=dict(os.environ, UV_PYTHON_DOWNLOADS="never")).stdout.strip()
    return os.path.realpath(out) if out else None


def sha256(path):
    import hashlib  # pylint: disable=import-outside-toplevel
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def flit_project(root, name="proj"):
    project = root / "src" / name
    (project / name).mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "%s"\nversion = "0.1.0"\ndescription = "x"\n'
        '[build-system]\nrequires = ["flit_core>=3.2,<5"]\nbuild-backend = "flit_core.buildapi"\n' % name)
    (project / name / "__init__.py").write_text('"""x"""\nVALUE = 1\n')
    return project
