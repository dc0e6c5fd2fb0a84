# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which uv builds run on a host: the shared selection utility.

This file is part of the collection's public contract: ``candidate_targets`` and
``artifact_name`` keep their names and signatures. The rest is documented for the
collection's own modules.

The table below is the whole knowledge about uv's Linux builds. The glibc minimums
are those of the builds themselves (manylinux2014 for most targets, 2.28 for
aarch64 and 2.31 for riscv64), not the glibc of the machine that built the
official installer; see the project README for that story.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
from collections import namedtuple

from ansible_collections.pyfleet.uv.plugins.module_utils.libc import (
    family_from_interpreter,
    parse_elf_interpreter,
    parse_elf_machine,
    read_elf_interpreter,
    read_elf_machine,
    version_tuple,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.tools import get_tool

__all__ = [
    "ARCHES",
    "Arch",
    "artifact_name",
    "build_disagreement",
    "candidate_targets",
    "detect_machine",
    "elf_build",
    "explain_candidates",
    "normalize_arch",
    "supported_machines",
    "target_libc",
    "userland_machine",
]

Arch = namedtuple("Arch", ["name", "gnu", "gnu_min_glibc", "musl"])
"""One CPU architecture: its gnu target with the glibc it needs, and its musl target."""

# One row per architecture uv publishes Linux builds for. ``None`` means uv has no
# such build for that architecture.
ARCHES = {
    "x86_64": Arch("x86_64", "x86_64-unknown-linux-gnu", (2, 17), "x86_64-unknown-linux-musl"),
    # aarch64 builds link against glibc 2.28 (manylinux_2_28), not 2.17.
    "aarch64": Arch("aarch64", "aarch64-unknown-linux-gnu", (2, 28), "aarch64-unknown-linux-musl"),
    "i686": Arch("i686", "i686-unknown-linux-gnu", (2, 17), "i686-unknown-linux-musl"),
    "armv7": Arch("armv7", "armv7-unknown-linux-gnueabihf", (2, 17), "armv7-unknown-linux-musleabihf"),
    # ARMv6 (Raspberry Pi 1/Zero) only has a static musl build.
    "armv6": Arch("armv6", None, None, "arm-unknown-linux-musleabihf"),
    # ppc64le and s390x only have gnu builds: a host with an older glibc has none.
    "ppc64le": Arch("ppc64le", "powerpc64le-unknown-linux-gnu", (2, 17), None),
    "s390x": Arch("s390x", "s390x-unknown-linux-gnu", (2, 17), None),
    # riscv64 gnu builds need glibc 2.31; the musl build exists in recent releases only,
    # which is why availability is always learned from the mirror.
    "riscv64": Arch("riscv64", "riscv64gc-unknown-linux-gnu", (2, 31), "riscv64gc-unknown-linux-musl"),
}

# What `uname -m` prints, mapped to a row of ARCHES. armv8l is a 32-bit ARM userland
# on a 64-bit CPU, so it takes the armv7 builds.
_MACHINE_ALIASES = {
    "x86_64": "x86_64",
    "amd64": "x86_64",
    "aarch64": "aarch64",
    "arm64": "aarch64",
    "i386": "i686",
    "i686": "i686",
    "armv7l": "armv7",
    "armv7": "armv7",
    "armv8l": "armv7",
    "armv6l": "armv6",
    "armv6": "armv6",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}

# Machines that uname may print but no build runs on, with why. uv's (and ruff's and ty's)
# i686 builds are Rust's i686-unknown-linux-* targets, whose baseline is the Pentium 4:
# they use SSE2 instructions, which a 486 or a Pentium (i586: Geode, Vortex86, Quark) lacks,
# so the program dies with SIGILL. ("i386" stays: Linux prints it for any 32-bit x86
# personality, not for an actual 80386.)
_NO_BUILD = {
    "i486": "the i686 builds need SSE2 (a Pentium 4 or newer), which an i486 CPU lacks",
    "i586": "the i686 builds need SSE2 (a Pentium 4 or newer), which an i586 CPU lacks",
}

_LIBC_CHOICES = ("auto", "gnu", "musl")

# A 32-bit userland on a 64-bit kernel: `uname -m` names the kernel's architecture
# (x86_64, aarch64), but every program there, the Python running this module
# included, is a 32-bit ELF file that cannot load a 64-bit gnu build (its loader,
# /lib64/ld-linux-x86-64.so.2, is not there). pypa/packaging decides the same way for
# wheel tags: ``tags._linux_platforms`` asks ``_is_32bit()`` (the interpreter's pointer
# size) and turns linux_x86_64 into linux_i686 and linux_aarch64 into linux_armv8l; we
# read the interpreter's ELF header (EI_CLASS and e_machine) instead, which also says
# which 32-bit architecture it is. Keys: (normalised uname machine, ELF class, e_machine).
_EM_386 = 3
_EM_ARM = 40
_USERLAND_32 = {
    ("x86_64", 32, _EM_386): "i686",
    ("aarch64", 32, _EM_ARM): "armv8l",
}


def supported_machines():
    """The ``uname -m`` values this utility understands, sorted."""
    return sorted(_MACHINE_ALIASES)


def normalize_arch(machine):
    """Map what ``uname -m`` prints to an ``Arch`` row; ``ValueError`` if unsupported."""
    key = (machine or "").strip().lower()
    if key not in _MACHINE_ALIASES:
        why = ": %s" % _NO_BUILD[key] if key in _NO_BUILD else ""
        raise ValueError(
            "unsupported machine %r%s; uv publishes Linux builds for %s"
            % (machine, why, ", ".join(supported_machines()))
        )
    return ARCHES[_MACHINE_ALIASES[key]]


def userland_machine(machine, elf):
    """The machine whose builds run in this userland: ``(machine, corrected)``.

    ``machine`` is what ``uname -m`` prints; ``elf`` is ``(bits, e_machine)`` of the
    running interpreter (see ``libc.parse_elf_machine``) or ``None`` when unknown.
    Returns the ``uname -m`` style name of the userland (``i686`` for a 32-bit i386
    userland on an x86_64 kernel, ``armv8l`` for 32-bit ARM on aarch64) and whether it
    differs from ``machine``. Anything else is left as ``uname`` said it.
    """
    key = _MACHINE_ALIASES.get((machine or "").strip().lower())
    if elf and key:
        userland = _USERLAND_32.get((key, elf[0], elf[1]))
        if userland:
            return userland, True
    return machine, False


def detect_machine(arch=None, uname_machine=None, executable=None, read_elf=read_elf_machine):
    """The machine to choose builds for, and how it was decided: ``(machine, detected_by)``.

    ``arch`` (the user's override) wins (``"option"``). Otherwise ``uname -m``
    (``os.uname()``) is taken (``"uname"``), unless the ELF header of ``executable``
    (default: ``sys.executable``, the Python running the module) shows a 32-bit userland
    on a 64-bit kernel: then the userland's machine is returned
    (``"uname+elf:<executable>"``). Never raises; every input can be handed in.
    """
    if arch:
        return arch, "option"
    machine = uname_machine if uname_machine is not None else os.uname()[4]
    path = sys.executable if executable is None else executable
    elf = read_elf(path) if path else None
    userland, corrected = userland_machine(machine, elf)
    if corrected:
        return userland, "uname+elf:%s" % path
    return machine, "uname"


def artifact_name(target, tool="uv"):
    """The release archive name of a target: ``uv-<target>.tar.gz`` (``<tool>-<target>.tar.gz``)."""
    return get_tool(tool).archive(target)


def target_libc(target):
    """``"gnu"`` or ``"musl"`` for a Linux target triple, ``None`` otherwise."""
    if not target:
        return None
    env = target.rsplit("-", 1)[-1]
    if env.startswith("musl"):
        return "musl"
    if env.startswith("gnu"):
        return "gnu"
    return None


def _glibc_reason(arch, libc_family, libc_version, floor):
    """Say whether the gnu build (needing glibc ``floor``) runs on this libc, and why: ``(ok, reason)``."""
    need = ".".join(str(part) for part in floor)
    if libc_family == "musl":
        return False, "gnu: host libc is musl, gnu builds need glibc >= %s" % need
    if libc_family != "glibc":
        return False, "gnu: host libc unknown, gnu builds need glibc >= %s" % need
    have = version_tuple(libc_version)
    if have is None:
        return False, "gnu: glibc version unknown, gnu builds need glibc >= %s" % need
    if have[:2] >= floor:
        return True, "gnu: glibc %s >= %s" % (libc_version, need)
    return False, "gnu: glibc %s < %s" % (libc_version, need)


def explain_candidates(machine, libc_family, libc_version, libc="auto", tool="uv"):
    """Every target of this machine with a verdict: a list of ``(target, runs, reason)``.

    The targets that run come first, best first; the order is the one
    ``candidate_targets`` returns. ``tool`` (a row of ``tools.TOOLS``) may need another
    glibc than uv for a gnu build (ruff's and ty's aarch64 builds need 2.17). Raises
    ``ValueError`` for an unsupported machine or an unknown ``libc`` override.
    """
    if libc not in _LIBC_CHOICES:
        raise ValueError("libc must be one of %s, got %r" % (", ".join(_LIBC_CHOICES), libc))
    arch = normalize_arch(machine)
    verdicts = []
    if arch.gnu:
        if libc == "gnu":
            verdicts.append((arch.gnu, True, "gnu: chosen by libc=gnu"))
        elif libc == "musl":
            verdicts.append((arch.gnu, False, "gnu: excluded by libc=musl"))
        else:
            floor = get_tool(tool).glibc_floors.get(arch.name, arch.gnu_min_glibc)
            ok, reason = _glibc_reason(arch, libc_family, libc_version, floor)
            verdicts.append((arch.gnu, ok, reason))
    if arch.musl:
        if libc == "gnu":
            verdicts.append((arch.musl, False, "musl: excluded by libc=gnu"))
        elif libc == "musl":
            verdicts.append((arch.musl, True, "musl: chosen by libc=musl"))
        else:
            # The musl builds are fully static: they run on any Linux of this
            # architecture, so they are the fallback, never the first choice on a
            # glibc host that qualifies for the gnu build.
            verdicts.append((arch.musl, True, "musl: static build, runs on any libc"))
    runs = [item for item in verdicts if item[1]]
    rest = [item for item in verdicts if not item[1]]
    return runs + rest


def candidate_targets(machine, libc_family, libc_version, libc="auto", tool="uv"):
    """Every uv target triple that runs on the host, best first (``tool``: ruff's or ty's).

    ``machine`` is what ``uname -m`` prints; ``libc_family`` is ``"glibc"``, ``"musl"``
    or ``None`` (unknown); ``libc_version`` a string or ``None``; ``libc`` the user's
    override (``auto``, ``gnu`` or ``musl``). An unsupported machine raises
    ``ValueError`` naming the supported ones.
    """
    return [target for target, runs, _reason in
            explain_candidates(machine, libc_family, libc_version, libc, tool) if runs]


# What the ELF header of a uv binary says about its build, to check it against the build
# its wheel or archive claims: (EI_CLASS, e_machine) -> (the machine in words, the rows of
# ARCHES built for it). ARMv6 and ARMv7 share EM_ARM (what tells them apart is the ARM
# attributes section, which is not read); a wheel's tags and the test run decide there.
_ELF_MACHINES = {
    (64, 62): ("x86_64", ("x86_64",)),  # EM_X86_64
    (64, 183): ("aarch64", ("aarch64",)),  # EM_AARCH64
    (32, 3): ("i386", ("i686",)),  # EM_386
    (32, 40): ("arm", ("armv7", "armv6")),  # EM_ARM
    (64, 21): ("ppc64", ("ppc64le",)),  # EM_PPC64
    (64, 22): ("s390x", ("s390x",)),  # EM_S390
    (64, 243): ("riscv64", ("riscv64",)),  # EM_RISCV
}


def elf_build(head, path=None):
    """The uv build an ELF file is, read from its first bytes: ``(arches, family, text)``, or ``None``.

    ``arches`` are the rows of ``ARCHES`` built for its machine (none for a machine uv has
    no build for); ``family`` is ``"musl"`` for a static binary (uv's musl builds are fully
    static) or one loaded by musl's ``ld-musl-*``, ``"gnu"`` for glibc's ``ld-linux*``
    (``libc.family_from_interpreter``) and ``None`` for any other loader; ``text`` is the
    reading in words, ``aarch64 (static)`` or ``x86_64 (interpreter
    /lib64/ld-linux-x86-64.so.2)``. ``None`` when ``head`` is not ELF. Without ``path``,
    ``head`` must reach past the interpreter path (64 KiB does, for every uv binary); with
    ``path`` (the file ``head`` was read from) the program headers are read where the ELF
    header says, as ty's BOLT-optimised gnu builds need (their table is at the file's end).
    """
    header = parse_elf_machine(head)
    if header is None:
        return None
    name, arches = _ELF_MACHINES.get(header, ("%d-bit ELF machine %d" % header, ()))
    interpreter = read_elf_interpreter(path) if path else parse_elf_interpreter(head)
    if interpreter is None:
        return arches, "musl", "%s (static)" % name
    family = {"glibc": "gnu", "musl": "musl"}.get(family_from_interpreter(interpreter))
    return arches, family, "%s (interpreter %s)" % (name, interpreter)


def build_disagreement(target, head, path=None):
    """How the ELF file ``head`` contradicts the uv build ``target``, or ``None`` if it agrees.

    ``head`` is the start of a binary that a wheel or archive of ``target`` holds; the
    answer is the ELF reading in words (``elf_build``) when its machine or its libc
    family is not the target's. A file that is not ELF gives ``None``: it has no header to
    read, and running it (``--version``) is the only check left. ``path``: see ``elf_build``.
    """
    reading = elf_build(head, path)
    if reading is None:
        return None
    arches, family, text = reading
    row = next((name for name, arch in ARCHES.items() if target in (arch.gnu, arch.musl)), None)
    if row is None or row not in arches or family != target_libc(target):
        return text
    return None
