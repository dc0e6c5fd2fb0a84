# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which wheels a Linux host takes: its PEP 508 marker environment and its wheel tags, best first.

PRIVATE API: only for this collection's action plugins; never shipped to hosts.
Pure: facts in, data out. ``host_target(facts)`` builds a ``Target`` from what the host
reports (the environment's Python, ``uname -m``, the C library), for CPython on Linux:

- tags in ``packaging.tags``' order: ``cpXY-cpXY``, ``cpXY-abi3``, ``cpXY-none``, older
  ``abi3``, then pure wheels (``py3-none-<platform>``, ``py3-none-any``);
- platforms: with glibc 2.N, ``manylinux_2_N`` down to the oldest of the architecture
  (2.5 on x86_64/i686, 2.17 elsewhere, as packaging's ``_manylinux.py``), each legacy name
  (``manylinux2014`` = 2.17, ``manylinux2010`` = 2.12, ``manylinux1`` = 2.5) right after the
  version it stands for; with musl 1.N, ``musllinux_1_N`` down to ``musllinux_1_0``. So RHEL 8
  (glibc 2.28) takes ``manylinux_2_28`` and refuses ``manylinux_2_34``.
- ``linux_<arch>`` wheels are never taken: an index may not serve them (PEP 513) and they
  promise nothing about the host's libraries.

``unfit_reason`` says, in one line, why none of a package's wheels fits a target.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError

__all__ = ["Target", "TargetError", "host_target", "platform_of", "unfit_reason"]


# The oldest glibc each architecture has manylinux wheels for (packaging's _manylinux.py).
_GLIBC_FLOOR = {"x86_64": 5, "i686": 5}
_LEGACY = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
_LEGACY_ARCHES = {"manylinux2014": ("x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x"),
                  "manylinux2010": ("x86_64", "i686"), "manylinux1": ("x86_64", "i686")}
_LEGACY_VERSIONS = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
# uname -m spellings, as the wheel tags of the same builds spell them.
_MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64", "i686": "i686",
             "i586": "i686", "i386": "i686", "armv7l": "armv7l", "armv8l": "armv7l", "ppc64le": "ppc64le",
             "s390x": "s390x", "riscv64": "riscv64"}
_PLATFORM_RE = re.compile(r"^(?P<kind>manylinux|musllinux)_(?P<major>\d+)_(?P<minor>\d+)_(?P<arch>.+)$")
_LEGACY_RE = re.compile(r"^(?P<kind>manylinux1|manylinux2010|manylinux2014)_(?P<arch>.+)$")


class TargetError(UvError):
    """Host facts that no wheel choice can be made from (unknown libc, another implementation, ...)."""


class Target(object):
    """What one host takes: ``markers`` (a PEP 508 environment) and ``tags`` (wheel tags, best first)."""

    def __init__(self, python_version, machine, libc_family, libc_version, implementation="cpython"):
        self.python_version = python_version
        self.machine = machine
        self.libc_family = libc_family
        self.libc_version = libc_version
        self.implementation = implementation
        self.key = (python_version, machine, libc_family, libc_version, implementation)
        major, minor = [int(part) for part in python_version.split(".")[:2]]
        self.interpreter = "cp%d%d" % (major, minor)
        self.markers = {
            "implementation_name": "cpython", "implementation_version": python_version,
            "os_name": "posix", "platform_machine": machine, "platform_python_implementation": "CPython",
            "platform_release": "", "platform_system": "Linux", "platform_version": "",
            "python_full_version": python_version, "python_version": "%d.%d" % (major, minor),
            "sys_platform": "linux",
        }
        self.platforms = _platforms(machine, libc_family, libc_version)
        # CPython before 3.8 built with pymalloc has the "m" ABI flag (cp37m), as packaging's _cpython_abis says.
        abis = ["%sm" % self.interpreter] if (major, minor) < (3, 8) else [self.interpreter]
        # packaging comes with ansible-core; imported here, as _source.py does, so that importing
        # this file needs nothing (ansible-test's import check has no packaging).
        from packaging.tags import compatible_tags, cpython_tags  # pylint: disable=import-outside-toplevel
        tags = list(cpython_tags((major, minor), abis, self.platforms))
        tags += list(compatible_tags((major, minor), self.interpreter, self.platforms))
        self.tags = tags
        self.rank = {}
        for index, tag in enumerate(tags):
            self.rank.setdefault(tag, index)

    def describe(self):
        return "CPython %s on %s %s %s" % (self.python_version, self.machine, self.libc_family, self.libc_version)

    def __repr__(self):
        return "Target(%s)" % self.describe()


def _platforms(machine, family, version):
    """The Linux platform tags of ``machine`` with ``family`` libc ``version``, best first."""
    try:
        major, minor = [int(part) for part in version.split(".")[:2]]
    except (AttributeError, ValueError):
        raise TargetError("the host's libc version %r is not MAJOR.MINOR[.PATCH]" % (version,))
    platforms = []
    if family == "glibc":
        if major != 2:
            raise TargetError("glibc %s: only glibc 2.x is known" % version)
        for glibc in range(minor, _GLIBC_FLOOR.get(machine, 17) - 1, -1):
            platforms.append("manylinux_2_%d_%s" % (glibc, machine))
            legacy = _LEGACY.get(glibc)
            if legacy and machine in _LEGACY_ARCHES[legacy]:
                platforms.append("%s_%s" % (legacy, machine))
    elif family == "musl":
        platforms.extend("musllinux_%d_%d_%s" % (major, m, machine) for m in range(minor, -1, -1))
    else:
        raise TargetError("the host's libc family %r is not glibc or musl" % (family,))
    return platforms


def host_target(facts):
    """The ``Target`` of a host from what it reports.

    ``facts``: ``python`` (``{"version": "3.11.9", "implementation": "cpython"}``, the Python of
    the environment; or ``python_version``/``python_implementation`` keys), ``arch`` (or
    ``machine``: what ``uname -m`` prints, as ``ansible_facts.uv.arch`` gives it) and ``libc``
    (``{"family": "glibc"|"musl", "version": "2.28"}``, as ``ansible_facts.uv.libc``).
    Raises ``TargetError`` naming what is missing or unsupported.
    """
    python = facts.get("python") or {}
    if not isinstance(python, dict):
        python = {"version": python}
    version = str(python.get("version") or facts.get("python_version") or "")
    implementation = str(python.get("implementation") or facts.get("python_implementation") or "cpython").lower()
    if not re.match(r"^3\.\d+(\.\d+)?", version):
        raise TargetError("the host's Python version %r is not 3.X[.Y]; download_on=controller needs the Python "
                          "of the environment (as uv_facts reports it)" % (version,))
    version = re.match(r"^3\.\d+(\.\d+)?", version).group(0)
    if implementation != "cpython":
        raise TargetError("download_on=controller chooses wheels for CPython only; the host runs %s: "
                          "use download_on=host" % implementation)
    raw = str(facts.get("arch") or facts.get("machine") or "")
    machine = _MACHINES.get(raw.lower())
    if machine is None:
        raise TargetError("the host's architecture %r is not one wheels are chosen for here; known: %s"
                          % (raw, ", ".join(sorted(_MACHINES))))
    libc = facts.get("libc") or {}
    family = libc.get("family") or facts.get("libc_family")
    libc_version = libc.get("version") or facts.get("libc_version")
    if not family or not libc_version:
        raise TargetError("the host's C library is unknown (family %r, version %r): gather ansible_facts.uv with "
                          "uv_facts first, or use download_on=host" % (family, libc_version))
    return Target(version, machine, family, str(libc_version), implementation)


def platform_of(tag):
    """``(kind, arch, glibc or musl minor)`` of a platform tag; ``kind`` ``manylinux``, ``musllinux``,
    ``linux`` (``linux_<arch>``) or ``other`` (another system)."""
    match = _PLATFORM_RE.match(tag)
    if match:
        return match.group("kind"), match.group("arch"), int(match.group("minor"))
    match = _LEGACY_RE.match(tag)
    if match:
        return "manylinux", match.group("arch"), _LEGACY_VERSIONS[match.group("kind")]
    if tag.startswith("linux_"):
        return "linux", tag[len("linux_"):], None
    return "other", None, None


def unfit_reason(wheels, target):
    """Why none of ``wheels`` (``[(file name, tags)]``) fits ``target``: one line, the same for the same case."""
    family = "manylinux" if target.libc_family == "glibc" else "musllinux"
    host_minor = int(target.libc_version.split(".")[1])
    pythons = set((tag.interpreter, tag.abi) for tag in target.tags)
    too_new, other_pythons = [], set()
    for _name, tags in wheels:
        for tag in tags:
            kind, arch, minor = platform_of(tag.platform)
            if tag.platform != "any" and not (kind == family and arch == target.machine):
                continue
            if (tag.interpreter, tag.abi) not in pythons:
                other_pythons.add("%s-%s" % (tag.interpreter, tag.abi))
            elif minor is not None and minor > host_minor:
                too_new.append(minor)
    if too_new:
        return "%s too new: its %s wheels need %s %d.%d or later, the host has %s" % (
            family, target.machine, target.libc_family, 2 if family == "manylinux" else 1, min(too_new),
            target.libc_version)
    if other_pythons:
        return "no wheel for %s (%s): its %s wheels are for %s" % (
            target.describe(), target.interpreter, target.machine, ", ".join(sorted(other_pythons)))
    seen = sorted(set(platform_of(t.platform)[1] or t.platform for _n, tags in wheels for t in tags))
    return "no wheel for %s %s: uv.lock has wheels for %s" % (target.machine, target.libc_family, ", ".join(seen))
