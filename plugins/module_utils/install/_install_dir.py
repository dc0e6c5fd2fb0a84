# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An install directory itself: create it (0755 whatever the umask), check it is writable, lock it.

PRIVATE API: only for this collection's modules; names may change without notice.
A leaf shared by ``_install`` (uv, ruff, ty) and ``uv_python`` (its Pythons' directory), so that
uv_python's payload holds none of the staging, swapping and receipt code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import os
import time

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import InstallError, disk_full
from ansible_collections.pyfleet.uv.plugins.module_utils._probe import missing_dirs

__all__ = ["DirLock", "dir_error", "ensure_install_dir", "make_dirs", "os_reason"]


class DirLock(object):
    """An exclusive ``flock`` on the install directory itself.

    Locking the directory's own file descriptor leaves no lock file behind, and the
    kernel drops the lock if the process dies.
    """

    def __init__(self, path, timeout=600, poll=0.2, holder="uv_install"):
        self.path = path
        self.holder = holder
        self.timeout = timeout
        self.poll = poll
        self.fd = None

    def __enter__(self):
        try:
            self.fd = os.open(self.path, os.O_RDONLY)
        except OSError as exc:
            raise InstallError("cannot open %s to lock it: %s" % (self.path, os_reason(exc)))
        deadline = time.time() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    os.close(self.fd)
                    raise InstallError("cannot lock %s: %s" % (self.path, os_reason(exc)))
                if time.time() > deadline:
                    os.close(self.fd)
                    raise InstallError(
                        "another %s run has held the lock on %s for over %d seconds; "
                        "wait for it to finish and run again" % (self.holder, self.path, self.timeout)
                    )
                time.sleep(self.poll)

    def __exit__(self, *exc_info):
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)
        return False


def os_reason(exc, is_root=None):
    """Why an ``OSError`` happened, in words that point at the fix for this user.

    ``EPERM`` and ``EROFS`` are not solved by ``become: true`` (root gets them too, from
    an immutable file or a read-only mount); only ``EACCES`` for a user other than root is.
    """
    if is_root is None:
        is_root = os.geteuid() == 0
    code = getattr(exc, "errno", None)
    if code == errno.EPERM:
        return "operation not permitted (immutable file or directory?)"
    if code == errno.EROFS:
        return "read-only file system"
    if code == errno.EACCES and not is_root:
        return "permission denied; run with become: true or choose a directory this user owns"
    return getattr(exc, "strerror", None) or str(exc)


def dir_error(exc, install_dir, what, needed_bytes=None):
    """The error to raise for a failed write in ``install_dir``: disk full or not."""
    full = disk_full(exc, install_dir, needed_bytes)
    if full is not None:
        return full
    return InstallError("%s: %s" % (what, os_reason(exc)))


def ensure_install_dir(install_dir):
    """Create ``install_dir`` (mode 0755) when missing, and check that it is writable.

    Raises ``InstallError`` saying why not: for root an immutable directory or a
    read-only file system (``become`` would not help), for other users that
    ``become: true`` may.
    """
    if os.path.isdir(install_dir):
        if os.access(install_dir, os.W_OK | os.X_OK):
            return
        if os.geteuid() != 0:
            raise InstallError(
                "install_dir %s is not writable by this user; run with become: true or choose "
                "a directory this user owns" % install_dir
            )
        # Root is refused writing only by a read-only mount or an immutable directory.
        try:
            read_only = bool(os.statvfs(install_dir).f_flag & os.ST_RDONLY)
        except OSError:
            read_only = False
        code = errno.EROFS if read_only else errno.EPERM
        raise InstallError("install_dir %s is not writable, even for root: %s; choose another install_dir"
                           % (install_dir, os_reason(OSError(code, os.strerror(code)), is_root=True)))
    make_dirs(install_dir)


def make_dirs(path, mode=0o755):
    """Create ``path`` and its missing parents, each with ``mode`` whatever the umask.

    ``os.makedirs(path, 0o755)`` under umask 027 makes 0750 folders, which other users
    cannot enter (their PATH then misses the tools). Another run creating the same
    folder at the same moment (two first installs on one host) is not an error.
    """
    for folder in missing_dirs(path):
        try:
            os.mkdir(folder, mode)
        except OSError as exc:
            if exc.errno == errno.EEXIST and os.path.isdir(folder):
                continue  # made by a concurrent run: it sets the mode itself
            raise dir_error(exc, path, "cannot create install_dir %s" % path)
        try:
            os.chmod(folder, mode)  # the umask took bits that were asked for
        except OSError as exc:
            raise dir_error(exc, path, "cannot set the mode of %s" % folder)
