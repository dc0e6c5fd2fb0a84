# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where a new virtual environment is built, and how it takes the place of the old one.

PRIVATE API: only for this collection's modules; names may change without notice.

uv_venv never builds an environment at its final path while something else is there. A new
or replacing environment is made beside it, in the same parent directory under a hidden
temporary name (``.<name>.uv-venv-<random>``), its packages are installed there, and only
then is it renamed into place (``swap_in``): the old environment is renamed aside, the new
one renamed to the path, and the old one removed. A failed build removes the temporary
directory and leaves the old environment as it was. Both renames stay in one directory, so
in one filesystem; between them the path is missing for an instant (Python's standard library
has no atomic exchange of two directories).

What an environment writes with its own path inside (the activation scripts, the ``#!`` line
of console scripts) would name the temporary path. So the environment is made with
``uv venv --relocatable`` (uv 0.4.4 and newer; the modules need 0.8.0): its activation scripts
find their directory at run time, and uv writes console scripts that start the environment's
Python relative to themselves, in this build and in every later ``uv pip install`` (uv reads
``relocatable = true`` from ``pyvenv.cfg``). ``pyvenv.cfg`` itself names only the base Python.

uv's relocatable ``bin/activate`` finds its own path only in bash, zsh and ksh (``SCRIPT_PATH``);
POSIX ``sh`` (dash) would get ``VIRTUAL_ENV=.``. ``pin_activate`` gives that one line the final
path as its fallback (the line is the same in uv 0.5.11 and 0.13.8).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import csv
import errno
import fcntl
import glob
import os
import re
import shutil

from shlex import quote as _quote

__all__ = ["discard", "drop_new_lock", "empty_again", "existing_ancestor", "foreign_entries", "is_mount_point", "lock_mark",
           "make_parents", "pin_activate", "same_filesystem", "staging_path", "swap_in"]

# The line of uv's relocatable ``bin/activate`` that sets VIRTUAL_ENV from the script's own path.
_ACTIVATE_LINE = "VIRTUAL_ENV=''\"$(dirname -- \"$(dirname -- \"$(realpath -- \"$SCRIPT_PATH\")\")\")\"''"


def pin_activate(venv, final):
    """Make ``<venv>/bin/activate`` fall back to ``final`` where the shell cannot say where the script is
    (POSIX ``sh``); its mode is kept. Returns whether the line was found (the file is left alone if not)."""
    activate = os.path.join(venv, "bin", "activate")
    try:
        with open(activate) as handle:
            lines = handle.read().split("\n")
    except (IOError, OSError, UnicodeDecodeError):
        return False
    for at, line in enumerate(lines):
        if line.strip() == _ACTIVATE_LINE:
            lines[at] = 'if [ -n "${SCRIPT_PATH:-}" ]; then %s; else VIRTUAL_ENV=%s; fi' % (_ACTIVATE_LINE, _quote(final))
            with open(activate, "w") as handle:  # the same file: its mode stays
                handle.write("\n".join(lines))
            return True
    return False


def same_filesystem(one, other):
    """Whether ``one`` and ``other`` (or, when it does not exist yet, its nearest existing parent) share a filesystem."""
    while other and not os.path.exists(other) and os.path.dirname(other) != other:
        other = os.path.dirname(other)
    try:
        return os.stat(one).st_dev == os.stat(other).st_dev
    except OSError:
        return True


def lock_mark(venv):
    """What ``drop_new_lock`` needs to undo uv's ``<venv>/.lock``: ``None`` when it exists already (or
    ``venv`` is no directory), else the directory's times."""
    if os.path.lexists(os.path.join(venv, ".lock")) or not os.path.isdir(venv):
        return None
    info = os.stat(venv)
    return info.st_atime_ns, info.st_mtime_ns


def drop_new_lock(venv, mark):
    """Remove the ``.lock`` that uv (every release since 0.8 at least) makes in an environment even for
    ``--dry-run``, when ``lock_mark`` saw none, and give the directory its times back; only while no
    one holds the lock (another uv working there keeps its lock file). Never fails."""
    if mark is None:
        return
    lock = os.path.join(venv, ".lock")
    try:
        handle = os.open(lock, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.unlink(lock)
        os.utime(venv, ns=mark)
    except (IOError, OSError):
        pass
    finally:
        os.close(handle)


# What the top level of an environment holds (uv, venv, virtualenv; Windows spellings; share/etc of packages;
# pip 9's self-check, pipenv's project link).
_VENV_ENTRIES = frozenset(("bin", "lib", "lib64", "include", "share", "etc", "man", "pyvenv.cfg", ".gitignore", "CACHEDIR.TAG",
                           ".lock", "Scripts", "Include", "Lib", "pip-selfcheck.json", ".project"))


# The folders of an environment that packages and the operator share: below them, a file that no package's RECORD
# lists and that is not one of the environment's own (the interpreter links, the activation scripts) is the
# operator's (a hook in bin/, a configuration under etc/, data under share/), which a recreate would delete.
_SHARED_DIRS = ("bin", "etc", "share", "man", "include", "Scripts")
# What ``uv venv``, ``python -m venv`` and virtualenv write into bin/ themselves.
_OWN_BIN = re.compile(r"^(?:python|pypy|graalpy|activate|deactivate|pydoc|Activate)[\w.+-]*$")


def _installed_paths(venv):
    """The paths, relative to ``venv``, that installed packages own: every entry of their ``RECORD`` files (files in
    site-packages, console scripts in bin/, data files at the environment's root, e.g. ``config/``)."""
    owned = set()
    top = os.path.normpath(venv)
    sites = glob.glob(os.path.join(glob.escape(venv), "lib*", "*", "site-packages"))  # python3.X, pypy3.X
    # a wheel's RECORD (paths from site-packages), setuptools' installed-files.txt (paths from the .egg-info)
    lists = [(r, os.path.dirname(os.path.dirname(r))) for site in sites
             for r in glob.glob(os.path.join(glob.escape(site), "*.dist-info", "RECORD"))]
    lists += [(r, os.path.dirname(r)) for site in sites
              for r in glob.glob(os.path.join(glob.escape(site), "*.egg-info", "installed-files.txt"))]
    for listed, base in lists:
        try:
            with open(listed, "r") as handle:
                rows = list(csv.reader(handle))
        except (IOError, OSError, ValueError, csv.Error, UnicodeError):
            continue
        for row in rows:
            if not row or not row[0]:
                continue
            rel = os.path.relpath(os.path.normpath(os.path.join(base, row[0])), top)
            if rel != os.curdir and not rel.startswith(os.pardir):
                owned.add(rel)
    return owned


def _environments_own(venv, folder, root, name):
    """Whether ``root/name`` below ``venv/folder`` is the environment's own: the interpreter links and activation
    scripts in bin/, a script setuptools wrote there (``setup.py install``/``develop``: no list names it), the link
    to the system's headers in include/ (virtualenv before 20)."""
    full = os.path.join(root, name)
    if folder == "include" and root == os.path.join(venv, folder):
        return name.startswith("python") and os.path.islink(full)
    if folder not in ("bin", "Scripts") or root != os.path.join(venv, folder):
        return False
    if _OWN_BIN.match(name):
        return True
    try:
        with open(full, "rb") as handle:
            head = handle.read(1024)
    except (IOError, OSError):
        return False
    return b"EASY-INSTALL-" in head or b"__requires__ = " in head


def _foreign_below(venv, folder, owned, limit=20):
    """The files below ``venv/folder`` that are the operator's (see ``_SHARED_DIRS``), at most ``limit``."""
    found = []
    for root, dirs, files in os.walk(os.path.join(venv, folder)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            rel = os.path.relpath(os.path.join(root, name), venv)
            if rel in owned or _environments_own(venv, folder, root, name):
                continue
            found.append(rel)
            if len(found) >= limit:
                return found
    return found


def foreign_entries(venv):
    """What in ``venv`` no environment holds and no installed package owns: top-level entries (a project made
    with ``python -m venv .``) and the operator's files below bin/, etc/, share/ (``_SHARED_DIRS``). A recreate
    would delete them with the old environment."""
    try:
        top_names = os.listdir(venv)
    except OSError:
        return []
    owned = _installed_paths(venv)
    owned_tops = set(rel.split(os.sep)[0] for rel in owned)
    out = sorted(n for n in top_names if n not in _VENV_ENTRIES and n not in owned_tops)
    for folder in _SHARED_DIRS:
        if folder in top_names and os.path.isdir(os.path.join(venv, folder)) and not os.path.islink(os.path.join(venv, folder)):
            out += _foreign_below(venv, folder, owned)
    return out


def is_mount_point(path):
    """Whether ``path`` is a mount point: another device than its parent, or named in ``/proc/self/mountinfo`` (a bind
    mount of a folder of the same filesystem has its parent's device)."""
    if os.path.ismount(path):
        return True
    try:
        with open("/proc/self/mountinfo", "rb") as handle:
            lines = handle.read().splitlines()
    except (IOError, OSError):
        return False
    for line in lines:
        fields = line.split(b" ")
        if len(fields) > 4:
            point = re.sub(br"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), fields[4])
            if os.fsdecode(point) == path:
                return True
    return False


def staging_path(path):
    """A path beside ``path`` (same parent, hidden, random) that does not exist yet."""
    parent, name = os.path.split(path)
    while True:
        candidate = os.path.join(parent, ".%s.uv-venv-%s" % (name, binascii.hexlify(os.urandom(4)).decode()))
        if not os.path.lexists(candidate):
            return candidate


def existing_ancestor(path):
    """The nearest folder above ``path`` that exists (its parent, when that exists)."""
    above = os.path.dirname(path)
    while not os.path.lexists(above) and os.path.dirname(above) != above:
        above = os.path.dirname(above)
    return above


def make_parents(path, umask):
    """Create the missing parent directories of ``path`` with mode ``0777 & ~umask``."""
    parent = os.path.dirname(path)
    if os.path.isdir(parent):
        return
    above = existing_ancestor(path)
    if not os.path.isdir(above):
        raise OSError(errno.ENOTDIR, "Not a directory (a parent of the path is no directory)", above)
    saved = os.umask(umask)
    try:
        os.makedirs(parent, 0o777)
    finally:
        os.umask(saved)


def discard(path):
    """Remove a temporary build (or an old environment that was swapped out); never fails."""
    if path and os.path.lexists(path):
        shutil.rmtree(path, ignore_errors=True)


def empty_again(path):
    """Remove what a failed build left in a directory that was empty before (it may be a mount point)."""
    for entry in os.listdir(path):
        full = os.path.join(path, entry)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full, ignore_errors=True)
        else:
            os.unlink(full)


def swap_in(stage, path):
    """Put the environment built at ``stage`` at ``path``, replacing what is there (by rename).

    If the second rename fails, the old environment is put back and the error raised.
    """
    old = None
    if os.path.lexists(path):
        old = staging_path(path)
        os.rename(path, old)
    try:
        os.rename(stage, path)
    except OSError:
        if old:
            os.rename(old, path)
        raise
    discard(old)
