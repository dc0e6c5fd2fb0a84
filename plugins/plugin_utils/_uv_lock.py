# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""uv.lock on the controller: which locked wheels each host of a fleet needs (uv_sync, download_on=controller).

PRIVATE API: only for this collection's action plugins; never shipped to hosts.
Pure: text and facts in, data out; no network, no files. Downloading the chosen files once
for the fleet is ``_wheelhouse.fetch``.

- ``load_lock(text)`` reads uv.lock (``version = 1``, any ``revision``; uv writes that from
  0.3 on). Reading TOML: ``tomllib`` (Python 3.11 and later); before 3.11 the ``tomli``
  package when it is importable (it is ``tomllib``'s origin, with the same API). The
  collection's own ``module_utils/config/_toml.py`` only writes TOML (uv.toml), it cannot read a
  lock, and a second TOML reader here would be a parser to maintain for one file: without
  ``tomllib`` or ``tomli`` the error names the controller's Python and says to install
  ``tomli`` there (ansible-core 2.16 controllers may run Python 3.10).
- ``host_target(facts)`` (from ``_wheel_target``, re-exported): a host's marker environment
  and its wheel tags, best first.
- ``needed_packages`` walks the lock from its root project as ``uv sync`` does: the
  dependencies whose markers hold for the host, the requested extras and dependency
  groups (``dev`` unless ``no_dev``), and the extras that dependencies ask of each other.
- ``select_files`` takes the best wheel of each package; ``plan`` does it for the fleet,
  one entry per distinct file, and lists what some host cannot get (``missing_wheels``).

What is not understood: conflict markers (``[tool.uv] conflicts``: an ``extra == ...``
marker is evaluated with no extra active, as ``packaging`` does; a marker on a name
``packaging`` does not know fails with a ``LockError``), PyPy and other implementations
(``TargetError``). Build requirements are not in uv.lock: a project the host builds
(``install_project``) brings its build backend some other way.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import platform as _platform
import re

try:
    from urllib.parse import unquote, urlsplit
except ImportError:  # pragma: no cover
    from urllib import unquote  # type: ignore
    from urlparse import urlsplit  # type: ignore

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.plugin_utils._wheel_target import Target, TargetError, host_target, unfit_reason

__all__ = ["LOCK_VERSIONS", "Lock", "LockError", "Package", "Target", "TargetError", "host_target", "load_lock",
           "default_groups", "needed_packages", "plan", "select_files", "toml_reader"]

# The lock format versions this file reads. uv bumps ``version`` for changes old readers
# cannot follow and ``revision`` for additions they may ignore (uv's lock/mod.rs).
LOCK_VERSIONS = (1,)

Package = collections.namedtuple("Package", "name version source")
Package.__doc__ = """A package to install: ``name`` (normalized), ``version``, ``source`` (``"registry"``, ``"url"``,
``"git"``, ``"path"`` or ``"directory"``, as uv.lock's ``source`` table names it)."""

# Sources that are the project's own code, installed from the project on the host.
_LOCAL_SOURCES = ("editable", "virtual")
_SEPARATORS = re.compile(r"[-_.]+")


def canonicalize_name(name):
    """A project name normalized as PEP 503 says (``packaging.utils.canonicalize_name``)."""
    return _SEPARATORS.sub("-", name or "").lower()


class LockError(UvError):
    """uv.lock cannot be read, or says something this reader cannot follow."""


def toml_reader():
    """``(loads, name)``: the TOML reader this controller has (see the module docstring)."""
    try:
        import tomllib  # pylint: disable=import-outside-toplevel
        return tomllib.loads, "tomllib"
    except ImportError:
        pass
    try:
        import tomli  # pylint: disable=import-outside-toplevel
        return tomli.loads, "tomli"
    except ImportError:
        pass
    raise LockError(
        "reading uv.lock on the controller needs Python 3.11 or later (tomllib), or the package 'tomli' before "
        "that; the controller runs Python %s without tomli: install it into the Python that runs ansible "
        "(pip install tomli), or use download_on=host" % _platform.python_version())


class Lock(object):
    """A parsed uv.lock: ``data`` (the TOML), ``version``, ``revision``, ``packages`` (the ``[[package]]`` tables)."""

    def __init__(self, data):
        self.data = data
        self.version = data.get("version")
        self.revision = data.get("revision", 0)
        self.packages = data.get("package") or []
        self._by_name = {}
        for package in self.packages:
            self._by_name.setdefault(canonicalize_name(package.get("name", "")), []).append(package)

    def named(self, name):
        """The packages called ``name`` (several when the lock forks by markers)."""
        return self._by_name.get(canonicalize_name(name), [])

    def roots(self, names=None):
        """The packages a sync starts from: ``names`` (workspace members) when given, else the
        project at the lock's root (source ``editable``/``virtual`` ``"."``), else every workspace member."""
        if names:
            found = []
            for name in names:
                packages = [p for p in self.named(name) if _source_kind(p) in _LOCAL_SOURCES + ("directory",)]
                if not packages:
                    raise LockError("uv.lock has no workspace member %r; its members are: %s"
                                    % (name, ", ".join(self.members()) or "(none)"))
                found.extend(packages)
            return found
        root = [p for p in self.packages if _source_kind(p) in _LOCAL_SOURCES and _source(p)[1] == "."]
        if root:
            return root
        members = [p for name in self.members() for p in self.named(name)]
        if not members:
            raise LockError("uv.lock names no project to sync: no package has the source editable or virtual "
                            "\".\" and [manifest] lists no members")
        return members

    def members(self):
        manifest = self.data.get("manifest") or {}
        return sorted(canonicalize_name(name) for name in manifest.get("members") or ())


def load_lock(text):
    """``text`` (uv.lock) as a ``Lock``; ``LockError`` for TOML errors and lock versions this file cannot read."""
    loads, name = toml_reader()
    try:
        data = loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError and tomli's are ValueErrors
        raise LockError("uv.lock is not valid TOML (read with %s): %s" % (name, exc))
    version = data.get("version")
    if version is None:
        raise LockError("uv.lock has no version key: it is not a lock file that uv wrote (uv lock writes one)")
    if version not in LOCK_VERSIONS:
        raise LockError(
            "uv.lock has version = %r; this collection reads lock version %s (written by uv 0.3 and later): "
            "a newer uv wrote it, so upgrade the collection, or lock with the uv the hosts run (uv lock)"
            % (version, " or ".join(str(v) for v in LOCK_VERSIONS)))
    if not isinstance(data.get("package", []), list):
        raise LockError("uv.lock's [[package]] entries are not an array of tables")
    return Lock(data)


def _source(package):
    """``(kind, value)`` of a package's (or dependency's) ``source`` table."""
    source = package.get("source") or {}
    for kind in ("registry", "editable", "virtual", "directory", "path", "url", "git"):
        if kind in source:
            return kind, source[kind]
    return "unknown", None


def _source_kind(package):
    return _source(package)[0]


def _marker_holds(marker, target, where):
    if not marker:
        return True
    # packaging comes with ansible-core; imported where it is used, as _source.py does, so that
    # importing this file needs nothing (ansible-test's import check has no packaging).
    from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName  # pylint: disable=import-outside-toplevel
    try:
        return Marker(marker).evaluate(target.markers)
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName) as exc:
        raise LockError("uv.lock's marker %r (%s) cannot be evaluated for %s: %s" % (marker, where, target.describe(), exc))


def _resolve(lock, dependency, target, where):
    """The locked package a dependency entry names (uv names version and source when several match)."""
    candidates = lock.named(dependency.get("name", ""))
    if "version" in dependency:
        candidates = [p for p in candidates if p.get("version") == dependency["version"]]
    if "source" in dependency:
        candidates = [p for p in candidates if p.get("source") == dependency["source"]]
    if len(candidates) > 1:
        fitting = [p for p in candidates if any(_marker_holds(m, target, where) for m in p.get("resolution-markers") or ())]
        candidates = fitting or candidates
    if len(candidates) != 1:
        raise LockError("uv.lock's dependency %s of %s matches %d packages; run uv lock again"
                        % (dependency.get("name"), where, len(candidates)))
    return candidates[0]


def _known(roots, table, metadata_key):
    """The extras or groups the root projects define (``None`` when the lock does not say)."""
    names = set()
    said = False
    for root in roots:
        names.update(canonicalize_name(n) for n in (root.get(table) or {}))
        listed = (root.get("metadata") or {}).get(metadata_key)
        if listed is not None:
            said = True
            names.update(canonicalize_name(n) for n in listed)
    return names if said or names else None


def default_groups(lock, pyproject_text):
    """The dependency groups ``uv sync`` installs when ``dev`` is not left out: ``[tool.uv] default-groups``
    of the project's pyproject.toml (``"all"``: every group the lock knows), else ``dev``; only the groups
    the lock's root projects define (uv.lock does not record ``default-groups``, so it is read here)."""
    loads, _name = toml_reader()
    try:
        tool = (loads(pyproject_text or "").get("tool") or {}).get("uv") or {}
    except ValueError as exc:
        raise LockError("pyproject.toml is not valid TOML: %s" % exc)
    known = _known(lock.roots(None), "dev-dependencies", "requires-dev")
    wanted = tool.get("default-groups", ["dev"])
    if wanted == "all":
        return sorted(known or ())
    if not isinstance(wanted, list):
        raise LockError("[tool.uv] default-groups in pyproject.toml is %r: a list of group names, or \"all\"" % (wanted,))
    names = [canonicalize_name(str(n)) for n in wanted]
    return [n for n in names if known is None or n in known]


def needed_packages(lock, target, groups=(), extras=(), no_dev=True, install_project=True, roots=None):
    """The packages ``target`` installs from ``lock``: a sorted list of ``Package(name, version, source)``.

    The walk starts at ``lock.roots(roots)`` with their dependencies, the ``extras`` asked
    for and the dependency ``groups`` (``dev`` too unless ``no_dev``), follows each
    dependency whose ``marker`` holds for ``target`` and the extras it asks for
    (``extra = [...]``). Editable and virtual packages (the root project, workspace
    members) are the project's own code, installed from the project on the host: they
    are never in the list, whatever ``install_project`` says (it only decides whether
    the host installs them).
    """
    del install_project  # the wheels needed are the same either way (see above)
    starts = lock.roots(roots)
    extras = [canonicalize_name(e) for e in extras or ()]
    groups = [canonicalize_name(g) for g in groups or ()]
    for asked, table, key, what in ((extras, "optional-dependencies", "provides-extras", "extra"),
                                    (groups, "dev-dependencies", "requires-dev", "dependency group")):
        known = _known(starts, table, key)
        unknown = [name for name in asked if known is not None and name not in known]
        if unknown:
            raise LockError("the project defines no %s %s; it defines: %s" % (
                what, ", ".join(unknown), ", ".join(sorted(known)) or "none"))
    if not no_dev and "dev" not in groups:
        groups.append("dev")
    seen = {}  # package key -> the extras already followed
    queue = []
    for root in starts:
        deps = list(root.get("dependencies") or [])
        for extra in extras:
            deps += _table(root, "optional-dependencies", extra)
        for group in groups:
            deps += _table(root, "dev-dependencies", group)
        seen[_key(root)] = set(extras)
        queue.append((root, deps))

    def visit(package, wanted):
        key = _key(package)
        if key not in seen:
            seen[key] = set(wanted)
            deps = list(package.get("dependencies") or [])
            new = wanted
        else:
            new = set(wanted) - seen[key]
            seen[key].update(new)
            deps = []
        for extra in sorted(new):
            deps += _table(package, "optional-dependencies", extra)
        if deps:
            queue.append((package, deps))
        packages[key] = package

    packages = {_key(root): root for root in starts}
    while queue:
        package, deps = queue.pop(0)
        where = "%s %s" % (package.get("name"), package.get("version", ""))
        for dependency in deps:
            if _marker_holds(dependency.get("marker"), target, where):
                visit(_resolve(lock, dependency, target, where), [canonicalize_name(e) for e in dependency.get("extra") or ()])
    out = set()
    for package in packages.values():
        kind = _source_kind(package)
        if kind not in _LOCAL_SOURCES:
            out.add(Package(canonicalize_name(package["name"]), package.get("version"), kind))
    return sorted(out)


def _key(package):
    return canonicalize_name(package.get("name", "")), package.get("version"), repr(sorted((package.get("source") or {}).items()))


def _table(package, table, name):
    """The dependency entries of extra or group ``name`` (normalized) in ``package``'s ``table``."""
    for key, deps in (package.get(table) or {}).items():
        if canonicalize_name(key) == name:
            return list(deps)
    return []


def _file_name(url):
    """The percent-decoded last path segment of ``url``."""
    return unquote(urlsplit(url or "").path.rstrip("/").rsplit("/", 1)[-1])


def select_files(lock, target, packages):
    """The best locked wheel of each of ``packages`` for ``target``: ``{"files": [...], "missing": [...]}``.

    Each file is ``{"name", "version", "filename", "url", "sha256", "size", "index"}`` (``size``
    ``None`` when the lock does not say; ``index`` the registry the package was locked from);
    each missing entry ``{"name", "version", "reason"}``: no wheel at all (an sdist, a git or
    local source: the hosts install with ``--no-build``), none for the host's Python,
    architecture or libc (the reason says which), or a wheel the lock has no sha256 for.
    """
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename  # pylint: disable=import-outside-toplevel
    files, missing = [], []
    for package in packages:
        entry = _locked(lock, package)
        kind, value = _source(entry)
        if kind not in ("registry", "url"):
            missing.append(dict(name=package.name, version=package.version,
                                reason="a %s source: no wheel to download, and the hosts install with --no-build" % kind))
            continue
        candidates, wheels = [], []
        for wheel in entry.get("wheels") or ():
            url = wheel.get("url") or (value if kind == "url" else None)
            name = _file_name(url) if url else wheel.get("filename")
            try:
                tags = parse_wheel_filename(name or "")[3]
            except InvalidWheelFilename:
                continue
            wheels.append((name, tags))
            ranks = [target.rank[tag] for tag in tags if tag in target.rank]
            if ranks:
                candidates.append((min(ranks), name, url, wheel))
        if not candidates:
            if not wheels:
                reason = "sdist only: uv.lock has no wheel (the hosts install with --no-build)" if entry.get("sdist") \
                    else "uv.lock has no wheel and no sdist"
            else:
                reason = unfit_reason(wheels, target)
            missing.append(dict(name=package.name, version=package.version, reason=reason))
            continue
        _rank, name, url, wheel = min(candidates, key=lambda item: (item[0], item[1]))
        digest = wheel.get("hash") or ""
        if not digest.startswith("sha256:"):
            missing.append(dict(name=package.name, version=package.version,
                                reason="uv.lock records no sha256 for %s (the index published none): the controller "
                                       "checks every download against the lock" % name))
            continue
        files.append(dict(name=package.name, version=package.version, filename=name, url=url,
                          sha256=digest[len("sha256:"):].lower(), size=wheel.get("size"),
                          index=value if kind == "registry" else None))
    return dict(files=files, missing=missing)


def _locked(lock, package):
    for entry in lock.named(package.name):
        if entry.get("version") == package.version and _source_kind(entry) == package.source:
            return entry
    raise LockError("uv.lock has no package %s %s" % (package.name, package.version))


def plan(lock, targets, groups=(), extras=(), no_dev=True, install_project=True, roots=None):
    """What the fleet needs: ``{"files", "hosts", "packages", "missing_wheels"}``.

    ``targets``: ``{host: Target}``. ``files``: ``{file name: {"url", "sha256", "size", "name",
    "version", "index"}}``, one entry per distinct file; ``hosts``: ``{host: [file names]}``
    (sorted); ``packages``: ``{host: {name: version}}``; ``missing_wheels``: ``[{"name",
    "version", "reason", "hosts"}]``, one entry per package and reason, sorted. Hosts with the
    same facts are planned once. Two different files under one name is a ``LockError``.
    """
    files, hosts, packages, missing = {}, {}, {}, {}
    done = {}
    for host in sorted(targets):
        target = targets[host]
        if target.key not in done:
            needed = needed_packages(lock, target, groups, extras, no_dev, install_project, roots)
            done[target.key] = (needed, select_files(lock, target, needed))
        needed, chosen = done[target.key]
        packages[host] = dict((p.name, p.version) for p in needed)
        hosts[host] = sorted(f["filename"] for f in chosen["files"])
        for item in chosen["files"]:
            known = files.get(item["filename"])
            if known is not None and known["sha256"] != item["sha256"]:
                raise LockError("uv.lock names two different files %s (sha256 %s and %s): run uv lock again"
                                % (item["filename"], known["sha256"], item["sha256"]))
            files[item["filename"]] = dict((k, item[k]) for k in ("url", "sha256", "size", "name", "version", "index"))
        for item in chosen["missing"]:
            missing.setdefault((item["name"], item["version"], item["reason"]), []).append(host)
    missing_wheels = [dict(name=name, version=version, reason=reason, hosts=sorted(names))
                      for (name, version, reason), names in sorted(missing.items())]
    return dict(files=files, hosts=hosts, packages=packages, missing_wheels=missing_wheels)
