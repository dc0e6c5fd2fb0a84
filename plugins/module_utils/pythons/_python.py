# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""uv's managed Pythons: read what uv lists, plan each request, report; pure but for reading links and venvs.

PRIVATE API: only for this collection's modules; names may change without notice.
This file takes text and data (``parse_list``, ``decide``, ``report_items``) and reads only
symbolic links and ``pyvenv.cfg`` files (``link_problem``, ``venvs_using``); uv itself is run by
``_python_uv`` through the collection's one runner (``_uv_runner``).

Facts checked against the real uv binaries (0.8.0 and 0.13.8; see the unit test fixtures):

- ``uv python list --only-installed --managed-python --output-format json [REQUEST]`` prints
  one JSON list with ``key`` (``cpython-3.12.7-linux-x86_64-gnu``), ``version``,
  ``implementation``, ``variant``, ``os``, ``arch``, ``libc`` and ``path``; it reads no
  downloads JSON and makes no request. uv 0.5.11 has no ``--output-format``: the module
  needs uv 0.8.0 or newer (the first with a stable bin directory and ``--managed-python``).
- Paths in that list are shown relative to the working directory when they are below it,
  so uv runs with ``cwd=/``.
- ``uv python install`` names each install ``<key>``; from 0.10 (seen in 0.13.8) it also
  keeps a minor-version link ``cpython-3.12-linux-x86_64-gnu`` pointing at the newest patch,
  and the ``python3.12`` link in the bin directory points through it. ``--no-bin`` skips the
  bin directory (without it and without ``UV_PYTHON_BIN_DIR`` uv links into ``~/.local/bin``).
  ``--default`` adds ``python3`` and ``python`` and needs no download when the version is
  installed; an install of an installed key recreates missing links without a download.
- ``python-downloads-json-url`` replaces uv's built-in list of downloads. uv 0.8.0 reads only
  a local path ("Remote Python downloads JSON is not yet supported, please use a local
  path"); 0.13.8 also reads http(s). Entry URLs may be ``file://``. A file:// (or http)
  ``python-install-mirror`` is asked for ``<mirror>/<build tag>/<file name>``, and the
  archive is checked against the sha256 built into uv.
- With a ``python-install-mirror`` (the option, ``UV_PYTHON_INSTALL_MIRROR`` or a uv.toml), uv
  takes a downloads JSON entry only from below GitHub's python-build-standalone release folder,
  which it replaces with the mirror; any other entry URL (a ``file://`` one too, even below the
  mirror) is refused: "A mirror was provided via `UV_PYTHON_INSTALL_MIRROR`, but the URL does not
  match the expected format" (0.8.0, 0.9.30, 0.13.8; 0.13.8 refuses it already in
  ``python list --only-downloads``). The environment variable wins over uv.toml.
- ``python list --only-downloads --show-urls`` prints the GitHub URL with a mirror set in 0.8.0,
  the mirrored URL (a password shown as ``****``) in 0.9.30 and 0.13.8.
- With ``--bin``, 0.13.8 points ``python3.X`` through its minor-version link at the newest patch;
  installing an older patch (again) leaves an existing link alone, and only recreates a missing
  one (then to the older patch itself). 0.8.0 has no minor link and points ``python3.X`` at the
  patch it installs last.
- uv reads the system configuration (``/etc/uv/uv.toml``) and the user's (``~/.config/uv/uv.toml``):
  the runner's private ``HOME`` keeps the system file that ``uv_config`` writes and drops the user's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError

__all__ = [
    "PythonError",
    "best",
    "check_options",
    "decide",
    "describe",
    "filter_downloads",
    "link_problem",
    "parse_list",
    "parse_request",
    "plan_items",
    "previous_of",
    "read_pyvenv_home",
    "report_diff",
    "report_items",
    "request_filter",
    "series_of",
    "summary",
    "venvs_of",
    "venvs_using",
    "version_tuple",
]

# uv's request forms that the module passes on: a version (3, 3.12, 3.12.7, 3.13t, 3.14.0rc2), an
# implementation uv knows with or without a version (cpython@3.13, pypy@3.10, cpython3.12, pypy), or a key.
_IMPLEMENTATIONS = "cpython|pypy|graalpy|pyodide|cp|pp|gp"
_REQUEST_RE = re.compile(r"^(?:(?:%s)@?)?\d+(?:\.\d+){0,2}[a-z0-9+]*$|^(?:%s)$" % (_IMPLEMENTATIONS, _IMPLEMENTATIONS))
# uv's short implementation names, as the downloads JSON spells them (``name``).
_SHORT_NAMES = {"cp": "cpython", "pp": "pypy", "gp": "graalpy"}
_KEY_RE = re.compile(r"^[a-z]+-\d+\.\d+\.\d+[a-z0-9+]*-[a-z0-9_]+-[a-z0-9_]+-[a-z0-9_]+$")


class PythonError(UvError):
    """uv could not list, install or remove a Python; the message quotes uv."""


def parse_request(request):
    """Check one Python request as uv takes it; returns it stripped, or raises ``PythonError``.

    Accepted: ``3``, ``3.12``, ``3.12.7``, ``cpython@3.13``, ``pypy@3.10``, ``cpython3.12``,
    ``3.13t`` and a full key ``cpython-3.12.7-linux-x86_64-gnu``. uv decides what each matches.
    """
    text = str(request if request is not None else "").strip()
    if _KEY_RE.match(text) or _REQUEST_RE.match(text):
        return text
    raise PythonError("%r is not a Python request uv_python takes: give a version (3.12, 3.12.7), "
                      "an implementation and version (cpython@3.13, pypy@3.10) or a full key "
                      "(cpython-3.12.7-linux-x86_64-gnu)" % (request,))


def check_options(params):
    """The requests of uv_python's options, checked with the options that go together; ``PythonError`` if not."""
    requests = [parse_request(r) for r in params["version"]]
    if not requests:
        raise PythonError("version lists no Python")
    for name in ("install_dir", "bin_dir"):
        if params[name] and not os.path.isabs(params[name]):
            raise PythonError("%s must be an absolute path, got %s" % (name, params[name]))
    if params["default"] and not params["bin_dir"]:
        raise PythonError("default=true links python3 and python in bin_dir: set bin_dir")
    if (params["download_on"] == "controller" and params["state"] != "absent" and not params["plan_only"]
            and params["local_downloads"] is None and not params["local_mirror"]):
        raise PythonError("download_on=controller needs the collection's action plugin; call the module as "
                          "pyfleet.uv.uv_python (not through a module path)")
    return requests


def parse_list(text):
    """The entries of ``uv python list --output-format json``: a list of dicts.

    Each has ``key``, ``version``, ``implementation``, ``variant``, ``os``, ``arch``,
    ``libc``, ``path`` (``None`` for downloads) and ``url`` (``None`` for installs).
    """
    try:
        data = json.loads(text or "")
    except ValueError as exc:
        raise PythonError("uv python list printed no JSON (%s): %s" % (exc, _quote(text)))
    if not isinstance(data, list):
        raise PythonError("uv python list printed %s, not a list: %s" % (type(data).__name__, _quote(text)))
    entries = []
    for item in data:
        if not isinstance(item, dict) or not item.get("key") or not item.get("version"):
            continue
        entries.append(dict(
            key=item["key"], version=item["version"], implementation=item.get("implementation"),
            variant=item.get("variant"), os=item.get("os"), arch=item.get("arch"), libc=item.get("libc"),
            path=item.get("path"), url=item.get("url")))
    return entries


def version_tuple(version):
    """A sortable tuple of a Python version such as ``3.12.7`` or ``3.14.0rc2``."""
    parts = []
    for piece in re.split(r"[.+]", version or ""):
        match = re.match(r"^(\d+)(.*)$", piece)
        if match:
            parts.append((int(match.group(1)), match.group(2) or "~"))
        else:
            parts.append((-1, piece))
    return tuple(parts)


def describe(entry, request=None):
    """The ``installed`` item the module returns for one listed entry."""
    key = entry["key"]
    platform = key.split("-", 2)[2] if key.count("-") >= 2 else None
    return dict(request=request, key=key, target=platform, version=entry["version"],
                implementation=entry.get("implementation"), variant=entry.get("variant"),
                path=entry.get("path"), arch=entry.get("arch"), libc=entry.get("libc"))


def _quote(text, limit=1500):
    text = (text or "").strip()
    lines = [line for line in text.splitlines()
             if line.strip() and "is not on your PATH" not in line and "--preview-features" not in line]
    text = "\n".join(lines)
    return text if len(text) <= limit else text[:limit] + " [...]"


def read_pyvenv_home(path):
    """The ``home`` of a ``pyvenv.cfg``, or ``None``."""
    try:
        with open(path) as handle:
            for line in handle:
                key, sep, value = line.partition("=")
                if sep and key.strip().lower() == "home":
                    return value.strip()
    except (IOError, OSError, UnicodeDecodeError):
        return None
    return None


def venvs_using(roots, python_dirs, max_depth=4):
    """``{python dir: [venv dirs]}``: the venvs under ``roots`` whose interpreter lives in one of ``python_dirs``.

    A venv's ``pyvenv.cfg`` names the ``home`` its interpreter comes from; it is resolved
    (through uv's minor-version link) and compared with each resolved Python directory.
    """
    resolved = dict((os.path.realpath(d), d) for d in python_dirs)
    found = dict((d, []) for d in python_dirs)
    for root in roots or []:
        root = os.path.abspath(root)
        base_depth = root.rstrip(os.sep).count(os.sep)
        for current, dirs, files in os.walk(root):
            if current.count(os.sep) - base_depth >= max_depth:
                dirs[:] = []
            if "pyvenv.cfg" not in files:
                continue
            dirs[:] = []  # a venv's own tree holds no further venvs worth reading
            home = read_pyvenv_home(os.path.join(current, "pyvenv.cfg"))
            if not home:
                continue
            real = os.path.realpath(home)
            for real_dir, python_dir in resolved.items():
                if real == real_dir or real.startswith(real_dir.rstrip(os.sep) + os.sep):
                    found[python_dir].append(current)
    return dict((k, v) for k, v in found.items() if v)


def venvs_of(roots, install_dir, steps):
    """``{key: [venv dirs]}``: the venvs under ``roots`` that use an installed Python the steps name."""
    dirs = dict((os.path.join(install_dir, e["key"]), e["key"]) for step in steps for e in step["installed"])
    found = venvs_using(roots, list(dirs)) if roots else {}
    return dict((dirs[d], sorted(v)) for d, v in found.items())


def series_of(entry):
    """What makes two installed Pythons patches of one series (uv shares one minor link between them)."""
    version = re.findall(r"\d+", entry.get("version") or "")[:2]
    return (entry.get("implementation"), tuple(version), entry.get("variant"), entry.get("os"), entry.get("arch"),
            entry.get("libc"))


def link_problem(entry, bin_dir, default=False, installed=None):
    """Why the bin links of an installed ``entry`` are not as wanted, or ``None`` (reads links only).

    uv names the link after the interpreter (``python3.12``, ``python3.13t``); with ``default``
    ``python3`` and ``python`` must lead to the same interpreter too.

    ``installed`` (every managed Python that uv lists) lets a link lead to a *newer* patch of
    the entry's series: uv 0.10 and newer point ``python3.X`` (and ``python3``, ``python``) through
    its minor-version link at the newest installed patch and do not move it back when an older
    patch is installed or installed again, so an exact older patch is satisfied without the link.
    """
    if not bin_dir or not entry.get("path"):
        return None
    target = os.path.realpath(entry["path"])
    accepted = set([target])
    mine = series_of(entry)
    for other in installed or []:
        if other.get("path") and series_of(other) == mine \
                and version_tuple(other["version"]) > version_tuple(entry["version"]):
            accepted.add(os.path.realpath(other["path"]))
    names = [os.path.basename(entry["path"])] + (["python3", "python"] if default else [])
    for name in names:
        link = os.path.join(bin_dir, name)
        if not os.path.lexists(link):
            return "%s is missing" % link
        if os.path.realpath(link) not in accepted:
            return "%s leads to %s, not %s" % (link, os.path.realpath(link), target)
    return None


def decide(state, request, installed, newest=None, links=None):
    """What one request needs: ``(action, reason, entry)``; pure.

    ``installed``: the managed Pythons uv lists for the request; ``newest``: the newest
    download uv offers for it (only ``latest`` needs one); ``links``: ``link_problem`` of
    the entry that satisfies the request. ``action`` is ``none``, ``install`` (a download),
    ``relink`` (installed, links missing; no download) or ``uninstall``.
    """
    ordered = sorted(installed, key=lambda e: version_tuple(e["version"]), reverse=True)
    best = ordered[0] if ordered else None
    if state == "absent":
        if not ordered:
            return "none", "no installed Python matches %s" % request, None
        return "uninstall", "installed: %s" % ", ".join(e["key"] for e in ordered), best
    if state == "latest":
        if newest is None:
            raise PythonError("no download matches %s on this host: uv lists none (check "
                              "python_downloads_json_url or the request)" % request)
        if not any(e["version"] == newest["version"] and e.get("implementation") == newest.get("implementation")
                   for e in ordered):
            if best:
                return "install", "%s is installed, the newest is %s" % (best["version"], newest["version"]), newest
            return "install", "no installed Python matches %s; the newest is %s" % (request, newest["version"]), newest
        best = [e for e in ordered if e["version"] == newest["version"]][0]
    elif best is None:
        return "install", "no installed Python matches %s" % request, None
    if links:
        return "relink", links, best
    return "none", "%s is installed" % best["key"], best


def request_filter(request):
    """``(implementation, version parts, freethreaded)`` a downloads JSON entry must match, or ``None`` (keep all).

    A loose, conservative reading used only to shorten the downloads JSON the controller hands
    to a host; uv on the host makes the real choice among what is left.
    """
    key = _KEY_RE.match(request)
    if key:
        name, version = request.split("-")[:2]
        return name, tuple(re.findall(r"\d+", version)[:3]), None
    match = re.match(r"^(?:([a-z]+)@?)?(\d+(?:\.\d+){0,2})([a-z0-9+]*)$", request)
    if not match or ("." not in match.group(2) and len(match.group(2)) > 1):
        return None  # not a form read here (uv reads cp312 as 3.12): keep everything
    name = _SHORT_NAMES.get(match.group(1), match.group(1)) or "cpython"
    return name, tuple(match.group(2).split(".")), "t" in (match.group(3) or "")


def filter_downloads(data, requests):
    """The entries of a downloads JSON (``{key: entry}``) that may serve one of ``requests``."""
    filters = [request_filter(r) for r in requests]
    if any(f is None for f in filters):
        return dict(data)
    kept = {}
    for key, entry in data.items():
        if not isinstance(entry, dict):
            continue
        have = (str(entry.get("major")), str(entry.get("minor")), str(entry.get("patch")))
        for name, parts, _threaded in filters:
            if entry.get("name", "cpython") == name and have[:len(parts)] == tuple(parts):
                kept[key] = entry
                break
    return kept


def best(installed, wanted=None):
    """The installed entry of ``wanted``'s key or version if given, else the newest; ``None`` if none."""
    if wanted is not None:
        same = [e for e in installed if e["key"] == wanted.get("key") or e["version"] == wanted.get("version")]
        if same:
            return same[0]
    ordered = sorted(installed, key=lambda e: version_tuple(e["version"]), reverse=True)
    return ordered[0] if ordered else None


def summary(steps, done=False):
    """The message of the steps that change something: what (would be) done, for which request, why."""
    verbs = {"install": "installed" if done else "install", "relink": "relinked" if done else "relink",
             "uninstall": "removed" if done else "remove"}
    parts = []
    for step in steps:
        what = (step.get("entry") or {}).get("key") or step["request"]
        if step["action"] == "uninstall":
            what = ", ".join(e["key"] for e in step["installed"])
        parts.append("%s %s (%s: %s)" % (verbs[step["action"]], what, step["request"], step["reason"]))
    return "; ".join(parts)


def previous_of(steps):
    """The ``previous`` items: each installed Python that a request matched before the run, once."""
    seen, items = set(), []
    for step in steps:
        for entry in step["installed"]:
            if entry["key"] not in seen:
                seen.add(entry["key"])
                items.append(describe(entry, step["request"]))
    return items


def plan_items(steps):
    """The ``plan`` of ``plan_only``: per request the action, why, and the download it needs."""
    return [dict(request=s["request"], action=s["action"], reason=s["reason"], key=(s["entry"] or {}).get("key"),
                 url=(s["entry"] or {}).get("url"), version=(s["entry"] or {}).get("version")) for s in steps]


def report_items(steps, state, check_mode):
    """The ``installed`` items: per request the Python that satisfies it (null fields when none yet)."""
    items = []
    for step in steps:
        if state == "absent":
            items.extend(describe(e, step["request"]) for e in step["installed"])
            continue
        entry = step["entry"] if step["action"] != "install" or not check_mode else None
        if entry is None or entry.get("path") is None:
            item = dict(request=step["request"], key=(entry or {}).get("key"), target=None,
                        version=(entry or {}).get("version"), implementation=None, variant=None, path=None,
                        arch=None, libc=None)
        else:
            item = describe(entry, step["request"])
        if step.get("sys_version"):
            item["sys_version"] = step["sys_version"]
        items.append(item)
    return items


def report_diff(previous, items, state):
    """The diff: the installed keys before and after (a Python still to install by its request)."""
    before = set(e["key"] for e in previous)
    named = set(i["key"] or "%s (to install)" % i["request"] for i in items)
    after = before - named if state == "absent" else before | named
    return dict(before="".join(k + "\n" for k in sorted(before)), after="".join(k + "\n" for k in sorted(after)))
