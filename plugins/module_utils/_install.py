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
import tempfile
import time

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import InstallError
from ansible_collections.pyfleet.uv.plugins.module_utils._installed import (
    BINARIES,
    RECEIPT_NAME,
    RECEIPT_SCHEMA,
    parse_uv_version,
    run_version,
)

__all__ = [
    "BINARIES",
    "STAGING_PREFIX",
    "DirLock",
    "ensure_install_dir",
    "has_staging_debris",
    "install_staged",
    "make_staging_dir",
    "remove_install",
    "remove_stale_staging",
    "verify_staged",
    "write_receipt",
]

STAGING_PREFIX = ".pyfleet-uv-stage-"


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


def verify_staged(staged, want_version, run, want_target=None):
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
        if want_target and parsed["target"] and parsed["target"] != want_target:
            return False, "%s is the %s build, not %s: the file holds the wrong build" % (
                name, parsed["target"], want_target)
        if reported is None:
            reported = parsed["version"]
        elif parsed["version"] != reported:
            return False, "uv is %s but uvx is %s" % (reported, parsed["version"])
    return True, reported


def install_staged(staged, install_dir):
    """Move the staged binaries into ``install_dir`` (uvx first, then uv), mode 0755."""
    paths = {}
    for name in ("uvx", "uv"):
        dest = os.path.join(install_dir, name)
        os.chmod(staged[name], 0o755)
        os.rename(staged[name], dest)
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


def has_staging_debris(install_dir):
    """Whether a killed run left staging folders in ``install_dir`` (one ``listdir``)."""
    try:
        return any(name.startswith(STAGING_PREFIX) for name in os.listdir(install_dir))
    except (IOError, OSError):
        return False


def ensure_install_dir(install_dir):
    """Create ``install_dir`` (mode 0755) if needed; raise ``InstallError`` if it is not writable."""
    if os.path.isdir(install_dir):
        if not os.access(install_dir, os.W_OK | os.X_OK):
            raise InstallError(
                "install_dir %s is not writable by this user; run with become: true or choose "
                "a directory this user owns" % install_dir
            )
        return
    try:
        os.makedirs(install_dir, 0o755)
    except OSError as exc:
        raise InstallError("cannot create install_dir %s: %s; create it or run with become: true"
                           % (install_dir, exc.strerror or exc))


def remove_install(install_dir):
    """Remove uv, uvx and the receipt; returns the paths that existed."""
    removed = []
    for name in BINARIES + (RECEIPT_NAME,):
        path = os.path.join(install_dir, name)
        if os.path.lexists(path):
            os.unlink(path)
            removed.append(path)
    return removed
