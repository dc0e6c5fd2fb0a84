# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Stage, check, swap and remove a tool's binaries (uv and uvx, ruff, ty) in an install directory.

PRIVATE API: only for this collection's modules; names may change without notice.
This file writes to the install directory only; it never touches the network.
Every write goes to a staging directory inside the install directory first (same
filesystem, so renames are atomic, and not /tmp, which may be mounted noexec).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import shutil
import tempfile

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import DiskFullError, InstallError
# The install directory itself (lock, creation, writability) lives in _install_dir, a leaf that
# uv_python takes without the staging code below; imported here under the old names.
from ansible_collections.pyfleet.uv.plugins.module_utils.install._install_dir import (
    DirLock,
    ensure_install_dir,
    make_dirs,
    os_reason,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.install._install_dir import dir_error as _dir_error
from ansible_collections.pyfleet.uv.plugins.module_utils.install._installed import (
    BINARIES,
    RECEIPT_SCHEMA,
    parse_version,
    run_version,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.tools import UV, get_tool
from ansible_collections.pyfleet.uv.plugins.module_utils.targets import build_disagreement

__all__ = [
    "BINARIES",
    "STAGING_PREFIX",
    "DirLock",
    "copy_hashed",
    "ensure_install_dir",
    "has_staging_debris",
    "install_staged",
    "make_dirs",
    "make_staging_dir",
    "os_reason",
    "remove_install",
    "remove_stale_staging",
    "staged_build_problem",
    "verify_staged",
    "write_receipt",
]

STAGING_PREFIX = UV.staging_prefix  # each tool has its own: tools.Tool.staging_prefix


def make_staging_dir(install_dir, needed_bytes=None, tool=UV):
    """A fresh private staging directory of ``tool`` inside ``install_dir``."""
    try:
        return tempfile.mkdtemp(prefix=get_tool(tool).staging_prefix, dir=install_dir)
    except (IOError, OSError) as exc:
        raise _dir_error(exc, install_dir, "cannot write to install_dir %s" % install_dir, needed_bytes)


def copy_hashed(source, dest, install_dir, chunk=1024 * 1024):
    """Copy the file ``source`` to the new file ``dest`` (in a staging folder), returning its sha256.

    One read of ``source``: the bytes hashed are the bytes copied, so a file swapped or
    changed after the hash cannot reach what is unpacked. ``install_dir`` names the
    directory in a full-disk message.
    """
    digest = hashlib.sha256()
    try:
        reader = open(source, "rb")
    except (IOError, OSError) as exc:
        raise InstallError("cannot read src %s: %s" % (source, os_reason(exc)))
    with reader:
        try:
            with open(dest, "wb") as writer:
                while True:
                    try:
                        data = reader.read(chunk)
                    except (IOError, OSError) as exc:
                        raise InstallError("cannot read src %s: %s" % (source, os_reason(exc)))
                    if not data:
                        break
                    digest.update(data)
                    writer.write(data)
        except (IOError, OSError) as exc:
            raise _dir_error(exc, install_dir, "cannot copy src %s into %s" % (source, install_dir),
                             os.fstat(reader.fileno()).st_size)
    return digest.hexdigest()


def remove_stale_staging(install_dir, tool=UV):
    """Remove ``tool``'s staging folders left by a run that was killed; call only under the lock."""
    prefix = get_tool(tool).staging_prefix
    removed = []
    try:
        names = os.listdir(install_dir)
    except (IOError, OSError):
        return removed
    for name in names:
        if name.startswith(prefix):
            shutil.rmtree(os.path.join(install_dir, name), ignore_errors=True)
            removed.append(name)
    return removed


# How each kind of file names the build it holds, for the messages of staged_build_problem.
_CLAIMS = {"wheel": "the wheel's tags say", "tar.gz": "the archive says"}
# Enough of a binary for its ELF header, program headers and interpreter path.
_ELF_HEAD = 65536


def staged_build_problem(staged, target, fmt=None, tool=UV):
    """Why the staged binaries of ``tool`` are not ``target``'s build by their ELF headers, or ``None``.

    The build a wheel's tags or an archive's folder name claim is one witness; the
    binaries themselves are another (their machine, and how they are linked: static for
    musl, glibc's loader for gnu; see ``targets.build_disagreement``). Both must agree
    before anything is run: under a binfmt emulator even another architecture's build
    would start. ``fmt`` (``"wheel"`` or ``"tar.gz"``) words the message.
    """
    for name in get_tool(tool).binaries:
        try:
            with open(staged[name], "rb") as handle:
                head = handle.read(_ELF_HEAD)
        except (IOError, OSError) as exc:
            return "cannot read the staged %s: %s" % (name, exc.strerror or exc)
        reading = build_disagreement(target, head, staged[name])
        if reading is not None:
            return "%s %s, the %s inside it is %s; refused: it is not the build it claims to be" % (
                _CLAIMS.get(fmt, "the file says"), target, name, reading)
    return None


def verify_staged(staged, want_version, run, want_target=None, fmt=None, tool=UV):
    """Check the staged build (``staged_build_problem``), then run the staged ``<tool.check> --version``:
    ``uvx`` for uv (it starts both staged binaries), ``ruff``, ``ty``.

    uvx is a launcher: it runs ``uv tool uvx`` with the ``uv`` beside it (never one from
    ``PATH``), so one run shows that both start on this host, and the version and target
    it prints are that uv's. Only when it fails are the other binaries run as well
    (``uv --version``), to tell which one does not run and why.

    Returns ``(ok, version_or_reason)``: on success the version the new build reports;
    otherwise why it cannot be used on this host (for example the loader's
    ``GLIBC_2.34 not found``), that it is not the build its file claims, or that it is
    not the wanted version.
    """
    tool = get_tool(tool)
    if want_target:
        problem = staged_build_problem(staged, want_target, fmt, tool)
        if problem is not None:
            return False, problem
    rc, text = run_version(staged[tool.check], run)
    parsed = parse_version(text, tool) if rc == 0 else None
    if parsed is None:
        for name in tool.binaries:
            if name == tool.check:
                continue
            other_rc, other_text = run_version(staged[name], run)
            if other_rc != 0 or parse_version(other_text, tool) is None:
                return False, _not_running(name, other_rc, other_text, tool)
        return False, _not_running(tool.check, rc, text, tool)
    if want_version not in (None, "latest") and parsed["version"] != want_version:
        return False, "%s reports version %s, not %s: the mirror serves the wrong archive" % (
            tool.name, parsed["version"], want_version)
    if want_target and parsed["target"] and parsed["target"] != want_target:
        return False, "%s is the %s build, not %s: the file holds the wrong build" % (
            tool.name, parsed["target"], want_target)
    return True, parsed["version"]


def _not_running(name, rc, text, tool=UV):
    detail = " ".join(text.split())[:400] if text else "no output"
    if rc == 0:
        return "%s --version printed no %s version: %s" % (name, tool.name, detail)
    if rc is None:
        return "%s does not run here (it cannot be started: is its loader missing?): %s" % (name, detail)
    return "%s does not run here (exit %s): %s" % (name, rc, detail)


def _backup(path, staging_dir):
    """Keep the current ``path`` in the staging folder (a hard link, or a copy), or ``None`` if absent."""
    if not os.path.lexists(path):
        return None
    backup = os.path.join(staging_dir, ".previous-" + os.path.basename(path))
    try:
        os.link(path, backup)
    except OSError:
        # No hard link here (an immutable file, protected_hardlinks, a file system
        # without links): a copy keeps the bytes and the mode, all a rollback needs.
        try:
            shutil.copy2(path, backup, follow_symlinks=False)
        except (IOError, OSError) as exc:
            raise _dir_error(exc, os.path.dirname(path), "cannot keep a copy of %s before replacing it" % path,
                             os.path.getsize(path))
    return backup


def _put_back(moved):
    """Undo the renames in ``moved`` (``[(dest, backup or None)]``), newest first; returns failures."""
    failures = []
    for dest, backup in reversed(moved):
        try:
            if backup is None:
                os.unlink(dest)
            else:
                os.rename(backup, dest)
        except OSError as exc:
            failures.append("putting back %s failed: %s" % (dest, os_reason(exc)))
    return failures


def _write_receipt_temp(staging_dir, data, install_dir, tool=UV):
    record = dict(data)
    record["schema"] = RECEIPT_SCHEMA
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    temp = os.path.join(staging_dir, get_tool(tool).receipt)
    try:
        with open(temp, "w") as handle:
            handle.write(text)
        os.chmod(temp, 0o644)
    except (IOError, OSError) as exc:
        raise _dir_error(exc, install_dir, "cannot write the receipt in %s" % staging_dir, len(text))
    return temp


def install_staged(staged, install_dir, receipt=None, tool=UV):
    """Put ``tool``'s staged binaries (mode 0755) into ``install_dir``: all, or none.

    The staged files are in a staging folder inside ``install_dir``, so each step is a
    ``rename`` on one file system. The tool's own binary goes last (for uv: ``uvx``
    first, ``uv`` last; ``uv --version`` is what the next run reads). Before a file is replaced, the old one is kept in the
    staging folder (a hard link); if a later step fails (an immutable ``uv``, a
    read-only bind mount: ``EPERM``, ``EROFS``), what was already replaced is put
    back, so both files stay byte-identical to before, and ``InstallError`` names the
    file and the OS error. With ``receipt`` (the receipt's data), the receipt is
    written to the staging folder before anything is replaced and renamed into place
    last, so that a full disk cannot leave new binaries beside an old receipt.
    Returns the installed paths, in ``tool.binaries`` order (``[uv path, uvx path]``).
    """
    tool = get_tool(tool)
    staging_dir = os.path.dirname(staged[tool.binaries[0]])
    for name in tool.binaries:
        try:
            os.chmod(staged[name], 0o755)
        except OSError as exc:
            raise InstallError("cannot set the mode of the staged %s: %s" % (staged[name], os_reason(exc)))
    steps = [(staged[name], os.path.join(install_dir, name)) for name in tool.swap_order]
    if receipt is not None:
        steps.append((_write_receipt_temp(staging_dir, receipt, install_dir, tool),
                      os.path.join(install_dir, tool.receipt)))
    moved = []
    for index, (source, dest) in enumerate(steps):
        try:
            # The last step needs no backup: if it fails, its file was never touched.
            backup = _backup(dest, staging_dir) if index < len(steps) - 1 else None
            os.rename(source, dest)
        except (IOError, OSError, InstallError) as exc:
            failures = _put_back(moved)
            error = exc if isinstance(exc, InstallError) else _dir_error(exc, install_dir, "cannot replace %s" % dest)
            if failures:
                done = error.msg.replace("; nothing was changed", "")
                raise InstallError("%s; %s: run again to finish" % (done, "; ".join(failures)))
            if isinstance(error, DiskFullError):
                raise error
            put_back = " (%s put back)" % ", ".join(os.path.basename(d) for d, _b in moved) if moved else ""
            raise InstallError("%s; the previous %s %s unchanged%s" % (error.msg, tool.words, tool.are, put_back))
        moved.append((dest, backup))
    return [os.path.join(install_dir, name) for name in tool.binaries]


def write_receipt(install_dir, staging_dir, data, tool=UV):
    """Write the receipt atomically: to the staging folder, then rename into place.

    Prefer ``install_staged(..., receipt=data)``, which writes it before the binaries
    are replaced: called after the swap, a failure here leaves the new binaries beside
    the old receipt (the message says so).
    """
    tool = get_tool(tool)
    dest = os.path.join(install_dir, tool.receipt)
    try:
        temp = _write_receipt_temp(staging_dir, data, install_dir, tool)
        try:
            os.rename(temp, dest)
        except OSError as exc:
            raise InstallError("cannot replace %s: %s" % (dest, os_reason(exc)))
    except InstallError as exc:
        try:
            os.unlink(os.path.join(staging_dir, tool.receipt))
        except OSError:
            pass
        kind = DiskFullError if isinstance(exc, DiskFullError) else InstallError
        raise kind("%s; %s %s replaced but %s is not up to date: fix that and run again"
                   % (exc.msg.replace("; nothing was changed", ""), tool.words, "were" if len(tool.binaries) > 1
                      else "was", dest))


def has_staging_debris(install_dir, tool=UV):
    """Whether a killed run of ``tool`` left staging folders in ``install_dir`` (one ``listdir``)."""
    prefix = get_tool(tool).staging_prefix
    try:
        return any(name.startswith(prefix) for name in os.listdir(install_dir))
    except (IOError, OSError):
        return False


def remove_install(install_dir, tool=UV):
    """Remove ``tool``'s binaries (uv and uvx) and its receipt; returns the paths that existed.

    Raises ``InstallError`` naming the file and the OS error (an immutable file, a read-only
    mount, a user that may not write ``install_dir``) and what was already removed.
    """
    tool = get_tool(tool)
    removed = []
    for name in tool.binaries + (tool.receipt,):
        path = os.path.join(install_dir, name)
        if os.path.lexists(path):
            try:
                os.unlink(path)
            except OSError as exc:
                done = "; removed %s" % ", ".join(removed) if removed else "; nothing was removed"
                raise InstallError("cannot remove %s: %s%s; fix that and run again" % (path, os_reason(exc), done))
            removed.append(path)
    return removed
