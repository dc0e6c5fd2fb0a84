# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real uv binaries the suite uses, for the tests that ask uv itself (uv_config's key table).

``PYFLEET_UV_MIRROR`` (set by hacking/suite) names the mirror built by
tests/utils/uvmirror.py; its ``versioned/<version>/`` archives hold the real ``uv`` from
the PyPI wheels, and the wheel cache beside it may hold more versions (0.13.9).
"""

from __future__ import annotations

import os
import platform
import tarfile
import zipfile

import pytest

MIRROR = os.environ.get("PYFLEET_UV_MIRROR", "")
TARGETS = {"x86_64": "x86_64-unknown-linux-gnu", "aarch64": "aarch64-unknown-linux-gnu",
           "i686": "i686-unknown-linux-gnu"}
WHEEL_TAGS = {"x86_64": "manylinux_2_17_x86_64", "aarch64": "manylinux_2_28_aarch64", "i686": "manylinux_2_17_i686"}

needs_mirror = pytest.mark.skipif(not os.path.isdir(MIRROR), reason="needs the suite's uv mirror (PYFLEET_UV_MIRROR)")


def real_uv(version: str, dest: str) -> str | None:
    """Path of the real ``uv`` of ``version`` for this machine, unpacked into ``dest``; None if not cached."""
    target = TARGETS.get(platform.machine())
    if not target or not MIRROR:
        return None
    out = os.path.join(dest, version, "uv")
    if os.path.exists(out):
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    archive = os.path.join(MIRROR, "versioned", version, "uv-%s.tar.gz" % target)
    if os.path.exists(archive):
        with tarfile.open(archive) as tar:
            data = tar.extractfile("uv-%s/uv" % target).read()
    else:
        wheels = os.path.join(os.path.dirname(MIRROR.rstrip("/")), "wheels")
        names = sorted(n for n in os.listdir(wheels) if n.startswith("uv-%s-" % version)
                       and WHEEL_TAGS[platform.machine()] in n and "musllinux" not in n) if os.path.isdir(wheels) else []
        if not names:
            return None
        with zipfile.ZipFile(os.path.join(wheels, names[0])) as wheel:
            data = wheel.read("uv-%s.data/scripts/uv" % version)
    with open(out, "wb") as handle:
        handle.write(data)
    os.chmod(out, 0o755)
    return out
