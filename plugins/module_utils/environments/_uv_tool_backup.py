# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A uv tool's files while uv changes them: its links in bin_dir, a backup of it, the lock that
keeps two runs for the same tool apart, and what an interrupted run left.

PRIVATE API: only for this collection's modules; names may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import os
import shutil

from ansible_collections.pyfleet.uv.plugins.module_utils.environments._uv_tool_receipt import ToolError, read_receipt

__all__ = ["Backup", "backup_path", "keep_aside", "leads_into", "lock_tool", "recover_backup", "remove_tool", "tool_links"]


def leads_into(path, environment):
    """Whether the symbolic link ``path`` points into ``environment``."""
    target = os.path.normpath(os.path.join(os.path.dirname(path), os.readlink(path)))
    return any(target.startswith(os.path.join(env, "")) for env in (environment, os.path.realpath(environment)))


def tool_links(bin_dir, environment):
    """``{path: target}`` of the symbolic links in ``bin_dir`` that point into ``environment``."""
    try:
        names = os.listdir(bin_dir)
    except OSError:
        return {}
    paths = [os.path.join(bin_dir, n) for n in names]
    return dict((p, os.readlink(p)) for p in paths if os.path.islink(p) and leads_into(p, environment))


class Backup(object):
    """The tool's environment set aside in tool_dir (same file system) while uv replaces it, with
    its links in bin_dir; ``restore`` puts both back, ``discard`` removes the copy.

    ``move`` renames the environment aside and removes its links (uv then installs afresh, as for
    a reinstall); otherwise the environment is copied under a scratch name and renamed to the
    backup's name once complete, before uv changes it in place. A backup found at start-up is
    therefore whole, and means uv may have been midway (``recover_backup``).
    """

    def __init__(self, environment, bin_dir, move):
        self.environment = environment
        self.bin_dir = bin_dir
        self.path = backup_path(environment)
        scratch = _scratch(environment)
        self.links = tool_links(bin_dir, environment)
        try:
            _remove(scratch)
            if move:
                os.rename(environment, self.path)
                for path in self.links:
                    os.unlink(path)
            else:
                shutil.copytree(environment, scratch, symlinks=True)
                os.rename(scratch, self.path)
        except (OSError, shutil.Error) as exc:
            if not move:
                shutil.rmtree(scratch, ignore_errors=True)
            raise ToolError("%s could not be backed up in %s before uv replaces it (%s); nothing was changed"
                            % (environment, self.path, exc))

    def restore(self, cause=""):
        """Put the backup back; ``ToolError`` (starting with ``cause``, uv's message) when it cannot."""
        try:
            if not os.path.isdir(self.path):
                raise OSError(errno.ENOENT, "the backup is gone", self.path)
            _put_back(self.environment, self.bin_dir, self.path, self.links)
        except OSError as exc:
            raise ToolError("%s%s could not be put back from its backup %s (%s): move it back by hand"
                            % (cause + "\n" if cause else "", self.environment, self.path, exc))

    def discard(self):
        scratch = _scratch(self.environment)
        try:
            os.rename(self.path, scratch)  # no longer a whole backup, even if the removal is cut short
        except OSError:
            return
        shutil.rmtree(scratch, ignore_errors=True)


def _scratch(environment):
    """A partial copy, an environment set aside, a backup being removed: never to be put back."""
    return backup_path(environment) + ".tmp"


def _remove(path):
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)


def _put_back(environment, bin_dir, backup, links):
    """``backup`` in place of ``environment`` (renamed aside first, removed last), and ``links`` in bin_dir
    (a file there that is not a link stays); links into the environment that lead nowhere are removed."""
    aside = _scratch(environment)
    _remove(aside)
    if os.path.lexists(environment):
        os.rename(environment, aside)
    os.rename(backup, environment)
    _remove(aside)
    for path in tool_links(bin_dir, environment):
        if path not in links and not os.path.exists(path):
            os.unlink(path)  # a new executable of the version that failed
    for path, target in sorted(links.items()):
        if os.path.islink(path):
            os.unlink(path)
        if not os.path.lexists(path):
            os.symlink(target, path)


def lock_tool(tool_dir, name):
    """Wait for, then hold, the lock of the tool ``name``: ``<tool_dir>/.<name>.pyfleet-lock`` (not uv's
    ``.lock``), made with tool_dir (0755) when missing. Returns its descriptor; closing it unlocks."""
    path = os.path.join(tool_dir, ".%s.pyfleet-lock" % name)
    old = os.umask(0o022)
    try:
        while True:
            if not os.path.isdir(tool_dir):
                os.makedirs(tool_dir, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if os.fstat(fd).st_ino == os.stat(path).st_ino:
                    return fd
            except OSError:
                pass
            os.close(fd)  # removed (a failed first install) while this run waited: lock the new one
    except OSError as exc:
        raise ToolError("the lock %s of %s could not be taken: %s" % (path, name, exc))
    finally:
        os.umask(old)


def keep_aside(paths, action):
    """``action()`` with ``paths`` (files that took over a tool's executables) renamed aside, then put back."""
    moved = []
    try:
        for path in paths:
            os.rename(path, path + ".pyfleet-keep")
            moved.append(path)
        return action()
    finally:
        for path in moved:
            if os.path.lexists(path):
                os.unlink(path)
            os.rename(path + ".pyfleet-keep", path)


def remove_tool(environment, bin_dir):
    """Remove the tool of ``environment`` and its links in ``bin_dir`` (for a receipt uv cannot read)."""
    try:
        for path in tool_links(bin_dir, environment):
            os.unlink(path)
        shutil.rmtree(environment)
    except OSError as exc:
        raise ToolError("%s could not be removed: %s" % (environment, exc))


def backup_path(environment):
    return os.path.join(os.path.dirname(environment), ".%s.pyfleet-backup" % os.path.basename(environment))


def recover_backup(environment, bin_dir):
    """At start-up, under the tool's lock: a backup means a run was killed while uv changed the tool (or
    before it removed the backup), so it goes back in place of the environment, with the links its
    receipt records; a scratch copy is removed. Whether a backup was put back."""
    path = backup_path(environment)
    try:
        _remove(_scratch(environment))
        if not os.path.isdir(path):
            return False
        try:
            receipt = read_receipt(path) or {}
        except ToolError:
            receipt = {}
        links = {}
        for entry in receipt.get("entrypoints") or []:
            if isinstance(entry, dict) and isinstance(entry.get("install-path"), str) and entry.get("name"):
                links[entry["install-path"]] = os.path.join(environment, "bin", os.path.basename(entry["install-path"]))
        _put_back(environment, bin_dir, path, links)
    except OSError as exc:
        raise ToolError("the backup %s of %s left by an interrupted run could not be put back (%s): move it back "
                        "by hand" % (path, environment, exc))
    return True
