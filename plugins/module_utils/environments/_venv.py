# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A virtual environment and its packages, read as data: pyvenv.cfg, package lists, dry-run plans.

PRIVATE API: only for this collection's modules; names may change without notice.
Pure functions of text and dicts, plus ``read_pyvenv`` and ``inspect_path`` (which only read).

Facts checked against the real uv (0.13.8, 0.13.9; 0.5.11 for the line format):

- ``uv pip list --format json --python <venv>`` prints ``[{"name", "version"}, ...]`` (and
  ``editable_project_location`` for editables); names as the distribution spells them.
- ``uv pip install --dry-run`` exits 0 whether or not it would change anything; its plan is
  the package lines `` + name==version`` (install), `` - name==version`` (remove) and
  `` ~ name==version`` (reinstall in place) on stderr, the same in every uv since 0.1.
  The prose around them changes between releases ("Audited" became "Checked" in 0.10.10,
  "Would make no changes"), so only the package lines are read: no line, no change.
- A request that the environment already satisfies is decided from its site-packages alone:
  no request reaches the index (counted in the integration test).
- ``uv venv`` on an existing directory: below 0.8 it replaces it silently, 0.8-0.9 warn, from
  0.10 it refuses without ``--clear``; ``pyvenv.cfg`` (``home``, ``version_info``,
  ``implementation``, ``include-system-site-packages``, ``uv``) says what a venv is.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from urllib.parse import unquote

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_url

__all__ = [
    "VenvError",
    "changes_from_lists",
    "index_args",
    "inspect_path",
    "normalize_name",
    "parse_dry_run",
    "parse_pip_list",
    "plan_after",
    "python_matches",
    "read_pyvenv",
    "requirement_name",
    "site_packages_flag",
    "url_version",
    "version_key",
    "with_version",
]


def index_args(params, flags):
    """uv's index options from a module's ``index_url``, ``extra_index_urls`` and ``find_links``,
    then ``--<flag>`` for each of the boolean options ``flags`` (in that order) that is set.

    The URLs never reach uv's command line: ``UvRunner`` passes them in uv's variables
    (``UV_INDEX_URL``, ``UV_EXTRA_INDEX_URL``, ``UV_FIND_LINKS``; ``_uv_runner.index_environment``)."""
    args = ["--index-url", params["index_url"]] if params["index_url"] else []
    for option, flag in (("extra_index_urls", "--extra-index-url"), ("find_links", "--find-links")):
        for url in params[option]:
            args += [flag, url]
    return args + ["--" + f.replace("_", "-") for f in flags if params[f]]


# `` + six==1.17.0``, `` - six==1.16.0``, `` ~ pkg==1.0``, and direct references
# `` + pkg @ file:///...`` (the version is then the URL).
# uv 0.13 prints what it removes of a direct or editable install as `` - pkg==1.0 (from file:///...)``.
_PLAN_LINE = re.compile(r"^ ([+~-]) ([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?(?:==(\S+)| @ (\S+))"
                        r"(?: \(from \S+\))?\s*$")
# The project name at the start of a PEP 508 requirement.
_NAME = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(.*)$")
# uv's version requests (``3.12``, ``312``, ``cp312``, ``cpython3.12``, ``cpython-3.12``, ``cpython@3.12``,
# ``python3.12``, ``3.13t``); ``python`` names no implementation (an executable name uv looks for).
_REQUEST_VERSION = re.compile(r"^(?:(cpython|pypy|graalpy|cp|pp|gp|python)[-@]?)?(\d+(?:\.\d+){1,2}|\d+)(t?)$")
_IMPLEMENTATIONS = {"cp": "cpython", "pp": "pypy", "gp": "graalpy", "python": None}
# A PEP 440 version: epoch, release, pre, post, dev, local.
_PEP440 = re.compile(r"^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d*))?"
                     r"(?:-(\d+)|[-_.]?(?:post|rev|r)[-_.]?(\d*))?(?:[-_.]?dev[-_.]?(\d*))?(?:\+[a-z0-9._-]*)?$", re.I)
_PRE = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}


class VenvError(UvError):
    """The path, a requirement or uv's answer is not usable; the message says which and why."""


def normalize_name(name):
    """A project name as PEP 503 compares them: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement):
    """The normalized project name of a PEP 508 requirement, or ``VenvError`` naming it."""
    match = _NAME.match(requirement or "")
    rest = match.group(2).strip() if match else ""
    if not match or (rest and not re.match(r"^(?:~=|===?|!=|<=?|>=?|@|;|\()", rest)):
        raise VenvError("%r is not a valid requirement (PEP 508, e.g. six==1.17.0 or requests>=2.31)" % (requirement,))
    return normalize_name(match.group(1))


def with_version(requirement, version):
    """``requirement`` pinned to ``version`` (pip's ``version`` option), its extras and markers kept.

    ``requests[socks]; python_version > "3"`` with ``2.31.0`` gives
    ``requests[socks]==2.31.0; python_version > "3"``. A requirement that already carries a
    version specifier or a URL is refused: the two would contradict each other.
    """
    requirement_name(requirement)
    head, sep, marker = requirement.partition(";")
    match = _NAME.match(head)
    name = head[:match.start(2)].rstrip()
    if match.group(2).strip():
        raise VenvError("version %s cannot be added to %r, which has its own version or URL: give one or the other"
                        % (version, requirement))
    return "%s==%s%s" % (name, version.strip(), ("; " + marker.strip()) if sep else "")


def parse_pip_list(text):
    """``{normalized name: {"name", "version"[, "editable"]}}`` from ``uv pip list --format json``.

    ``editable`` is the project directory of an editable install (``editable_project_location``).
    """
    try:
        data = json.loads(text or "[]")
    except ValueError as exc:
        raise VenvError("uv pip list printed no JSON (%s): %s" % (exc, (text or "")[:300]))
    if not isinstance(data, list):
        raise VenvError("uv pip list printed %s, not a list" % type(data).__name__)
    out = {}
    for item in data:
        if isinstance(item, dict) and item.get("name") and item.get("version") is not None:
            entry = dict(name=item["name"], version=str(item["version"]))
            if item.get("editable_project_location"):
                entry["editable"] = item["editable_project_location"]
            out[normalize_name(item["name"])] = entry
    return out


def parse_dry_run(text):
    """The plan of ``uv pip install --dry-run``: ``[(sign, name, version)]`` in uv's order.

    ``sign`` is ``+`` (install), ``-`` (remove) or ``~`` (reinstall). An empty list means the
    environment already satisfies the request.
    """
    plan = []
    for line in (text or "").splitlines():
        match = _PLAN_LINE.match(line)
        if match:
            # uv masks a password in what it prints, not the user: the URL is masked here.
            plan.append((match.group(1), match.group(2), match.group(3) or redact_url(match.group(4))))
    return plan


def plan_after(before, plan):
    """The package list (as ``parse_pip_list`` gives it) after ``plan`` is carried out on ``before``.

    A direct reference (``+ x @ URL``) has no version in the plan: it is read from the wheel's file name or
    the project's ``pyproject.toml``; when neither says, a local project that is there already keeps its
    version (uv builds it again), else ``None``."""
    after = dict((k, dict(v)) for k, v in before.items())
    for sign, name, _version in plan:
        if sign == "-":
            after.pop(normalize_name(name), None)
    for sign, name, version in plan:
        if sign in "+~":
            if "://" in version:
                old = before.get(normalize_name(name))
                found = url_version(version)
                version = old["version"] if found is None and old and version.startswith("file://") else found
            after[normalize_name(name)] = dict(name=name, version=version)
    return after


def url_version(url):
    """The version a direct reference installs, when its wheel name or its project's static version says."""
    path = url.split("#", 1)[0].split("?", 1)[0].rstrip("/")
    base = path.rsplit("/", 1)[-1]
    if base.endswith(".whl") and base.count("-") >= 4:
        return base.split("-")[1]
    if url.startswith("file://"):
        try:
            with open(os.path.join(unquote(path[len("file://"):]), "pyproject.toml")) as handle:
                text = handle.read()
        except (IOError, OSError, UnicodeDecodeError):
            return None
        section = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
        found = re.search(r"^version\s*=\s*[\"']([^\"']+)[\"']\s*$", section.group(1), re.M) if section else None
        return found.group(1) if found else None
    return None


def version_key(version):
    """A key that orders PEP 440 versions (``1.0.dev1 < 1.0a1 < 1.0 < 1.0.post1``); ``None`` if not one."""
    match = _PEP440.match((version or "").strip())
    if not match:
        return None
    epoch, release, pre, pre_n, post_dash, post_n, dev_n = match.groups()
    numbers = [int(p) for p in release.split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    post = post_dash if post_dash is not None else post_n
    dev = dev_n
    if pre:
        pre_key = (0, _PRE[pre.lower()], int(pre_n or 0))
    elif post is None and dev is not None:
        pre_key = (-1,)  # 1.0.dev1 is before 1.0a1
    else:
        pre_key = (1,)
    post_key = (-1,) if post is None else (int(post or 0),)
    dev_key = (1,) if dev is None else (0, int(dev or 0))
    return int(epoch or 0), tuple(numbers), pre_key, post_key, dev_key


def _lower(old, new):
    old_key, new_key = version_key(old), version_key(new)
    return old_key is not None and new_key is not None and new_key < old_key


def changes_from_lists(before, after, reinstalled=(), downgrades=False):
    """``{"installed", "removed", "upgraded", "reinstalled"}`` between two package lists; with
    ``downgrades``, a version that went down (PEP 440 order) is in ``downgraded``, not ``upgraded``."""
    installed, removed, upgraded, downgraded = [], [], [], []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old and not new:
            removed.append(dict(name=old["name"], version=old["version"]))
        elif new and not old:
            installed.append(dict(name=new["name"], version=new["version"]))
        elif old["version"] != new["version"]:
            change = {"name": new["name"], "from": old["version"], "to": new["version"]}
            (downgraded if downgrades and _lower(old["version"], new["version"]) else upgraded).append(change)
    kept = set(normalize_name(n) for n in reinstalled)
    # a package that became (or stopped being) an editable install at the same version was reinstalled
    kept.update(k for k in set(before) & set(after) if bool(before[k].get("editable")) != bool(after[k].get("editable")))
    again = [dict(name=after[k]["name"], version=after[k]["version"]) for k in sorted(kept)
             if k in after and k in before and before[k]["version"] == after[k]["version"]]
    out = dict(installed=installed, removed=removed, upgraded=upgraded, reinstalled=again)
    if downgrades:
        out["downgraded"] = downgraded
    return out


def read_pyvenv(path):
    """The keys of ``<path>/pyvenv.cfg`` as a dict (lower-case keys), or ``None`` if there is none."""
    cfg = os.path.join(path, "pyvenv.cfg")
    try:
        with open(cfg) as handle:
            lines = handle.read().splitlines()
    except (IOError, OSError, UnicodeDecodeError):
        return None
    out = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip().lower()] = value.strip()
    return out


def site_packages_flag(cfg):
    """Whether the venv of ``cfg`` (its pyvenv.cfg) sees the base Python's site-packages."""
    return (cfg or {}).get("include-system-site-packages", "false").strip().lower() == "true"


def inspect_path(path):
    """What ``path`` is now: ``("missing"|"empty"|"venv"|"other", pyvenv dict or reason)``.

    A directory with a ``pyvenv.cfg`` is a venv; an empty directory may become one; anything
    else (a file, a directory holding other things) is never replaced.
    """
    if not os.path.lexists(path):
        return "missing", None
    if not os.path.isdir(path):
        return "other", "%s exists and is not a directory" % path
    cfg = read_pyvenv(path)
    if cfg is not None:
        return "venv", cfg
    try:
        entries = os.listdir(path)
    except OSError as exc:
        return "other", "%s cannot be read: %s" % (path, exc.strerror or exc)
    if not entries:
        return "empty", None
    return "other", "%s exists, is not empty and has no pyvenv.cfg, so it is not a virtual environment" % path


def _version_prefix(version, wanted):
    have = (version or "").split(".")
    want = wanted.split(".")
    return have[:len(want)] == want


def python_matches(request, cfg, venv_python, request_path=None):
    """Whether the venv described by ``cfg`` (its pyvenv.cfg) still matches the Python ``request``.

    ``None`` when this cannot be told from the request alone (the caller asks uv then).
    A version request (``3.12``, ``cpython@3.12.7``, ``3.13t``) compares with the venv's
    ``version_info`` and implementation; a path (``request_path``, resolved by the caller)
    compares with the interpreter the venv's ``python`` leads to. A venv whose interpreter
    is gone (the base Python was removed) never matches.
    """
    if not os.path.exists(venv_python):
        return False
    if request_path:
        return os.path.realpath(venv_python) == os.path.realpath(request_path)
    match = _REQUEST_VERSION.match((request or "").strip().lower())
    if not match:
        return None
    implementation = _IMPLEMENTATIONS.get(match.group(1), match.group(1))
    have_impl = (cfg.get("implementation") or "cpython").lower()
    if implementation and implementation != have_impl:
        return False
    if match.group(3):
        return None  # a free-threaded request: pyvenv.cfg does not say, uv decides
    version = cfg.get("version_info") or cfg.get("version") or ""
    wanted = match.group(2)
    if "." not in wanted and len(wanted) > 1:
        wanted = wanted[0] + "." + wanted[1:]  # uv reads 312 as 3.12
    return _version_prefix(re.sub(r"[^0-9.].*$", "", version), wanted)
