# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What is installed of a tool (uv, ruff, ty) on this host: version output, receipt, PATH lookup.

PRIVATE API: only for this collection's modules; names may change without notice.
This file only reads: it never writes, downloads or deletes anything.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat

# The version parser, PATH lookup and missing_dirs live in _probe (a leaf that modules running uv
# import without this file's ELF and target code); imported here under their old names.
from ansible_collections.pyfleet.uv.plugins.module_utils._probe import (
    find_binary,
    find_uv,
    missing_dirs,
    parse_uv_version,
    parse_version,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.targets import elf_build, normalize_arch
from ansible_collections.pyfleet.uv.plugins.module_utils.tools import UV, get_tool

__all__ = [
    "BINARIES",
    "RECEIPT_NAME",
    "binary_stats",
    "missing_dirs",
    "check_drift",
    "elf_target",
    "find_binary",
    "find_uv",
    "install_dir_trust",
    "installed_state",
    "load_receipt",
    "parse_uv_version",
    "parse_version",
    "read_receipt",
    "run_version",
]

BINARIES = UV.binaries
# The receipt this collection writes beside uv's binaries (see the uv_install docs);
# each tool has its own (``tools.Tool.receipt``), so that tools can share a directory.
# Schema 2 added ``source`` and ``binaries`` (each file's size); schema 1 receipts
# are still read, their files are just not compared by size.
RECEIPT_NAME = UV.receipt
RECEIPT_SCHEMA = 2
_READABLE_SCHEMAS = (1, 2)


def run_version(path, run):
    """Run ``<path> --version`` through ``run``: ``(rc, text)``, rc ``None`` if it could not start."""
    return run([path, "--version"])


def load_receipt(install_dir, tool=UV):
    """The receipt of ``install_dir``: ``(data, problem)``.

    ``data`` is the receipt as a dict, or ``None`` when there is none or it cannot be
    used; ``problem`` then says why (``None`` when the file is simply absent).
    """
    path = os.path.join(install_dir, get_tool(tool).receipt)
    try:
        with open(path, "r") as handle:
            data = json.load(handle)
    except (IOError, OSError) as exc:
        if not os.path.lexists(path):
            return None, None
        return None, "the receipt %s cannot be read (%s)" % (path, exc.strerror or exc)
    except ValueError as exc:
        return None, "the receipt %s is not valid JSON (%s)" % (path, exc)
    if not isinstance(data, dict) or data.get("schema") not in _READABLE_SCHEMAS:
        return None, "the receipt %s is not one this collection writes (schema %r)" % (
            path, data.get("schema") if isinstance(data, dict) else None)
    return data, None


def read_receipt(install_dir, tool=UV):
    """The receipt of ``install_dir`` as a dict, or ``None`` if absent or unreadable."""
    return load_receipt(install_dir, tool)[0]


def binary_stats(install_dir, tool=UV):
    """``{"uv": {"size": N}, "uvx": {...}}`` of the installed files, for the receipt."""
    return dict((name, {"size": os.stat(os.path.join(install_dir, name)).st_size})
                for name in get_tool(tool).binaries)


def check_drift(install_dir, receipt, tool=UV):
    """Why ``tool``'s binaries in ``install_dir`` are not a healthy install, or ``None``.

    Costs one ``stat`` call a binary (two for uv and uvx): each file must exist, be
    regular, non-empty and executable, and, when the receipt recorded their sizes, have
    those sizes.
    """
    recorded = (receipt or {}).get("binaries") or {}
    for name in get_tool(tool).binaries:
        path = os.path.join(install_dir, name)
        try:
            info = os.stat(path)
        except (IOError, OSError):
            return "%s is missing from %s" % (name, install_dir)
        if not stat.S_ISREG(info.st_mode):
            return "%s is not a regular file" % path
        if info.st_size == 0:
            return "%s is empty" % path
        if not info.st_mode & 0o111:
            return "%s is not executable" % path
        want = (recorded.get(name) or {}).get("size") if isinstance(recorded, dict) else None
        if isinstance(want, int) and want != info.st_size:
            return "%s is %d bytes, the receipt recorded %d" % (path, info.st_size, want)
    return None


def elf_target(path, machine):
    """The target triple of the binary at ``path``, from how it is linked, or ``None``.

    A static binary (no ``PT_INTERP``) is the musl build (uv's, ruff's and ty's musl
    builds are all static); one whose interpreter is glibc's ``ld-linux*`` is the gnu
    build (``targets.elf_build``). Used for builds that do not print their target (uv
    before 0.10.12, every ruff and ty) and have no receipt.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536)
        arch = normalize_arch(machine)
    except (IOError, OSError, ValueError):
        return None
    reading = elf_build(head, path)
    family = reading[1] if reading else None
    if family == "gnu":
        return arch.gnu
    if family == "musl":
        return arch.musl
    return None


def installed_state(path, run, machine=None, tool=UV):
    """``{path, version, target}`` of ``tool``'s binary at ``path`` as it reports itself, or ``None``.

    When the binary does not print its target (builds before 0.10.12), the receipt
    beside it supplies it, provided the receipt describes the same version; failing
    that, how the binary is linked (``elf_target``, when ``machine`` is given).
    """
    if not path or not os.path.isfile(path):
        return None
    rc, text = run_version(path, run)
    tool = get_tool(tool)
    parsed = parse_version(text, tool) if rc == 0 else None
    if not parsed or parsed["name"] != tool.name:
        return None
    target = parsed["target"]
    if target is None:
        receipt = read_receipt(os.path.dirname(path), tool)
        if receipt and receipt.get("version") == parsed["version"]:
            target = receipt.get("target")
    if target is None and machine:
        target = elf_target(path, machine)
    return {"path": path, "version": parsed["version"], "target": target}


def _owner_name(uid):
    try:
        import pwd  # pylint: disable=import-outside-toplevel
        return "%d (%s)" % (uid, pwd.getpwuid(uid).pw_name)
    except (ImportError, KeyError):
        return str(uid)


def _group_name(gid):
    try:
        import grp  # pylint: disable=import-outside-toplevel
        return "%d (%s)" % (gid, grp.getgrgid(gid).gr_name)
    except (ImportError, KeyError):
        return str(gid)


def install_dir_trust(install_dir, tool=UV, euid=None):
    """Who besides root (or this user) could put a binary in ``install_dir`` that this module runs.

    The module runs ``install_dir/<tool> --version`` (as root, under ``become``) before it
    decides anything. Returns ``(refusal, warnings)``: ``refusal`` (a message, or ``None``)
    when ``install_dir``, one of its parents or one of the tool's binaries there is owned
    by another user than root and this one, or writable by every user (a parent with the
    sticky bit, such as ``/tmp``, is fine: nobody else can rename what is in it);
    ``warnings`` for one writable by a group other than root's (Debian's ``staff`` on
    ``/usr/local``, on request). Folders that do not exist yet are not judged: they are
    created 0755 by this user. Reads only ``stat``.
    """
    euid = os.geteuid() if euid is None else euid
    trusted = (0, euid)
    tool = get_tool(tool)
    paths = []

    def chain(folder):
        """``folder`` and its parents, top first, each with whether it is ``folder`` itself."""
        found, head = [], folder
        while True:
            found.append((head, head == folder))
            parent = os.path.dirname(head)
            if parent == head:
                return found[::-1]
            head = parent

    # Both the path as given and where its links lead: a link must not hide a folder that
    # another user owns (os.stat follows links, so only the real chain shows that folder).
    paths.extend(chain(os.path.abspath(install_dir)))
    real = os.path.realpath(install_dir)
    if real != os.path.abspath(install_dir):
        paths.extend(item for item in chain(real) if item not in paths)
    for name in tool.binaries:
        binary = os.path.join(install_dir, name)
        paths.append((binary, True))
        if os.path.islink(binary):
            target = os.path.realpath(binary)
            paths.extend(item for item in chain(os.path.dirname(target)) if item not in paths)
            paths.append((target, True))
    warnings = []
    fix = ("; fix it (chown root and chmod go-w %s) or choose another install_dir" % install_dir)
    for path, own in paths:
        try:
            info = os.stat(path)
        except (IOError, OSError):
            continue
        if info.st_uid not in trusted:
            return ("%s is owned by uid %s, not by root or this user: that user could replace the %s this module "
                    "runs%s" % (path, _owner_name(info.st_uid), tool.name, fix)), warnings
        sticky = stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX and not own
        if info.st_mode & stat.S_IWOTH and not sticky:
            return ("%s is writable by every user (mode %04o): anyone could put a %s there that this module runs"
                    "%s" % (path, stat.S_IMODE(info.st_mode), tool.name, fix)), warnings
        if info.st_mode & stat.S_IWGRP and info.st_gid != 0 and not sticky:
            warnings.append("%s is writable by group %s (mode %04o): its members could replace the %s this module "
                            "runs; chmod g-w %s if they should not" % (
                                path, _group_name(info.st_gid), stat.S_IMODE(info.st_mode), tool.name, path))
    return None, warnings
