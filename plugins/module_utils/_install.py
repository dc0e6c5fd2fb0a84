# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Extract, stage, swap and remove uv binaries in an install directory.

PRIVATE API: only for this collection's modules; names may change without notice.
This file writes to the install directory only; it never touches the network.
Every write goes to a staging directory inside the install directory first (same
filesystem, so renames are atomic, and not /tmp, which may be mounted noexec).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import json
import os
import shutil
import tarfile
import tempfile
import time

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ArchiveError, InstallError
from ansible_collections.pyfleet.uv.plugins.module_utils._installed import (
    RECEIPT_NAME,
    RECEIPT_SCHEMA,
    parse_uv_version,
    run_version,
)

__all__ = [
    "BINARIES",
    "MAX_MEMBER_BYTES",
    "STAGING_PREFIX",
    "DirLock",
    "check_member",
    "extract_binaries",
    "install_staged",
    "make_staging_dir",
    "remove_install",
    "remove_stale_staging",
    "verify_staged",
    "write_receipt",
]

BINARIES = ("uv", "uvx")
# uv itself is about 40 MB; no member of a real release comes near this. The cap
# stops a hostile archive (or a gzip bomb) from filling the disk.
MAX_MEMBER_BYTES = 256 * 1024 * 1024
STAGING_PREFIX = ".pyfleet-uv-stage-"

_TYPE_NAMES = {
    tarfile.SYMTYPE: "symbolic link",
    tarfile.LNKTYPE: "hard link",
    tarfile.CHRTYPE: "character device",
    tarfile.BLKTYPE: "block device",
    tarfile.FIFOTYPE: "fifo",
    tarfile.CONTTYPE: "contiguous file",
    tarfile.GNUTYPE_SPARSE: "sparse file",
    tarfile.DIRTYPE: "directory",
}


class DirLock(object):
    """An exclusive ``flock`` on the install directory itself.

    Locking the directory's own file descriptor leaves no lock file behind, and the
    kernel drops the lock if the process dies.
    """

    def __init__(self, path, timeout=600, poll=0.2):
        self.path = path
        self.timeout = timeout
        self.poll = poll
        self.fd = None

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDONLY)
        deadline = time.time() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    os.close(self.fd)
                    raise
                if time.time() > deadline:
                    os.close(self.fd)
                    raise InstallError(
                        "another uv_install run has held the lock on %s for over %d seconds; "
                        "wait for it to finish and run again" % (self.path, self.timeout)
                    )
                time.sleep(self.poll)

    def __exit__(self, *exc_info):
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)
        return False


def _normalise(name):
    while name.startswith("./"):
        name = name[2:]
    return name


def check_member(member, target):
    """Decide what to do with one tar member: returns a binary name, or ``None`` to skip.

    Only the folder ``uv-<target>/`` and the regular files ``uv-<target>/uv`` and
    ``uv-<target>/uvx`` are accepted; anything else raises ``ArchiveError`` naming it.
    ``TarInfo.isreg()`` also accepts contiguous and sparse members, so the type byte is
    compared directly.
    """
    folder = "uv-%s" % target
    name = _normalise(member.name)
    if name.rstrip("/") == folder and member.type == tarfile.DIRTYPE:
        return None
    if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
        kind = _TYPE_NAMES.get(member.type, "member of type %r" % member.type)
        raise ArchiveError("the archive holds a %s %r; a uv archive holds only regular files" % (kind, member.name))
    parts = name.split("/")
    if name.startswith("/") or ".." in parts or len(parts) != 2 or parts[0] != folder or parts[1] not in BINARIES:
        raise ArchiveError(
            "the archive holds an unexpected member %r; a uv archive for %s holds only %s/uv and %s/uvx"
            % (member.name, target, folder, folder)
        )
    if member.size > MAX_MEMBER_BYTES:
        raise ArchiveError(
            "the archive member %r is %d bytes, over the %d byte cap; no uv build is that large"
            % (member.name, member.size, MAX_MEMBER_BYTES)
        )
    return parts[1]


def make_staging_dir(install_dir):
    """A fresh private staging directory inside ``install_dir``."""
    try:
        return tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=install_dir)
    except (IOError, OSError) as exc:
        raise InstallError(
            "cannot write to install_dir %s: %s; choose a writable install_dir or run with become"
            % (install_dir, exc.strerror or exc)
        )


def remove_stale_staging(install_dir):
    """Remove staging folders left by a run that was killed; call only under the lock."""
    removed = []
    try:
        names = os.listdir(install_dir)
    except (IOError, OSError):
        return removed
    for name in names:
        if name.startswith(STAGING_PREFIX):
            shutil.rmtree(os.path.join(install_dir, name), ignore_errors=True)
            removed.append(name)
    return removed


def extract_binaries(archive_path, target, staging_dir):
    """Extract ``uv`` and ``uvx`` from a verified archive into ``staging_dir``.

    Streams the archive member by member, refusing anything but the expected regular
    files (see ``check_member``). Returns ``{"uv": path, "uvx": path}``.
    """
    found = {}
    try:
        with tarfile.open(archive_path, mode="r:gz") as tar:
            for member in tar:
                binary = check_member(member, target)
                if binary is None:
                    continue
                if binary in found:
                    raise ArchiveError("the archive holds %r twice" % member.name)
                source = tar.extractfile(member)
                dest = os.path.join(staging_dir, binary)
                written = 0
                with open(dest, "wb") as handle:
                    while True:
                        chunk = source.read(1024 * 1024)
                        if not chunk:
                            break
                        written += len(chunk)
                        handle.write(chunk)
                if written != member.size:
                    raise ArchiveError("the archive member %r is truncated" % member.name)
                os.chmod(dest, 0o755)
                found[binary] = dest
    except (tarfile.TarError, EOFError, IOError, OSError, ValueError) as exc:
        if isinstance(exc, (IOError, OSError)) and getattr(exc, "filename", None):
            raise InstallError("cannot write %s: %s" % (exc.filename, exc.strerror or exc))
        raise ArchiveError("the download is not a readable .tar.gz archive (%s)" % exc)
    missing = [name for name in BINARIES if name not in found]
    if missing:
        raise ArchiveError(
            "the archive has no uv-%s/%s; it is not a uv release archive" % (target, "/".join(missing))
        )
    return found


def verify_staged(staged, want_version, run):
    """Run the staged ``uv --version`` and ``uvx --version``.

    Returns ``(ok, version_or_reason)``: on success the version the new build reports;
    otherwise why it cannot be used on this host (for example the loader's
    ``GLIBC_2.34 not found``), or that it is not the wanted version.
    """
    reported = None
    for name in BINARIES:
        rc, text = run_version(staged[name], run)
        parsed = parse_uv_version(text) if rc == 0 else None
        if parsed is None:
            detail = " ".join(text.split())[:400] if text else "no output"
            if rc == 0:
                return False, "%s --version printed no uv version: %s" % (name, detail)
            return False, "%s does not run here (exit %s): %s" % (name, rc, detail)
        if want_version not in (None, "latest") and parsed["version"] != want_version:
            return False, "%s reports version %s, not %s: the mirror serves the wrong archive" % (
                name, parsed["version"], want_version)
        if reported is None:
            reported = parsed["version"]
        elif parsed["version"] != reported:
            return False, "uv is %s but uvx is %s" % (reported, parsed["version"])
    return True, reported


def install_staged(atomic_move, staged, install_dir):
    """Move the staged binaries into ``install_dir`` (uvx first, then uv), mode 0755."""
    paths = {}
    for name in ("uvx", "uv"):
        dest = os.path.join(install_dir, name)
        atomic_move(staged[name], dest)
        os.chmod(dest, 0o755)
        paths[name] = dest
    return [paths["uv"], paths["uvx"]]


def write_receipt(install_dir, staging_dir, data):
    """Write the receipt atomically: to the staging folder, then rename into place."""
    record = dict(data)
    record["schema"] = RECEIPT_SCHEMA
    temp = os.path.join(staging_dir, RECEIPT_NAME)
    with open(temp, "w") as handle:
        json.dump(record, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.chmod(temp, 0o644)
    os.rename(temp, os.path.join(install_dir, RECEIPT_NAME))


def remove_install(install_dir):
    """Remove uv, uvx and the receipt; returns the paths that existed."""
    removed = []
    for name in BINARIES + (RECEIPT_NAME,):
        path = os.path.join(install_dir, name)
        if os.path.lexists(path):
            os.unlink(path)
            removed.append(path)
    return removed
