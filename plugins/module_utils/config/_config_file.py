# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""uv's configuration file on the host: read it, stage a new one, let uv judge it, put it in place.

PRIVATE API: only for this collection's modules; names may change without notice.
Touches the file system (only ``path``'s directory and the module's temp dir); uv is run
through the ``run`` callable the module hands in (the collection's one runner, ``_uv_runner``).

How a file is put in place: the new text is staged beside ``path`` in a private file,
which gets its final mode, owner and group *before* it is renamed over ``path``; so the
new bytes are never readable by more users than the final mode allows, and a failure
(an unknown group, a refused chown) leaves the old file as it was. ``path`` itself is
never followed when it is a symbolic link: the link is refused, its target never read,
changed or shown. Directories are made 0755 whatever the umask, since uv, run by any user,
must be able to reach the system file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import grp
import os
import pwd
import re
import stat
import tempfile

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils._probe import missing_dirs

__all__ = [
    "ConfigFileError",
    "DIRECTORY_MODE",
    "config_paths",
    "make_dirs",
    "prepare",
    "read_current",
    "remove_dirs",
    "remove_quietly",
    "resolve_group",
    "resolve_owner",
    "stage",
    "validate",
]

STAGE_PREFIX = ".uv.toml.pyfleet-"
# Directories this module creates: uv reads the system file as whichever user runs it.
DIRECTORY_MODE = 0o755


class ConfigFileError(UvError):
    """The file cannot be read or written, or uv rejects it."""


def _why(exc):
    return exc.strerror or str(exc)


def read_current(path):
    """``(text, info)`` of the file at ``path`` (``info`` its ``os.lstat``), or ``(None, None)``.

    A symbolic link at ``path`` is refused, never followed: its target is someone else's
    file, and reading it would show it in the diff, replacing or chmodding it would change
    it. Bytes that are not UTF-8 are read with replacement characters: such a file is
    different from anything this module writes, so it is replaced.
    """
    try:
        info = os.lstat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None, None
        raise ConfigFileError("cannot read %s: %s" % (path, _why(exc)))
    if stat.S_ISLNK(info.st_mode):
        raise ConfigFileError(
            "%s is a symbolic link; uv_config writes a regular file and never follows a link (its target is "
            "neither read, changed nor shown): remove the link (ansible.builtin.file with state=absent) or give "
            "the file it points to as path; nothing was changed" % path)
    if stat.S_ISDIR(info.st_mode):
        raise ConfigFileError("cannot read %s: Is a directory" % path)
    if not stat.S_ISREG(info.st_mode):
        raise ConfigFileError("%s is not a regular file" % path)
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(handle, "rb") as opened:
            data = opened.read()
    except (IOError, OSError) as exc:
        raise ConfigFileError("cannot read %s: %s" % (path, _why(exc)))
    return data.decode("utf-8", "replace"), info


def resolve_owner(owner):
    """The uid of ``owner`` (a user name or a number), ``None`` when not given.

    Resolved before anything is written, so that an unknown user fails with nothing changed.
    """
    if owner is None or owner == "":
        return None
    try:
        return pwd.getpwnam(owner).pw_uid
    except KeyError:
        if str(owner).isdigit():
            return int(owner)
    raise ConfigFileError("owner %r does not exist on this host (give a user name or a numeric uid); "
                          "nothing was changed" % owner)


def resolve_group(group):
    """The gid of ``group`` (a group name or a number), ``None`` when not given."""
    if group is None or group == "":
        return None
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        if str(group).isdigit():
            return int(group)
    raise ConfigFileError("group %r does not exist on this host (give a group name or a numeric gid); "
                          "nothing was changed" % group)


def make_dirs(directory, mode=DIRECTORY_MODE):
    """Create ``directory`` and its missing parents with permission bits ``mode`` (not the umask's).

    Returns the directories created, outermost first (for ``remove_dirs``). Under a
    hardened umask (027) ``os.makedirs`` would give 0750, and uv, run by another user,
    would silently skip the file below.
    """
    created = []
    for path in missing_dirs(directory):
        try:
            os.mkdir(path, mode)
            created.append(path)
            os.chmod(path, mode)  # the umask took bits that were asked for
        except OSError as exc:
            remove_dirs(created)
            raise ConfigFileError("cannot create %s: %s; nothing was changed" % (path, _why(exc)))
    return created


def remove_dirs(created):
    """Remove the (still empty) directories ``make_dirs`` created, innermost first."""
    for path in reversed(created or []):
        try:
            os.rmdir(path)
        except OSError:
            pass


def prepare(staged, mode, uid=None, gid=None):
    """Give the staged file its final permission bits, owner and group, before it is renamed.

    ``uid``/``gid`` ``None`` keep what the file has. Raises ``ConfigFileError`` (the
    caller removes the staged file; the file in place is untouched).
    """
    try:
        os.chmod(staged, mode & 0o7777)
        info = os.stat(staged)
        uid = info.st_uid if uid is None else uid
        gid = info.st_gid if gid is None else gid
        if (uid, gid) != (info.st_uid, info.st_gid):
            os.chown(staged, uid, gid)
    except OSError as exc:
        raise ConfigFileError("cannot give the new file mode %04o, owner %s and group %s: %s; nothing was changed"
                              % (mode & 0o7777, uid, gid, _why(exc)))


def stage(directory, text):
    """Write ``text`` to a new private (0600) file in ``directory``; returns its path.

    The caller removes it (or renames it into place). Fails with the reason when the
    directory cannot take a file (read-only file system, permission, full disk).
    """
    try:
        handle, path = tempfile.mkstemp(prefix=STAGE_PREFIX, suffix=".toml", dir=directory)
    except (IOError, OSError) as exc:
        raise ConfigFileError("cannot create a file in %s: %s; nothing was changed" % (directory, _why(exc)))
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode("utf-8"))
    except (IOError, OSError) as exc:
        remove_quietly(path)
        raise ConfigFileError("cannot write %s: %s; nothing was changed" % (path, _why(exc)))
    return path


def remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def validate(run, staged, shown_as, cache_dir):
    """Let uv read ``staged`` as its only configuration file: ``(rc, stdout, stderr, warnings)``.

    ``run(args) -> (rc, stdout, stderr)`` runs uv with ``args``. ``uv --config-file <staged>
    --cache-dir <dir> cache dir`` parses the file exactly as uv parses a system uv.toml (unknown
    keys, wrong types and keys that belong in a pyproject.toml are errors) and needs no network,
    no Python and no project; the cache directory is only printed, not created. ``warnings``
    are uv's ``warning:`` lines. In uv's output the staged name is replaced by ``shown_as``.
    """
    rc, out, err = run(["--config-file", staged, "--cache-dir", cache_dir, "cache", "dir"])
    # uv names the file as given or relative to its working directory: any spelling ends
    # with the staged file's unique name.
    out, err = [re.sub(r"[^\s`'\"]*" + re.escape(os.path.basename(staged)), lambda _m: shown_as, text or "")
                for text in (out, err)]
    warnings = [line[len("warning: "):].strip() for line in (out + "\n" + err).splitlines()
                if line.startswith("warning: ")]
    return rc, out, err, warnings


def config_paths(environ=None):
    """The configuration files uv would consider on this host for this user, in its order.

    ``[{"path", "scope", "exists", "used"}]``: first the system candidates, each
    ``$XDG_CONFIG_DIRS`` entry's ``uv/uv.toml`` (``/etc/xdg`` when the variable is unset or
    empty; uv stops at an empty entry), then ``/etc/uv/uv.toml``; uv uses the first that
    exists (``used``). Then the user file, ``$XDG_CONFIG_HOME/uv/uv.toml`` or
    ``~/.config/uv/uv.toml``, which uv reads on top of the system one (crates/uv-dirs).
    """
    environ = os.environ if environ is None else environ
    out = []
    for directory in (environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":"):
        if not directory:
            break
        out.append({"path": os.path.join(directory, "uv", "uv.toml"), "scope": "system"})
    out.append({"path": "/etc/uv/uv.toml", "scope": "system"})
    home = environ.get("XDG_CONFIG_HOME") or ""
    if not os.path.isabs(home):
        home = os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".config")
    out.append({"path": os.path.join(home, "uv", "uv.toml"), "scope": "user"})
    system_used = False
    for entry in out:
        entry["exists"] = os.path.isfile(entry["path"])
        if entry["scope"] == "system":
            entry["used"] = entry["exists"] and not system_used
            system_used = system_used or entry["exists"]
        else:
            entry["used"] = entry["exists"]
    return out
