# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A uv tool as data: its requirements compared with a request, who owns a file in bin_dir, its
links and packages on disk, and a backup of it while uv replaces it.

PRIVATE API: only for this collection's modules; names may change without notice.
Pure functions of text, small readers that only look at files, and ``protect_receipt``,
the only writer here (``Backup``, ``recover_backup``, ``lock_tool`` are in ``_uv_tool_backup``); nothing runs uv. The receipt is read in ``_uv_tool_receipt``.

Facts checked against the real uv (0.8.0, 0.13.8):

- ``uv tool install`` keeps each tool in ``$UV_TOOL_DIR/<normalized name>/``, a virtual
  environment with ``uv-receipt.toml`` beside its ``pyvenv.cfg``. The receipt's ``[tool]`` table
  holds ``requirements`` (inline tables ``{name, specifier?, extras?, marker?, url?}``; the
  tool first, then each ``--with``), ``python`` (the request as given, absent without
  ``--python``), ``entrypoints`` (``{name, install-path, from}``) and ``[tool.options]``.
- ``uv tool`` has no dry run and no JSON output; ``uv pip install --dry-run --exact`` against the
  tool's environment predicts what ``uv tool install`` changes (it syncs the environment exactly
  to the requirements), and makes no index request when the environment satisfies them.
- ``uv tool install`` refuses an executable it did not link for this tool:
  ``error: Executable already exists: ruff (use `--force` to overwrite)`` (``Executables already
  exist: a, b`` for several), after removing the environment it had just made. A package without
  console scripts ends with ``No executables are provided by package `six`; removing tool``.
- ``UV_TOOL_DIR``, ``UV_TOOL_BIN_DIR`` and ``UV_PYTHON_INSTALL_DIR`` cannot be set in uv.toml.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import stat

from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_text
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._uv_tool_backup import (  # noqa: F401  (re-exported)
    Backup, keep_aside, leads_into, lock_tool, recover, recover_backup, recover_kept, relink, remove_tool, tool_links,
    unlink_leftovers)
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._uv_tool_receipt import (  # noqa: F401  (re-exported)
    RECEIPT, ToolError, canonical_entry, canonical_python, canonical_request, entry_text, parse_toml, read_receipt,
    refuse_credentials)
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._venv import normalize_name, read_pyvenv, requirement_name
from ansible_collections.pyfleet.uv.plugins.module_utils.tools import TOOLS

__all__ = [
    "OFFLINE_HINT",
    "RECEIPT",
    "Backup",
    "ToolError",
    "canonical_python",
    "canonical_request",
    "canonical_entry",
    "collision_message",
    "changed_names",
    "check_bin_dir",
    "collision_names",
    "describe",
    "describe_owner",
    "entry_text",
    "explain_failure",
    "install_args",
    "is_elf",
    "refuse_unowned",
    "keep_aside",
    "link_problems",
    "links_elsewhere",
    "package_diff",
    "reinstall_reason",
    "lock_tool",
    "missing_parent",
    "protect_receipt",
    "no_executables_line",
    "parse_toml",
    "read_receipt",
    "recover",
    "recover_backup",
    "relink",
    "recover_kept",
    "refuse_credentials",
    "refuse_private_python",
    "remove_if_empty",
    "remove_tool",
    "tool_links",
    "tool_requests",
    "tool_summary",
    "unlink_leftovers",
    "unusable_by_others",
]

_COLLISION = re.compile(r"Executables? already exists?: (.+?) \(use `--force`")
_NO_EXECUTABLES = re.compile(r"^No executables are provided by (?:package )?.*$", re.M)
# uv's words for "the index has no such package or version" (uv 0.8 to 0.13).
OFFLINE_HINT = ("\noffline=true: uv used only find_links and its cache, which is this task's own empty directory "
                "unless the system uv.toml sets cache-dir")
_TOOL_DIR_DEBRIS = (".lock", ".gitignore")  # what uv leaves in a tool_dir it made before failing
_NOT_FOUND_HINTS = ("was not found in", "there is no version of", "no versions of", "unsatisfiable")


def tool_requests(name, extra):
    """``(tool name, requirements, canonical requirements)`` of the options ``name`` and ``with``."""
    wanted = [name.strip()] + [w.strip() for w in extra if w and w.strip()]
    for item in wanted:
        if item.startswith("-"):
            raise ToolError("%r is an option, not a requirement" % item)
        refuse_credentials(item)
    canonical = [canonical_request(item) for item in wanted]
    return requirement_name(wanted[0]), wanted, canonical


def install_args(params, wanted, action):
    """The arguments of ``uv tool install`` for the module's ``params`` (index options apart)."""
    args = ["tool", "install", wanted[0]]
    for item in wanted[1:]:
        args += ["--with", item]
    if params["python"]:
        args += ["--python", params["python"]]
    args += ["--upgrade"] if params["state"] == "latest" else []
    args += ["--reinstall"] if action == "reinstall" else []
    return args + (["--force"] if params["force"] else [])


def tool_summary(environment, after, receipt, given):
    """The ``tool`` result: ``{name, version, requested, with, python, environment, executables}``.

    From the receipt when there is one (after a real run), else from the options ``given``
    (check mode); ``after`` is the environment's package list. Credentials are masked.
    """
    receipt = receipt or {}
    name = os.path.basename(environment)
    cfg = read_pyvenv(environment) or {}
    entries = receipt.get("requirements") or []
    base = os.path.join(environment, "bin", "python")
    extras = [entry_text(e) for e in entries[1:]] if entries else list(given["with"])
    return {
        "name": name,
        "version": (after.get(normalize_name(name)) or {}).get("version"),
        "requested": redact_text(entry_text(entries[0]) if entries else given["name"]),
        "with": [redact_text(e) for e in extras],
        "python": dict(version=cfg.get("version_info"), request=receipt.get("python") or given["python"],
                       base=os.path.realpath(base) if os.path.exists(base) else None),
        "environment": environment,
        "executables": [dict(name=p.get("name"), path=p.get("install-path"))
                        for p in receipt.get("entrypoints") or [] if isinstance(p, dict)],
    }


def describe(action, reason, name, before, after, changes, check, tool_dir):
    """The ``msg`` of a run: what was (or would be) done to the tool ``name``, and why."""
    would = "would " if check else ""
    version = (after.get(name) or before.get(name) or {}).get("version", "?")
    if action == "keep":
        return ("%s %s is installed as requested; nothing to do" % (name, version) if after
                else "%s is not installed in %s; nothing to remove" % (name, tool_dir))
    if action == "remove":
        return "%s%s %s %s" % (would, "remove" if check else "removed", name, version)
    done = {"install": "installed", "reinstall": "reinstalled", "update": "updated"}[action]
    parts = ["%s%s %s %s" % (would, action if check else done, name, version)]
    if reason and action != "install":
        parts.append(reason)
    for key, verb in (("installed", "install"), ("upgraded", "upgrade"), ("removed", "remove")):
        if changes[key] and action == "update":
            parts.append("%s%s %s" % (would, verb if check else key, changed_names(changes[key])))
    return "; ".join(parts)


def changed_names(items):
    """``six 1.17.0, ruff 0.16.10 -> 0.17.6`` from ``changes_from_lists`` entries."""
    return ", ".join("%s %s -> %s" % (i["name"], i["from"], i["to"]) if "to" in i else "%s %s" % (i["name"], i["version"])
                     for i in items)


# -- uv's failures ----------------------------------------------------------------------------------

def collision_names(text):
    """The executables uv refused to overwrite, from its ``Executable already exists`` error."""
    match = _COLLISION.search(text or "")
    return [n.strip() for n in match.group(1).split(",") if n.strip()] if match else []


def no_executables_line(text):
    """uv's ``No executables are provided by package ...`` line, or ``None``."""
    match = _NO_EXECUTABLES.search(text or "")
    return match.group(0).strip() if match else None


def explain_failure(msg, output, name, bin_dir, tool_dir, where):
    """``msg`` (uv's failure, from ``failure_message``) with what it means for the tool ``name``.

    ``output`` is uv's whole output (some lines that matter are not on stderr); ``where`` says which
    indexes were asked (credentials masked), for a package that was not found.
    """
    names = collision_names(output)
    if names:
        return "%s\n%s" % (collision_message([os.path.join(bin_dir, n) for n in names], name, tool_dir), msg)
    line = no_executables_line(output)
    if line:
        return ("%s: %s is not a command-line tool (it has no console scripts); install it into a virtual "
                "environment with pyfleet.uv.uv_venv, or add it to a tool with 'with'.\n%s" % (line, name, msg))
    if any(hint in msg for hint in _NOT_FOUND_HINTS):
        return "%s\nindexes asked: %s" % (msg, where)
    return msg


def collision_message(paths, name, tool_dir, absent=False):
    """Why executables in bin_dir (``paths``) stop the tool ``name`` (its removal with ``absent``),
    naming who put each there."""
    owners = "; ".join("%s exists and was not linked by uv for %s: %s" % (p, name, describe_owner(p, tool_dir))
                       for p in paths)
    if absent:
        return ("%s. Nothing was removed: uv tool uninstall would delete it; move it away first, or set force=true "
                "to remove the tool and keep that file." % owners)
    return "%s. Nothing was changed: remove it, choose another bin_dir, or set force=true to overwrite it." % owners


# -- the tool's files: its links in bin_dir, its packages, a backup while uv replaces it ------------

def link_problems(receipt, environment):
    """``(missing, taken)``: the receipt's executables that are gone, and those another file took over."""
    missing, taken = [], []
    for entry in receipt.get("entrypoints") or []:
        path = entry.get("install-path") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not path:
            continue
        if not os.path.lexists(path):
            missing.append(path)
        elif not (os.path.islink(path) and leads_into(path, environment)):
            taken.append(path)
    return missing, taken


def reinstall_reason(receipt, environment, bin_dir, python, force, tool_dir):
    """Why the installed tool (its ``receipt``) must be reinstalled whatever uv's plan, or ``None``:
    another ``python`` asked for, its Python gone, its links in another directory, one missing or
    taken over (with ``force``; without it, ``ToolError`` naming the file's owner)."""
    if python and canonical_python(receipt.get("python")) != canonical_python(python):
        return "python %s was asked for; the tool was installed with %s" % (python, receipt.get("python") or "uv's default Python")
    if not os.path.exists(os.path.join(environment, "bin", "python")):
        return "the Python of %s is gone" % environment
    elsewhere = links_elsewhere(receipt, bin_dir)
    if elsewhere:
        return "the executables are linked in %s; bin_dir is %s" % (", ".join(elsewhere), bin_dir)
    missing, taken = link_problems(receipt, environment)
    if taken and not force:
        raise ToolError(collision_message(taken, os.path.basename(environment), tool_dir))
    return "; ".join(["%s is missing" % p for p in missing] + ["%s was taken over and force=true" % p for p in taken]) or None


def links_elsewhere(receipt, bin_dir):
    """The directories other than ``bin_dir`` where the receipt says the tool's executables are linked."""
    found = []
    for entry in (receipt or {}).get("entrypoints") or []:
        path = entry.get("install-path") if isinstance(entry, dict) else None
        if isinstance(path, str) and path:
            directory = os.path.dirname(os.path.abspath(path))
            if os.path.realpath(directory) != os.path.realpath(bin_dir) and directory not in found:
                found.append(directory)
    return found


def package_diff(environment, before, after):
    """The ``diff`` of a run: the environment's packages before and after, one ``name==version`` a line."""
    def lines(packages):
        return "".join("%s==%s\n" % (v["name"], v["version"]) for _k, v in sorted(packages.items()))
    header = "%s (packages)" % environment
    return dict(before_header=header, after_header=header, before=lines(before), after=lines(after))


def protect_receipt(environment, check=False):
    """Make ``uv-receipt.toml`` readable by its owner only when it holds a URL's user info (uv 0.8
    records the user name of an index URL); running the tool never reads it. Whether its mode
    changed (with ``check``, would change). Called on every run, a no-op included: a run killed
    between uv's install and this chmod left the receipt readable by every user."""
    path = os.path.join(environment, RECEIPT)
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
        mode = stat.S_IMODE(os.lstat(path).st_mode)
    except (IOError, OSError):
        return False
    if redact_text(text) == text or not mode & 0o077:
        return False
    if not check:
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return True


def missing_parent(path):
    """The highest directory of ``path`` (itself included) that does not exist yet, or ``None``."""
    top = None
    while not os.path.lexists(path):
        top, path = path, os.path.dirname(path)
    return top


def remove_if_empty(directory, name):
    """Remove ``directory`` (made by a failed first install of the tool ``name``) if it holds only folders,
    uv's lock files and this tool's lock: another tool's lock there may be held by a run of that tool."""
    for _dirpath, _dirs, files in os.walk(directory):
        if set(files) - set(_TOOL_DIR_DEBRIS) - set([".%s.pyfleet-lock" % name]):
            return
    shutil.rmtree(directory, ignore_errors=True)


# -- files that others must be able to use ----------------------------------------------------------

def describe_owner(path, tool_dir):
    """Who put ``path`` (a file in bin_dir) there, in words, as far as this host tells.

    A binary of this collection's ``uv_install``/``ruff_install``/``ty_install`` (its receipt
    beside it), a link uv made for another tool, another link, or a file and its owning user.
    """
    directory, name = os.path.split(path)
    for tool in sorted(TOOLS.values(), key=lambda t: t.name):
        if name in tool.binaries and os.path.isfile(os.path.join(directory, tool.receipt)):
            return "placed by pyfleet.uv.%s_install (its receipt %s is beside it)" % (
                tool.name, os.path.join(directory, tool.receipt))
    try:
        info = os.lstat(path)
    except OSError:
        return "gone"
    if stat.S_ISLNK(info.st_mode):
        target = os.readlink(path)
        # Where the link leads in the end (through links to links, and a tool_dir reached by a link).
        inside = os.path.relpath(os.path.realpath(path), os.path.realpath(tool_dir))
        if not inside.startswith(os.pardir):
            return "linked by uv for the tool %s (a link to %s)" % (inside.split(os.sep)[0], target)
        return "a symbolic link to %s, owned by user %s" % (target, _user(info.st_uid))
    return "a file owned by user %s" % _user(info.st_uid)


def check_bin_dir(bin_dir):
    """``ToolError`` unless ``bin_dir`` is a directory this user may link executables in."""
    if not os.path.isdir(bin_dir):
        raise ToolError("bin_dir %s does not exist (or is not a directory): create it first (ansible.builtin.file) "
                        "or choose another bin_dir" % bin_dir)
    if not os.access(bin_dir, os.W_OK | os.X_OK):
        raise ToolError("bin_dir %s is not writable by %s: run the task with become, or choose another bin_dir"
                        % (bin_dir, _user(os.geteuid())))


def _user(uid):
    try:
        import pwd  # pylint: disable=import-outside-toplevel
        return "%s (uid %d)" % (pwd.getpwuid(uid).pw_name, uid)
    except (ImportError, KeyError):
        return "uid %d" % uid


# What uv leaves in a tool's folder before or without its receipt (a half-made environment).
_UV_DEBRIS = frozenset(("CACHEDIR.TAG", ".lock", ".gitignore", "bin", "lib", "lib64", "pyvenv.cfg"))


def refuse_unowned(environment):
    """Fails unless the receipt-less folder ``environment`` is uv's (its pyvenv.cfg names uv, or it holds
    only what uv makes first): anything else there is somebody's, never removed nor replaced."""
    try:
        names = set(os.listdir(environment))
    except OSError:
        return
    if "uv" in (read_pyvenv(environment) or {}) or names <= _UV_DEBRIS:
        return
    raise ToolError("%s is not a uv tool environment (no uv-receipt.toml, and uv did not make it: it holds %s); "
                    "nothing was changed: move it away, or choose another tool_dir"
                    % (environment, ", ".join(sorted(names - _UV_DEBRIS)[:5])))


def is_elf(path):
    """Whether ``path`` is an executable file itself (not a script that runs another interpreter)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except (IOError, OSError):
        return False


def refuse_private_python(found, request, python_install_dir):
    """``ToolError`` unless ``found`` (the Python uv found for ``request``) is usable by every user."""
    why = unusable_by_others(found) if found else "uv found none"
    if why:
        raise ToolError("the tool's Python %s (python: %s) is not usable by every user: %s. Give python a "
                        "system interpreter (e.g. /usr/bin/python3) or a uv-managed Python that "
                        "pyfleet.uv.uv_python installed in python_install_dir (%s)"
                        % (found or "?", request or "not set, uv's default", why, python_install_dir))


def unusable_by_others(path):
    """Why users other than its owner cannot run ``path`` (an interpreter), or ``None``.

    Every directory on the way to the real file must be searchable by others (``o+x``), the
    file readable and executable by them: a Python in root's home (``/root`` is 0700) is not
    (uv issue 13309).
    """
    real = os.path.realpath(path)
    head = os.path.dirname(real)
    dirs = []
    while True:
        dirs.append(head)
        parent = os.path.dirname(head)
        if parent == head:
            break
        head = parent
    for directory in reversed(dirs):
        try:
            mode = os.stat(directory).st_mode
        except OSError as exc:
            return "%s cannot be read (%s)" % (directory, exc.strerror or exc)
        if not mode & stat.S_IXOTH:
            return "%s is mode %04o: other users cannot enter it" % (directory, stat.S_IMODE(mode))
    try:
        mode = os.stat(real).st_mode
    except OSError as exc:
        return "%s cannot be read (%s)" % (real, exc.strerror or exc)
    if (mode & (stat.S_IROTH | stat.S_IXOTH)) != (stat.S_IROTH | stat.S_IXOTH):
        return "%s is mode %04o: other users cannot run it" % (real, stat.S_IMODE(mode))
    return None
