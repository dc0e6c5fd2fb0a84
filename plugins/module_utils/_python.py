# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""uv's managed Pythons on a host: run uv with an explicit environment, read what it lists, plan.

PRIVATE API: only for this collection's modules; names may change without notice.
The pure part (``parse_list``, ``decide``, ``link_problem``, ``venvs_using``'s reader,
``python_environment``) takes text and data; the edges (``UvPython``) run uv through a
``run(argv, env) -> (rc, stdout, stderr)`` callable handed in by the module.

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
- uv reads the system configuration (``$XDG_CONFIG_DIRS/uv/uv.toml``, ``/etc/uv/uv.toml``)
  and the user's (``$XDG_CONFIG_HOME/uv/uv.toml``, ``~/.config/uv/uv.toml``): the module
  points ``HOME`` and ``XDG_CONFIG_HOME`` at an empty private directory, so the system file
  that ``uv_config`` writes applies and the calling user's does not.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from ansible_collections.pyfleet.uv.plugins.module_utils._config_file import DEFAULT_INSTALL_DIR, resolve_uv
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
# The collection's one reader of `uv --version` (uv_install and uv_config use it too).
from ansible_collections.pyfleet.uv.plugins.module_utils._installed import parse_uv_version

__all__ = [
    "MIN_UV",
    "VERIFY_CODE",
    "PythonError",
    "UvPython",
    "decide",
    "describe",
    "filter_downloads",
    "find_uv_binary",
    "link_problem",
    "parse_list",
    "parse_request",
    "python_environment",
    "read_pyvenv_home",
    "request_filter",
    "series_of",
    "venvs_using",
    "version_tuple",
]

MIN_UV = (0, 8, 0)
VERIFY_CODE = "import sys, ssl, sqlite3; print(sys.version)"

# Environment variables never passed to uv: uv's own settings (the module's options and
# the system uv.toml decide), and credentials or indexes the task did not give.
_DROP_PREFIXES = ("UV_",)
_PROXY_NAMES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                "ALL_PROXY", "NO_PROXY")
_REMOTE_JSON_REFUSED = "Remote Python downloads JSON is not yet supported"

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


def python_environment(base, home, install_dir, bin_dir=None, mirror=None, downloads_json=None, use_proxy=False):
    """The whole environment of one uv call (a new dict; ``base`` is not changed).

    ``home`` is an empty private directory: uv reads no user configuration, ``.netrc`` or
    cache of the calling user there. Every ``UV_*`` variable of ``base`` is dropped, then
    the module's own are set; proxy variables stay only with ``use_proxy``.
    """
    env = dict((k, v) for k, v in base.items() if not k.startswith(_DROP_PREFIXES))
    if not use_proxy:
        for name in _PROXY_NAMES:
            env.pop(name, None)
    env.update(
        HOME=home,
        XDG_CONFIG_HOME=os.path.join(home, ".config"),
        XDG_CACHE_HOME=os.path.join(home, ".cache"),
        XDG_DATA_HOME=os.path.join(home, ".local", "share"),
        UV_CACHE_DIR=os.path.join(home, "cache"),
        UV_PYTHON_INSTALL_DIR=install_dir,
        UV_PYTHON_DOWNLOADS="manual",
        UV_NO_PROGRESS="1",
        NO_COLOR="1",
        LC_ALL="C",
        LANG="C",
    )
    if bin_dir:
        env["UV_PYTHON_BIN_DIR"] = bin_dir
    if mirror:
        env["UV_PYTHON_INSTALL_MIRROR"] = mirror
    if downloads_json:
        env["UV_PYTHON_DOWNLOADS_JSON_URL"] = downloads_json
    return env


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


class UvPython(object):
    """uv's ``python`` commands with one explicit environment.

    ``run(argv, env)`` returns ``(rc, stdout, stderr)`` (``rc`` ``None`` when uv could not
    start); it runs with ``cwd=/``.
    """

    def __init__(self, uv, run, env):
        self.uv = uv
        self.run = run
        self.env = env
        self.calls = []

    def _call(self, args, what):
        argv = [self.uv] + list(args)
        self.calls.append(argv)
        rc, out, err = self.run(argv, self.env)
        if rc != 0:
            if rc is None:
                raise PythonError("%s: uv (%s) could not be started: %s" % (what, self.uv, _quote(err or out)))
            message = _quote(err) or _quote(out) or "no output"
            if _REMOTE_JSON_REFUSED in message:
                message += (" (this uv reads python_downloads_json_url only from a local path: install a newer "
                            "uv with pyfleet.uv.uv_install, or use download_on=controller)")
            raise PythonError("%s failed (uv exit %s): %s" % (what, rc, message), uv_rc=rc)
        return out, err

    def version(self):
        """The uv version as a tuple, refusing uv older than ``MIN_UV``."""
        out, _err = self._call(["--version"], "uv --version")
        line = parse_uv_version(out)
        parsed = tuple(int(p) for p in re.findall(r"\d+", line["version"])[:3]) if line else None
        if parsed is None:
            raise PythonError("%s --version printed no uv version: %s" % (self.uv, _quote(out)))
        if parsed < MIN_UV:
            raise PythonError(
                "uv %s (%s) is too old for uv_python, which needs uv %s or newer (older uv cannot list "
                "Pythons as JSON and has no stable bin directory); install a newer uv with "
                "pyfleet.uv.uv_install" % (".".join(map(str, parsed)), self.uv, ".".join(map(str, MIN_UV))))
        return parsed

    def installed(self, request=None):
        """The managed Pythons in the install dir (matching ``request``), read offline."""
        args = ["python", "list", "--only-installed", "--managed-python", "--output-format", "json", "--no-config"]
        if request:
            args.append(request)
        out, _err = self._call(args, "listing the installed Pythons")
        return parse_list(out)

    def downloads(self, request):
        """The downloads uv offers for ``request`` on this host, newest first (reads the downloads JSON)."""
        args = ["python", "list", "--only-downloads", "--show-urls", "--output-format", "json", request]
        out, _err = self._call(args, "listing the downloads for %s" % request)
        entries = parse_list(out)
        entries.sort(key=lambda e: version_tuple(e["version"]), reverse=True)
        return entries

    def install(self, requests, bin_dir=None, default=False):
        args = ["python", "install"]
        if not bin_dir:
            args.append("--no-bin")
        if default:
            args.append("--default")
        args += list(requests)
        out, err = self._call(args, "uv python install %s" % " ".join(requests))
        return _quote(err or out)

    def uninstall(self, keys):
        out, err = self._call(["python", "uninstall"] + list(keys), "uv python uninstall %s" % " ".join(keys))
        return _quote(err or out)

    def verify(self, path):
        """Run the interpreter once: ``(ok, sys.version or the reason it failed)``."""
        argv = [path, "-c", VERIFY_CODE]
        self.calls.append(argv)
        rc, out, err = self.run(argv, self.env)
        if rc == 0 and out.strip():
            return True, out.strip().splitlines()[0]
        if rc is None:
            return False, "%s cannot be started: %s" % (path, _quote(err or out, 400))
        return False, "%s -c '%s' failed (exit %s): %s" % (path, VERIFY_CODE, rc, _quote(err or out, 800))


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


def find_uv_binary(uv_path=None, path_env=None, default_dir=DEFAULT_INSTALL_DIR):
    """The uv to run, chosen as uv_config chooses it (``_config_file.resolve_uv``): ``uv_path``,
    else the uv that ``uv_install`` recorded (its receipt in ``/usr/local/bin``), else the first
    ``uv`` on ``PATH``; ``PythonError`` if there is none."""
    try:
        uv, how = resolve_uv(uv_path, path_env, default_dir)
    except UvError as exc:
        raise PythonError(exc.msg)
    if not uv:
        raise PythonError("no uv to run (%s); install uv with pyfleet.uv.uv_install first, or set uv_path" % how)
    return uv


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
