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

__all__ = ["expand_tag_set", "parse_wheel_name", "target_build", "wheel_build", "wheel_metadata_platforms"]

# manylinux_2_17_x86_64, musllinux_1_1_aarch64: the architecture follows the third "_".
_PEP600_RE = re.compile(r"^(manylinux|musllinux)_\d+_\d+_(?P<arch>.+)$")
# manylinux1_x86_64, manylinux2010_i686, manylinux2014_aarch64 (the legacy aliases).
_LEGACY_RE = re.compile(r"^manylinux(?:1|2010|2014)_(?P<arch>.+)$")
_WHEEL_RES = {}
# uv's, ruff's and ty's wheels hold a program, not an extension module: their tags are py3-none-<platform>.
_PY3_RE = re.compile(r"^py3\d*$")

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
    """``<project>-<version>[-<build tag>]-<python tag>-<abi tag>-<platform tag>.whl``; each tag
    part may be a compressed set (see ``expand_tag_set``)."""
    pattern = _WHEEL_RES.get(project)
    if pattern is None:
        pattern = _WHEEL_RES[project] = re.compile(
            r"^%s-(?P<version>[0-9][0-9A-Za-z.!+_]*)-(?:\d[^-]*-)?"
            r"(?P<tags>[A-Za-z0-9_.]+-[A-Za-z0-9_.]+-[A-Za-z0-9_.]+)\.whl$" % re.escape(project))
    return pattern


def expand_tag_set(tag_set):
    """Every ``(interpreter, abi, platform)`` tag a compressed tag set stands for, lower case.

    The binary distribution format (PEP 425, PEP 427) lets a wheel's file name and each
    ``Tag:`` line of its ``.dist-info/WHEEL`` compress several tags into one: each of the
    three parts may list alternatives joined by dots, and the set is every combination.
    ``py2.py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64`` is four tags. uv's wheels
    built by maturin 1.9 and older (uv 0.8 and older, 0.5.11 among them) write one
    compressed ``Tag:`` line; later ones write one tag per line (recorded in the unit
    tests' fixtures/wheels). This is what ``packaging.tags.parse_tag`` does, in the
    order the parts are written and without duplicates. Anything that is not three
    non-empty dash-separated parts gives ``[]``.
    """
    parts = (tag_set or "").strip().lower().split("-")
    if len(parts) != 3:
        return []
    alternatives = [part.split(".") for part in parts]
    if any(not name for names in alternatives for name in names):
        return []
    tags = []
    for interpreter in alternatives[0]:
        for abi in alternatives[1]:
            for platform in alternatives[2]:
                tag = (interpreter, abi, platform)
                if tag not in tags:
                    tags.append(tag)
    return tags


def _py3_platforms(tags):
    """The platforms of the ``py3-none-<platform>`` tags among ``(interpreter, abi, platform)`` tags."""
    platforms = []
    for interpreter, abi, platform in tags:
        if _PY3_RE.match(interpreter) and abi == "none" and platform not in platforms:
            platforms.append(platform)
    return platforms


def parse_wheel_name(filename, project="uv"):
    """``(version, [platform tags])`` of a wheel file name of ``project`` (a tool's name), or ``None``.

    ``uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl`` gives
    ``("0.13.9", ["manylinux_2_17_x86_64", "manylinux2014_x86_64"])``. The tag set is
    expanded as ``expand_tag_set`` says; only ``py3-none`` tags count (the tools' wheels carry
    nothing else), and a name with none of them gives ``None``.
    """
    match = _wheel_re(project).match(filename or "")
    if not match:
        return None
    platforms = _py3_platforms(expand_tag_set(match.group("tags")))
    if not platforms:
        return None
    return match.group("version"), platforms


def wheel_metadata_platforms(text):
    """The platform tags declared by the ``Tag:`` lines of a wheel's ``.dist-info/WHEEL`` text.

    Each line may hold a compressed tag set (``expand_tag_set``); only ``py3-none`` tags
    count, as in ``parse_wheel_name``. Returns ``[]`` when there are none.
    """
    tags = []
    for line in (text or "").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "tag":
            tags.extend(expand_tag_set(value))
    return _py3_platforms(tags)


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
