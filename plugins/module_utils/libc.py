# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Libc facts of the host a module runs on.

This file is part of the collection's public contract: ``parse_ldd_version`` keeps
its name and signature. The other names are documented for the collection's own
modules; they are not a stable API for third parties.

Layout follows pypa/packaging's ``_manylinux``/``_musllinux``: pure parsers that
take text or bytes, and tiny probes that run one command or read one file and never
raise. ``detect_libc`` combines the probes, in order of trust, into one
``LibcFacts`` value with fixed keys.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import struct
from collections import namedtuple

__all__ = [
    "LibcFacts",
    "UNKNOWN",
    "detect_libc",
    "family_from_interpreter",
    "parse_confstr",
    "parse_elf_interpreter",
    "parse_elf_machine",
    "parse_ldd_version",
    "read_elf_interpreter",
    "read_elf_machine",
    "version_tuple",
]

LibcFacts = namedtuple("LibcFacts", ["family", "version", "detected_by"])
"""What is known about the host's C library.

``family`` is ``"glibc"``, ``"musl"`` or ``None`` (unknown); ``version`` a string as the
library printed it, or ``None``; ``detected_by`` names the probes that decided it.
"""

UNKNOWN = LibcFacts(None, None, "none")

# The version as printed: MAJOR.MINOR or MAJOR.MINOR.PATCH (development builds of
# glibc print a third part, for instance 2.39.9000).
_VERSION = r"(\d+\.\d+(?:\.\d+)?)"

# glibc's ldd prints "ldd (<vendor decoration>) <version>" on its first line, e.g.
# "ldd (GNU libc) 2.17" (RHEL 7), "ldd (Ubuntu GLIBC 2.31-0ubuntu9.16) 2.31",
# "ldd (Gentoo 2.38-r10 (patchset 9)) 2.38". Only the trailing version counts.
_GLIBC_LDD_RE = re.compile(r"^\s*ldd\s+\(.*\)\s+" + _VERSION + r"\s*$")

# musl's ldd is its dynamic loader; run with --version (or without arguments) it
# writes "musl libc (x86_64)\nVersion 1.2.4\nDynamic Program Loader\n..." to stderr
# and exits 1.
_MUSL_NAME_RE = re.compile(r"^\s*musl libc\b", re.MULTILINE)
_MUSL_VERSION_RE = re.compile(r"^\s*Version\s+" + _VERSION + r"\s*$", re.MULTILINE)

# os.confstr("CS_GNU_LIBC_VERSION") and `getconf GNU_LIBC_VERSION` both print
# "glibc 2.28".
_CONFSTR_RE = re.compile(r"^\s*glibc\s+" + _VERSION + r"\s*$")


def parse_ldd_version(text):
    """Parse the whole output of ``ldd --version`` (stdout and stderr together).

    Returns ``(family, version)`` with family ``"glibc"`` or ``"musl"`` and the version
    string as printed, or ``None`` when the text is not recognised.
    """
    if not text:
        return None
    if _MUSL_NAME_RE.search(text):
        match = _MUSL_VERSION_RE.search(text)
        if match:
            return ("musl", match.group(1))
        return None
    for line in text.splitlines():
        if not line.strip():
            continue
        # glibc puts the version on the first non-empty line; anything else is
        # not an ldd we know.
        match = _GLIBC_LDD_RE.match(line)
        if match:
            return ("glibc", match.group(1))
        return None
    return None


def parse_confstr(text):
    """Parse ``"glibc 2.28"`` as printed by confstr or getconf; ``None`` otherwise."""
    if not text:
        return None
    match = _CONFSTR_RE.match(text.strip())
    if match:
        return ("glibc", match.group(1))
    return None


def version_tuple(version):
    """Turn ``"2.28"`` into ``(2, 28)``; ``None`` for anything that is not numeric."""
    if not version:
        return None
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return None


# ELF constants, from the System V ABI and <elf.h>.
_ELF_MAGIC = b"\x7fELF"
_PT_INTERP = 3


def parse_elf_interpreter(data):
    """Return the ``PT_INTERP`` path of an ELF image given as bytes, or ``None``.

    Handles 32- and 64-bit files in both byte orders. ``data`` may be only the start
    of the file; if the interpreter string lies beyond it, the result is ``None``.
    """
    return _elf_interpreter(lambda offset, size: data[offset:offset + size])


def _elf_interpreter(read):
    """The ``PT_INTERP`` path of an ELF file whose bytes ``read(offset, size)`` returns, or ``None``.

    ``read`` may return fewer bytes than asked (past the end of what it has): the answer
    is then ``None``. The program header table is found through ``e_phoff``, wherever it
    is: BOLT-optimised binaries (ty's gnu builds) keep it at the end of the file, tens of
    megabytes in.
    """
    data = read(0, 64)
    if len(data) < 52 or data[:4] != _ELF_MAGIC:
        return None
    ei_class = data[4:5]
    ei_data = data[5:6]
    if ei_data == b"\x01":
        order = "<"
    elif ei_data == b"\x02":
        order = ">"
    else:
        return None
    try:
        if ei_class == b"\x01":
            # Elf32_Ehdr: e_phoff at 28 (4 bytes), e_phentsize/e_phnum at 42/44.
            (e_phoff,) = struct.unpack_from(order + "I", data, 28)
            e_phentsize, e_phnum = struct.unpack_from(order + "HH", data, 42)
            ph_format = order + "IIIIIIII"  # p_type, p_offset, p_vaddr, p_paddr, p_filesz, ...
            type_index, offset_index, size_index = 0, 1, 4
        elif ei_class == b"\x02":
            if len(data) < 64:
                return None
            # Elf64_Ehdr: e_phoff at 32 (8 bytes), e_phentsize/e_phnum at 54/56.
            (e_phoff,) = struct.unpack_from(order + "Q", data, 32)
            e_phentsize, e_phnum = struct.unpack_from(order + "HH", data, 54)
            ph_format = order + "IIQQQQQQ"  # p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, ...
            type_index, offset_index, size_index = 0, 2, 5
        else:
            return None
        entry = struct.calcsize(ph_format)
        if e_phentsize < entry:
            return None
        for index in range(e_phnum):
            raw_entry = read(e_phoff + index * e_phentsize, entry)
            if len(raw_entry) < entry:
                return None
            fields = struct.unpack_from(ph_format, raw_entry, 0)
            if fields[type_index] != _PT_INTERP:
                continue
            offset, size = fields[offset_index], fields[size_index]
            if size == 0 or size > 4096:
                return None
            raw = read(offset, size)
            if len(raw) < size:
                return None
            raw = raw.split(b"\x00", 1)[0]
            try:
                return raw.decode("ascii") or None
            except UnicodeDecodeError:
                return None
    except struct.error:
        return None
    return None


def parse_elf_machine(data):
    """Return ``(bits, e_machine)`` of an ELF image's header given as bytes, or ``None``.

    ``bits`` is 32 or 64 (``EI_CLASS``), ``e_machine`` the ELF machine number
    (``EM_386`` is 3, ``EM_ARM`` 40, ``EM_X86_64`` 62, ``EM_AARCH64`` 183). Only the
    first 20 bytes are needed; the field sits at the same offset in both classes.
    """
    if len(data) < 20 or data[:4] != _ELF_MAGIC:
        return None
    bits = {b"\x01": 32, b"\x02": 64}.get(data[4:5])
    order = {b"\x01": "<", b"\x02": ">"}.get(data[5:6])
    if bits is None or order is None:
        return None
    (machine,) = struct.unpack_from(order + "H", data, 18)
    return (bits, machine)


def read_elf_machine(path):
    """Read ``(bits, e_machine)`` of the ELF file at ``path``; ``None`` on any problem."""
    try:
        with open(path, "rb") as handle:
            return parse_elf_machine(handle.read(64))
    except (IOError, OSError, TypeError):
        return None


def family_from_interpreter(interpreter):
    """Name the libc family that owns an ELF interpreter path, or ``None``.

    musl's loader is ``/lib/ld-musl-<arch>.so.1``; glibc's are ``ld-linux*.so.*``,
    ``ld64.so.*`` (ppc64le, s390x) and ``ld.so.1`` (some 32-bit ports).
    """
    if not interpreter:
        return None
    name = os.path.basename(interpreter)
    if name.startswith("ld-musl-"):
        return "musl"
    if name.startswith("ld-linux") or name.startswith("ld64.so") or name.startswith("ld.so"):
        return "glibc"
    return None


def read_elf_interpreter(path, limit=65536):
    """Read the ``PT_INTERP`` of the ELF file at ``path``; ``None`` on any problem.

    The program header table is read where ``e_phoff`` says, even past the first ``limit``
    bytes (see ``_elf_interpreter``); no single read is larger than ``limit``.
    """
    try:
        with open(path, "rb") as handle:
            def read(offset, size):
                if size > limit:
                    return b""
                handle.seek(offset)
                return handle.read(size)
            return _elf_interpreter(read)
    except (IOError, OSError, OverflowError, ValueError):
        return None


def probe_confstr():
    """glibc version of the running Python via ``os.confstr``; ``None`` if not glibc."""
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        return None
    return parse_confstr(value)


def _text(run, argv):
    """The output of ``argv`` through ``run``, or ``""`` if it could not start."""
    try:
        rc, text = run(argv)
    except Exception:  # pylint: disable=broad-except
        return ""
    return text if rc is not None and text else ""


def probe_ldd(run):
    """``ldd --version``; ``None`` when ldd is missing or says something unknown.

    ``run(argv)`` returns ``(rc, stdout and stderr joined)``, ``rc`` ``None`` when the
    program could not start. musl's ldd exits 1 after printing its version, so the
    exit status is not looked at.
    """
    return parse_ldd_version(_text(run, ["ldd", "--version"]))


def probe_getconf(run):
    """``getconf GNU_LIBC_VERSION``; ``None`` when getconf is missing or not glibc."""
    return parse_confstr(_text(run, ["getconf", "GNU_LIBC_VERSION"]).strip())


def probe_musl_loader(loader, run):
    """Run the musl loader itself; it prints its version like musl's ldd does."""
    parsed = parse_ldd_version(_text(run, [loader]))
    if parsed and parsed[0] == "musl":
        return parsed
    return None


def detect_libc(run, shell="/bin/sh", confstr=probe_confstr, read_interp=read_elf_interpreter):
    """Find out the host's libc, trying the most trustworthy probes first.

    1. ``os.confstr("CS_GNU_LIBC_VERSION")``: answers for a glibc-linked Python.
    2. The ELF interpreter of ``shell``: tells glibc from musl without any tool; for
       musl the loader itself is run to learn its version.
    3. ``ldd --version``, then ``getconf GNU_LIBC_VERSION``.

    ``run(argv) -> (rc, text)`` runs the commands (see ``_probe.module_runner``).

    A host where ``ldd`` is missing is never taken for musl just for that: the family
    stays unknown unless a probe positively says what it is. Never raises.
    """
    parsed = confstr()
    if parsed:
        return LibcFacts(parsed[0], parsed[1], "confstr")

    interpreter = read_interp(shell)
    family = family_from_interpreter(interpreter)
    elf_by = "elf:%s" % shell
    if family == "musl":
        parsed = probe_musl_loader(interpreter, run=run)
        if parsed:
            return LibcFacts("musl", parsed[1], elf_by + "+loader")
        parsed = probe_ldd(run=run)
        if parsed and parsed[0] == "musl":
            return LibcFacts("musl", parsed[1], elf_by + "+ldd")
        return LibcFacts("musl", None, elf_by)

    parsed = probe_ldd(run=run)
    if parsed and (family is None or parsed[0] == family):
        by = "ldd" if family is None else elf_by + "+ldd"
        return LibcFacts(parsed[0], parsed[1], by)

    parsed = probe_getconf(run=run)
    if parsed:
        by = "getconf" if family is None else elf_by + "+getconf"
        return LibcFacts(parsed[0], parsed[1], by)

    if family:
        return LibcFacts(family, None, elf_by)
    return UNKNOWN
