# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where uv_sync's environments live, and how ``environment`` switches between them.

PRIVATE API: only for this collection's modules; names may change without notice.

``environment`` (say ``/srv/app/.venv``) is a symbolic link to one of the versioned environments
in ``<environment>.d/`` (``/srv/app/.venv.d/<key>``; ``_sync.environment_key`` names them), relative,
so the whole directory may move. Each environment is built at its final path (a virtual
environment's scripts name their own directory, so it never moves) and holds a receipt,
``uv-sync.json``, written last: a directory without one is a half-built leftover. The switch
writes a new link under a temporary name beside ``environment`` and renames it over the old link:
one ``rename(2)``, so a reader sees the old environment or the new one, never neither; the data is
flushed before it (``sync``) and the link's directory after it (``fsync``), so a power loss never
leaves the link at an environment whose files were not written, nor undoes a reported switch. Runs on
one host are serialised by ``flock`` on ``<environment>.d/.lock``; under it, a run first clears what
killed runs left: links ``.<name>.uv-sync-<hex>`` beside ``environment``, trees ``.trash-*`` in the
store. An environment is removed by renaming it to ``.trash-<name>-<hex>`` (atomic), then deleting
the trash, so a killed deletion never leaves a half-deleted tree under an environment's name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import fcntl
import json
import os
import re
import shutil

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._sync import ENVIRONMENT_SUFFIX

__all__ = ["RECEIPT", "Environments", "SyncError"]

RECEIPT = "uv-sync.json"
# What a run names its temporary entries: the new link beside ``environment`` (``.<name>.uv-sync-<8 hex>``)
# and an environment being deleted, in the store.
_LINK_DEBRIS = ".%s.uv-sync-"
_TRASH = ".trash-"


class SyncError(UvError):
    """The project, the lock, the environment or uv's answer is not usable; the message says how to fix it."""


class Environments(object):
    """The link ``path`` and its versioned environments in ``path + ENVIRONMENT_SUFFIX``."""

    def __init__(self, path):
        self.path = os.path.abspath(path.rstrip(os.sep) or os.sep)
        self.store = self.path + ENVIRONMENT_SUFFIX
        self._lock = None

    def refuse_foreign(self):
        """``SyncError`` when ``path`` is something uv_sync may not replace (a directory or a file)."""
        head = os.path.dirname(self.path)
        while not os.path.lexists(head) and os.path.dirname(head) != head:
            head = os.path.dirname(head)
        if os.path.lexists(head) and not os.path.isdir(head):
            what = ("a symbolic link to %s, which does not exist (an unmounted volume?)" % os.readlink(head)
                    if os.path.islink(head) else "a file, not a folder")
            raise SyncError("environment %s cannot be made: %s is %s: choose an environment path whose parents are "
                            "folders (or do not exist yet); the host was not changed" % (self.path, head, what))
        if os.path.lexists(self.path) and not os.path.islink(self.path):
            kind = "a directory" if os.path.isdir(self.path) else "a file"
            raise SyncError("environment %s is %s, not the symbolic link uv_sync manages; uv_sync never replaces it: "
                            "move it away (it may be the old environment of the application) or choose another "
                            "environment path, and run again" % (self.path, kind))

    def current(self):
        """The environment ``path`` points at now, or ``None``: as ``dir_of`` names it when it lies in the
        store (whose parent or itself may be a symbolic link), else its real path."""
        if not os.path.islink(self.path) or not os.path.isdir(self.path):
            return None
        real = os.path.realpath(self.path)
        if os.path.dirname(real) == os.path.realpath(self.store):
            return self.dir_of(os.path.basename(real))
        return real

    def dir_of(self, key):
        return os.path.join(self.store, key)

    def receipt(self, directory):
        """The receipt of a complete environment, or ``None`` (missing, half built, unreadable)."""
        try:
            with open(os.path.join(directory, RECEIPT)) as handle:
                data = json.load(handle)
        except (IOError, OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def complete(self, key):
        """Whether the environment ``key`` is complete and its Python is there."""
        directory = self.dir_of(key)
        return self.receipt(directory) is not None and os.path.exists(os.path.join(directory, "bin", "python"))

    def prepare(self):
        """Create the store (and the missing parents of ``path``), take the host's lock, then clear the
        debris of killed runs (only a lock holder may: a parallel run's entries are not debris)."""
        if not os.path.isdir(self.store):
            os.makedirs(self.store, 0o755)
        handle = open(os.path.join(self.store, ".lock"), "a")
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        self._lock = handle
        self.sweep()

    def sweep(self):
        """Remove the temporary links beside ``path`` and the trash in the store that killed runs left."""
        parent, name = os.path.split(self.path)
        link = re.compile(r"^%s[0-9a-f]{8}$" % re.escape(_LINK_DEBRIS % name))
        for entry in os.listdir(parent):
            full = os.path.join(parent, entry)
            if link.match(entry) and os.path.islink(full):
                discard(full)
        for entry in os.listdir(self.store):
            if entry.startswith(_TRASH):
                discard(os.path.join(self.store, entry))

    def release(self):
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def clear(self, key):
        """Remove a half-built leftover at ``key`` (never the environment ``path`` points at)."""
        directory = self.dir_of(key)
        if os.path.lexists(directory) and directory != self.current():
            discard(directory)

    def discard(self, directory):
        """Remove an environment of the store, never the one ``path`` points at."""
        if directory != self.current():
            discard(directory)

    def write_receipt(self, key, data):
        """Mark the environment ``key`` complete (written last, through a temporary file)."""
        target = os.path.join(self.dir_of(key), RECEIPT)
        with open(target + ".tmp", "w") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
        os.rename(target + ".tmp", target)

    def switch(self, key):
        """Point ``path`` at the environment ``key`` in one rename, durably."""
        parent, name = os.path.split(self.path)
        # The new environment's files (uv's, the receipt) reach the disk before a link names them: after a
        # power loss the link is the old one, or the new one with complete files. os.sync, not an fsync of
        # each of thousands of files; the switch happens once per deploy.
        os.sync()
        temporary = os.path.join(parent, (_LINK_DEBRIS % name) + binascii.hexlify(os.urandom(4)).decode())
        os.symlink(os.path.join(os.path.basename(self.store), key), temporary)
        try:
            os.rename(temporary, self.path)
        except OSError:
            os.unlink(temporary)
            raise
        sync_directory(parent)  # the rename itself is durable before the task reports the switch

    def prune(self, keep):
        """Remove all but the ``keep`` newest earlier environments and every half-built leftover;
        returns the removed paths. The current environment always stays."""
        current = self.current()
        complete, removed = [], []
        for name in sorted(os.listdir(self.store)):
            full = os.path.join(self.store, name)
            if name.startswith(".") or not os.path.isdir(full) or os.path.islink(full) or full == current:
                continue
            if self.receipt(full) is None:
                discard(full)
                removed.append(full)
            else:
                complete.append((os.path.getmtime(os.path.join(full, RECEIPT)), full))
        for _mtime, full in sorted(complete, reverse=True)[max(keep, 0):]:
            discard(full)
            removed.append(full)
        return removed

    def earlier(self):
        """The complete environments other than the current one, newest first."""
        if not os.path.isdir(self.store):
            return []
        current = self.current()
        found = []
        for name in os.listdir(self.store):
            full = os.path.join(self.store, name)
            if not name.startswith(".") and full != current and self.receipt(full) is not None:
                found.append((os.path.getmtime(os.path.join(full, RECEIPT)), full))
        return [full for _mtime, full in sorted(found, reverse=True)]


def discard(path):
    """Remove a directory tree: first renamed to a trash name beside it (one atomic step, so a killed run
    never leaves a half-deleted tree under the name of an environment), then deleted. Never fails; trash
    that a killed run left is removed by ``Environments.sweep``."""
    if path and os.path.lexists(path):
        if os.path.islink(path) or not os.path.isdir(path):
            try:
                os.unlink(path)
            except OSError:
                pass  # gone meanwhile, or not ours to remove: never a reason to fail a deploy
            return
        parent, name = os.path.split(path)
        trash = path
        if not name.startswith(_TRASH):
            trash = os.path.join(parent, "%s%s-%s" % (_TRASH, name, binascii.hexlify(os.urandom(4)).decode()))
            try:
                os.rename(path, trash)
            except OSError:
                trash = path  # not renamable (a mount point, say): deleted in place
        shutil.rmtree(trash, ignore_errors=True)


def sync_directory(path):
    """fsync a directory, so that a rename in it survives a power loss; a file system that cannot is skipped."""
    try:
        handle = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
