# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every row group of benchmarks/run.py shares: the paths (and the ``sys.path`` entries for hacking/ and
tests/utils/, which run.py imports first), the uv release under test, a private copy of the collection, and
reading a playbook's recap."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _path in (os.path.join(ROOT, "hacking"), os.path.join(ROOT, "tests", "utils"),
              os.path.join(ROOT, "tests", "unit", "plugins", "module_utils", "fixtures", "index")):
    if _path not in sys.path:
        sys.path.insert(0, _path)
import suite  # noqa: E402  pylint: disable=wrong-import-position

VERSION = suite.UV_NEW
TARGET = "x86_64-unknown-linux-gnu"
MB = 1e6


def private_tree(top):
    """A real ``ansible_collections/pyfleet/uv`` copy of the work tree under ``top`` (not the suite's
    shared copy, which other runs rebuild while this one works)."""
    dest = os.path.join(top, "ansible_collections", "pyfleet", "uv")
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = os.path.join(ROOT, name)
        if os.path.isfile(source):
            target = os.path.join(dest, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(source, target)
    return top


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def recap_changed(output, host="h000"):
    """The ``changed=N`` count of ``host`` in a playbook's recap."""
    for line in output.splitlines():
        if line.startswith(host + " ") and "changed=" in line:
            return int(line.split("changed=")[1].split()[0])
    raise RuntimeError("no recap line for %s in:\n%s" % (host, output[-2000:]))
