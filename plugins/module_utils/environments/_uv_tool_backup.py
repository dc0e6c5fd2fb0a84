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
import time

from ansible_collections.pyfleet.uv.plugins.module_utils.environments._uv_tool_receipt import ToolError, read_receipt

__all__ = ["Backup", "backup_path", "keep_aside", "leads_into", "lock_tool", "recover", "recover_backup", "recover_kept", "relink",
           "remove_tool", "tool_links", "unlink_leftovers"]


def leads_into(path, environment):
    """Whether the symbolic link ``path`` points into ``environment``."""
    target = os.path.normpath(os.path.join(os.path.dirname(path), os.readlink(path)))
    # uv writes the target through tool_dir as it was given (maybe a link); its last part is not resolved,
    # so a link into a tool whose Python is gone still counts.
    resolved = os.path.join(os.path.realpath(os.path.dirname(target)), os.path.basename(target))
    return any(t.startswith(os.path.join(env, "")) for t in (target, resolved)
               for env in (environment, os.path.realpath(environment)))


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

    def __init__(self, environment, bin_dir, move, link_dirs=()):
        """``link_dirs``: more directories whose links into the environment are the tool's (the bin_dir it
        was installed with, when O(bin_dir) changed); in ``move`` mode they are removed too."""
        self.environment = environment
        self.bin_dir = bin_dir
        self.path = backup_path(environment)
        scratch = _scratch(environment)
        self.links = {}
        for directory in [bin_dir] + [d for d in link_dirs if d != bin_dir]:
            self.links.update(tool_links(directory, environment))
        moved, unlinked = False, []
        try:
            _remove(scratch)
            if move:
                os.rename(environment, self.path)
                moved = True
                for path in sorted(self.links):
                    os.unlink(path)
                    unlinked.append(path)
            else:
                shutil.copytree(environment, scratch, symlinks=True)
                os.rename(scratch, self.path)
        except (OSError, shutil.Error) as exc:
            if not move:
                shutil.rmtree(scratch, ignore_errors=True)
            elif moved:
                self._undo_move(unlinked, exc)
            raise ToolError("%s could not be backed up in %s before uv replaces it (%s); nothing was changed"
                            % (environment, self.path, exc))

    def _undo_move(self, unlinked, cause):
        """Put back what a move-mode backup cut short had done (the environment renamed, some links removed);
        ``ToolError`` saying what is where when even that fails, never "nothing was changed"."""
        try:
            for path in unlinked:
                if not os.path.lexists(path):
                    os.symlink(self.links[path], path)
            os.rename(self.path, self.environment)
        except OSError as exc:
            raise ToolError("%s could not be backed up before uv replaces it (%s), and what was done could not be undone "
                            "(%s): the environment is in %s, its links %s were removed; move it back by hand"
                            % (self.environment, cause, exc, self.path, ", ".join(unlinked) or "(none)"))

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


def _put_back(environment, bin_dir, backup, links, every_new_link=True):
    """``backup`` in place of ``environment`` (renamed aside first, removed last), and ``links`` in bin_dir
    (a file there that is not a link stays).

    With ``every_new_link`` (``links`` are all the links into the environment before the run), every
    other link into it in bin_dir or the directories of ``links`` was made by the run that failed and is
    removed, whether or not it leads somewhere in the environment put back; without (``links`` from a
    receipt, after a killed run), only those that lead nowhere."""
    aside = _scratch(environment)
    _remove(aside)
    if os.path.lexists(environment):
        os.rename(environment, aside)
    os.rename(backup, environment)
    directories = set([bin_dir] + [os.path.dirname(p) for p in links])
    for directory in sorted(directories):
        for path in tool_links(directory, environment):
            if path not in links and (every_new_link or not os.path.exists(path)):
                os.unlink(path)  # an executable of the version that failed
    for path, target in sorted(links.items()):
        if os.path.islink(path):
            os.unlink(path)
        if not os.path.lexists(path):
            os.symlink(target, path)
    shutil.rmtree(aside, ignore_errors=True)  # last: the tool works again whatever is left of it


def lock_tool(tool_dir, name, timeout=300, poll=0.2):
    """Wait at most ``timeout`` seconds for, then hold, the lock of the tool ``name``:
    ``<tool_dir>/.<name>.pyfleet-lock`` (not uv's ``.lock``), made with tool_dir (0755) when missing.
    Returns its descriptor; closing it unlocks. ``ToolError`` naming the lock and the process holding
    it (as ``/proc/locks`` tells) when the time is up."""
    path = os.path.join(tool_dir, ".%s.pyfleet-lock" % name)
    deadline = time.time() + timeout
    old = os.umask(0o022)
    try:
        while True:
            if not os.path.isdir(tool_dir):
                os.makedirs(tool_dir, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _wait_for_lock(fd, deadline, poll):
                holder = _lock_holder(fd)
                os.close(fd)
                raise ToolError("the lock %s of %s is held by %s, for over %d seconds (lock_timeout): wait for that run "
                                "to finish and run again, or raise lock_timeout"
                                % (path, name, "process %d" % holder if holder else "another run", timeout))
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


def _wait_for_lock(fd, deadline, poll):
    """Whether ``flock`` on ``fd`` was taken before ``deadline``."""
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except (IOError, OSError) as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                os.close(fd)
                raise
        if time.time() >= deadline:
            return False
        time.sleep(poll)


def _lock_holder(fd):
    """The process id that holds a lock on the file of ``fd``, from ``/proc/locks``, or ``None``.

    Its lines read ``1: FLOCK  ADVISORY  WRITE 4242 fd:01:1311 0 EOF`` (device major and minor in
    hex, then the inode).
    """
    info = os.fstat(fd)
    ident = "%02x:%02x:%d" % (os.major(info.st_dev), os.minor(info.st_dev), info.st_ino)
    try:
        with open("/proc/locks") as handle:
            lines = handle.read().splitlines()
    except (IOError, OSError):
        return None
    for line in lines:
        fields = line.split()
        if "->" in fields:  # a waiter, not the holder
            continue
        for pid, field in zip(fields, fields[1:]):
            if pid.isdigit() and field == ident:
                return int(pid)
    return None


def _kept(path, environment):
    return "%s.pyfleet-keep-%s" % (path, os.path.basename(environment))


def keep_aside(paths, action, environment):
    """``action()`` with ``paths`` (files that took over the executables of the tool of ``environment``)
    renamed aside, then put back; a run killed meanwhile leaves them for ``recover_kept``."""
    moved = []
    try:
        for path in paths:
            os.rename(path, _kept(path, environment))
            moved.append(path)
        return action()
    finally:
        for path in moved:
            if os.path.lexists(path):
                os.unlink(path)
            os.rename(_kept(path, environment), path)


def recover_kept(bin_dir, environment):
    """At start-up, under the tool's lock: the files ``keep_aside`` set aside for this tool in ``bin_dir``
    and a killed run did not put back go back where they were (when that name is free, or holds a link
    into the tool's environment). The paths put back."""
    suffix = ".pyfleet-keep-%s" % os.path.basename(environment)
    done = []
    try:
        names = [n for n in os.listdir(bin_dir) if n.endswith(suffix)]
    except OSError:
        return done
    for name in sorted(names):
        path = os.path.join(bin_dir, name[:-len(suffix)])
        try:
            if os.path.islink(path) and leads_into(path, environment):
                os.unlink(path)
            if not os.path.lexists(path):
                os.rename(os.path.join(bin_dir, name), path)
                done.append(path)
        except OSError as exc:
            raise ToolError("%s, set aside by an interrupted run, could not be put back as %s (%s): move it back by hand"
                            % (os.path.join(bin_dir, name), path, exc))
    return done


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
        _put_back(environment, bin_dir, path, links, every_new_link=False)
    except OSError as exc:
        raise ToolError("the backup %s of %s left by an interrupted run could not be put back (%s): move it back "
                        "by hand" % (path, environment, exc))
    return True


def recover(environment, bin_dir):
    """What an interrupted run left for the tool of ``environment``, put back (at start-up, under its lock,
    not in check mode): ``recover_backup``, then ``recover_kept``. A line for each thing put back."""
    done = ["a backup of %s left by an interrupted run was recovered" % environment] if recover_backup(environment, bin_dir) else []
    return done + ["put back %s, set aside by an interrupted run" % p for p in recover_kept(bin_dir, environment)]


def unlink_leftovers(bin_dir, environment):
    """Remove the links in ``bin_dir`` into ``environment`` when it is gone (deleted by hand: uv would refuse
    them as not its own); ``{path: target}`` of those removed, for ``relink`` if uv fails."""
    links = {} if os.path.lexists(environment) else tool_links(bin_dir, environment)
    for path in links:
        os.unlink(path)
    return links


def relink(links):
    """Put back ``links`` (``{path: target}``) where their name is free."""
    for path, target in sorted(links.items()):
        if not os.path.lexists(path):
            os.symlink(target, path)
