# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Wheel tags: which build a tool's wheel holds, from its file name or ``Tag:`` lines.

Pure: no I/O; runs on Python 3.6. uv, ruff and ty publish wheels
``<tool>-<version>-py3-none-<platform tags>.whl`` with the same platform tags for
the same builds (see ``wheel_build``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

__all__ = ["parse_wheel_name", "target_build", "wheel_build"]

# manylinux_2_17_x86_64, musllinux_1_1_aarch64: the architecture follows the third "_".
_PEP600_RE = re.compile(r"^(manylinux|musllinux)_\d+_\d+_(?P<arch>.+)$")
# manylinux1_x86_64, manylinux2010_i686, manylinux2014_aarch64 (the legacy aliases).
_LEGACY_RE = re.compile(r"^manylinux(?:1|2010|2014)_(?P<arch>.+)$")
_WHEEL_RES = {}

# The first word of a uv target triple, mapped to the architecture of wheel tags.
_TARGET_TO_WHEEL_ARCH = {
    "x86_64": "x86_64",
    "aarch64": "aarch64",
    "i686": "i686",
    "armv7": "armv7l",
    "arm": "armv6l",
    "powerpc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64gc": "riscv64",
}


def _wheel_re(project):
    pattern = _WHEEL_RES.get(project)
    if pattern is None:
        pattern = _WHEEL_RES[project] = re.compile(
            r"^%s-(?P<version>[0-9][0-9A-Za-z.!+_]*)-(?:\d[^-]*-)?py3-none-(?P<tags>[A-Za-z0-9_.]+)\.whl$"
            % re.escape(project))
    return pattern


def parse_wheel_name(filename, project="uv"):
    """``(version, [platform tags])`` of a wheel file name of ``project`` (a tool's name), or ``None``.

    ``uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl`` gives
    ``("0.13.9", ["manylinux_2_17_x86_64", "manylinux2014_x86_64"])``.
    """
    match = _wheel_re(project).match(filename or "")
    if not match:
        return None
    return match.group("version"), match.group("tags").split(".")


def wheel_build(tags):
    """Which build a wheel holds, from its platform tags: ``(arch, "gnu"|"musl")`` or ``None``.

    uv's wheels for musl carry a ``musllinux_*`` tag (some also carry manylinux tags,
    because the static build runs on glibc too) and the ARMv6 wheel is
    ``linux_armv6l``; those hold the static musl build. A wheel with only
    ``manylinux_*`` tags holds the gnu build. Wheels for other systems give ``None``.
    ruff's and ty's musl wheels (``musllinux_1_2_*``) follow the same rule.
    """
    arches = set()
    musl = gnu = False
    for tag in tags:
        match = _PEP600_RE.match(tag) or _LEGACY_RE.match(tag)
        if match:
            arches.add(match.group("arch"))
            if tag.startswith("musllinux"):
                musl = True
            else:
                gnu = True
        elif tag == "linux_armv6l":
            arches.add("armv6l")
            musl = True
        else:
            return None
    if len(arches) != 1 or not (musl or gnu):
        return None
    return arches.pop(), "musl" if musl else "gnu"


def target_build(target):
    """The ``(wheel arch, family)`` a uv target triple corresponds to, or ``None``."""
    arch = _TARGET_TO_WHEEL_ARCH.get(target.split("-", 1)[0])
    if arch is None:
        return None
    return arch, "musl" if "-musl" in target else "gnu"
