# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""uv's configuration file on the host: read it, stage a new one, let uv judge it, put it in place.

PRIVATE API: only for this collection's modules; names may change without notice.
Touches the file system (only ``path``'s directory and the module's temp dir) and runs
the uv binary it is handed; nothing else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import re
import stat
import tempfile

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils._installed import RECEIPT_NAME, find_uv, parse_uv_version

__all__ = [
    "ConfigFileError",
    "DEFAULT_INSTALL_DIR",
    "config_paths",
    "placeholder",
    "read_current",
    "remove_quietly",
    "resolve_uv",
    "stage",
    "tighten_before_replace",
    "uv_version",
    "validate",
]

# uv_install's default install_dir: where its receipt says which uv it put there.
DEFAULT_INSTALL_DIR = "/usr/local/bin"
STAGE_PREFIX = ".uv.toml.pyfleet-"


class ConfigFileError(UvError):
    """The file cannot be read or written, or uv rejects it."""


def _why(exc):
    return exc.strerror or str(exc)


def read_current(path):
    """``(text, mode)`` of the file at ``path``, or ``(None, None)`` when there is none.

    Bytes that are not UTF-8 are read with replacement characters: such a file is
    different from anything this module writes, so it is replaced.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        info = os.stat(path)
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None, None
        raise ConfigFileError("cannot read %s: %s" % (path, _why(exc)))
    if not stat.S_ISREG(info.st_mode):
        raise ConfigFileError("%s is not a regular file" % path)
    return data.decode("utf-8", "replace"), stat.S_IMODE(info.st_mode)


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


def resolve_uv(uv_path, path_env=None, install_dir=None):
    """``(path, how)`` of the uv that validates the file, or ``(None, why not)``.

    An explicit ``uv_path`` must exist. Otherwise the uv that ``uv_install`` recorded
    (a receipt beside ``uv`` in its default ``install_dir``), else the first ``uv``
    on ``PATH``.
    """
    if uv_path:
        if not os.path.isfile(uv_path) or not os.access(uv_path, os.X_OK):
            raise ConfigFileError("uv_path %s is not an executable file" % uv_path)
        return uv_path, "uv_path"
    install_dir = install_dir or DEFAULT_INSTALL_DIR
    candidate = os.path.join(install_dir, "uv")
    if os.path.isfile(os.path.join(install_dir, RECEIPT_NAME)) and os.access(candidate, os.X_OK):
        return candidate, "recorded by uv_install"
    found = find_uv(None, path_env)
    if found:
        return found, "PATH"
    return None, "no uv recorded by uv_install in %s and none on PATH" % install_dir


def uv_version(uv, run):
    """The version ``uv --version`` prints, or ``None``."""
    rc, text = run([uv, "--version"])
    parsed = parse_uv_version(text) if rc == 0 else None
    return parsed["version"] if parsed else None


def validate(uv, staged, shown_as, cache_dir, run):
    """Let ``uv`` read ``staged`` as its only configuration file: ``(ok, error, warnings)``.

    ``uv --config-file <staged> --cache-dir <dir> cache dir`` parses the file exactly as
    uv parses a system uv.toml (unknown keys, wrong types and keys that belong in a
    pyproject.toml are errors) and needs no network, no Python and no project; the
    cache directory is only printed, not created. ``warning:`` lines are uv's warnings
    about the file. In uv's messages the staged name is replaced by ``shown_as``.
    """
    rc, text = run([uv, "--config-file", staged, "--cache-dir", cache_dir, "cache", "dir"])
    # uv names the file as given or relative to its working directory: any spelling ends
    # with the staged file's unique name.
    text = re.sub(r"[^\s`'\"]*" + re.escape(os.path.basename(staged)), lambda _m: shown_as, text or "")
    warnings = []
    for line in text.splitlines():
        if line.startswith("warning: "):
            warnings.append(line[len("warning: "):].strip())
    if rc == 0:
        return True, None, warnings
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("warning: ")
             and line.strip() != cache_dir]
    return False, "\n".join(lines) or "exit code %s" % rc, warnings


def tighten_before_replace(path, new_mode):
    """Before ``path`` is replaced, take from it every permission bit ``new_mode`` lacks.

    ansible-core before 2.17 gives the new file the old file's mode in ``atomic_move``;
    this keeps a file that will hold a password from being readable, even for an
    instant, by anyone the final mode excludes, without opening the old file wider.
    """
    try:
        current = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return
    if current & ~new_mode & 0o7777:
        os.chmod(path, current & new_mode)


def placeholder(path, mode):
    """Create an empty ``path`` with permission bits ``mode``; ``True`` if this call made it.

    ``atomic_move`` gives a file that replaces nothing the default mode of the umask
    (often 0644) until the caller sets the wanted one; replacing an empty file of the
    wanted mode instead, the new content is never readable by more users than ``mode``
    allows.
    """
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode & 0o777)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            return False
        raise ConfigFileError("cannot create %s: %s; nothing was changed" % (path, _why(exc)))
    os.close(handle)
    os.chmod(path, mode & 0o777)  # the umask may have taken bits that were asked for
    return True


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
