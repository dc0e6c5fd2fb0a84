# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the module_utils tests."""

from __future__ import annotations

import struct
import subprocess


def host_run(argv):
    """What ``_probe.module_runner`` gives the helpers, made from subprocess for tests."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except OSError as exc:
        return None, str(exc)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def elf(bits, machine, interp=None, order="<"):
    """A minimal ELF image: header, one PT_LOAD and, unless static, a PT_INTERP and its path."""
    ehsize, phentsize, phfmt = (64, 56, order + "IIQQQQQQ") if bits == 64 else (52, 32, order + "IIIIIIII")
    phnum = 2 if interp else 1
    data_off = ehsize + phnum * phentsize
    data = (interp.encode() + b"\0") if interp else b""
    ident = b"\x7fELF" + bytes([2 if bits == 64 else 1, 1 if order == "<" else 2, 1]) + b"\0" * 9
    rest = "HHIQQQIHHHHHH" if bits == 64 else "HHIIIIIHHHHHH"
    header = ident + struct.pack(order + rest, 2, machine, 1, 0, ehsize, 0, 0, ehsize, phentsize, phnum, 0, 0, 0)
    if bits == 64:
        phdrs = struct.pack(phfmt, 1, 5, 0, 0, 0, 0, 0, 0)
        if interp:
            phdrs += struct.pack(phfmt, 3, 4, data_off, 0, 0, len(data), len(data), 1)
    else:
        phdrs = struct.pack(phfmt, 1, 0, 0, 0, 0, 0, 5, 0)
        if interp:
            phdrs += struct.pack(phfmt, 3, data_off, 0, 0, len(data), len(data), 4, 1)
    return header + phdrs + data
