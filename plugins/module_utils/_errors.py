# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Typed errors of the collection's helpers.

PRIVATE API: only for this collection's modules; names may change without notice.
Helpers raise these with a message that already says what failed and what to do;
the module's ``main()`` is the one place that turns them into ``fail_json``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno

__all__ = ["UvError", "MirrorError", "ChecksumError", "ArchiveError", "InstallError", "DiskFullError", "disk_full"]


class UvError(Exception):
    """Base class: the message is meant for the user as it is."""

    def __init__(self, msg, **details):
        super(UvError, self).__init__(msg)
        self.msg = msg
        self.details = details


class MirrorError(UvError):
    """The mirror could not be reached, or served nothing usable."""


class ChecksumError(UvError):
    """A checksum is missing, malformed, or does not match."""


class ArchiveError(UvError):
    """An archive is not the expected uv release archive."""


class InstallError(UvError):
    """The install directory or the new binaries are not usable."""


class DiskFullError(InstallError):
    """A write failed because the file system is full (ENOSPC) or over quota (EDQUOT)."""


_DISK_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def disk_full(exc, directory, needed_bytes=None):
    """A ``DiskFullError`` for ``exc`` if it says the disk is full, else ``None``.

    Callers re-raise it at once: a full disk is not a bad archive, nor a reason to
    retry a download.
    """
    if getattr(exc, "errno", None) not in _DISK_FULL:
        return None
    need = ""
    if needed_bytes:
        need = " (needs about %d MB)" % max(1, (needed_bytes + 1024 * 1024 - 1) // (1024 * 1024))
    return DiskFullError(
        "no space left on device in %s%s; free some space there (or choose another directory) "
        "and run again; nothing was changed" % (directory, need)
    )
