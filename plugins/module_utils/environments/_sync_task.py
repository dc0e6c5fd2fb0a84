# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""uv_sync's flow: read the project, refuse a stale lock, name the environment, decide, build, switch, report.

PRIVATE API: only for this collection's modules; names may change without notice.
The module file holds the docs, the argument spec and ``main()``; the lock and tree data are in
``_sync``, the versioned environments and the switch in ``_sync_env``, running uv in ``_uv_runner``.

Two ways to build, one per source:

- **index** (``download_on: host``): ``uv sync --frozen --no-editable`` with ``UV_PROJECT_ENVIRONMENT``
  at the new directory, after ``uv lock --locked`` passed. uv's own installer reads every selection
  (groups, extras, workspace members, markers) from the lock and checks each file against the lock's
  sha256; ``--no-editable`` because the project's sources may be a temporary copy.
- **wheelhouse** (``wheelhouse_dir``, a directory of the locked wheels on the host, which the controller
  pushes with ``download_on: controller``): ``uv sync`` would still download the URLs in the lock (uv issues 13094, 9277), so
  ``uv venv``, then ``uv export --frozen`` (with hashes) into ``uv pip sync --offline --no-index
  --find-links <dir> --require-hashes --no-build``, then the workspace members themselves with
  ``uv pip install --no-deps`` from the same directory.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
import time

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_text
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._sync import (
    DEPENDENCY_FILES,
    environment_key,
    export_split,
    local_sources,
    lock_header,
    lock_packages,
    top_level_names,
    tree_digest,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._sync_env import Environments, SyncError
from ansible_collections.pyfleet.uv.plugins.module_utils._uv_runner import UvRunner, locate_uv
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._venv import changes_from_lists, parse_dry_run, parse_pip_list, read_pyvenv

__all__ = ["SyncError", "UvSync", "unpack_project"]

# The lock format every uv this collection runs (0.8 and newer) reads.
LOCK_VERSION = 1
_VERSION = "import platform; print(platform.python_version(), platform.python_implementation())"
_IMPORT = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"


class UvSync(object):
    """Validate, decide (from the lock's digest and the options), build beside, switch, report."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.envs = Environments(self.params["environment"])
        self.result = dict(changed=False, environment=dict(path=self.envs.path, current=None, previous=None, python=None),
                           lock=dict(path=None, sha256=None), packages=dict(installed=[], removed=[], upgraded=[]),
                           before={}, after={}, wheelhouse=None, missing_wheels=[], removed_environments=[], cmd=[])
        self.runner = None
        self.project = None
        self._digest = None
        self.lock_text = ""

    # -- inputs ------------------------------------------------------------

    def find_project(self):
        """The project directory on the host (unpacked from the action plugin's archive for ``project_src``)."""
        params = self.params
        if params.get("project_archive"):
            self.project = self.unpack(params["project_archive"])
        elif params["project_dir"]:
            self.project = os.path.abspath(params["project_dir"])
        else:
            raise SyncError("project_src (run through the action plugin) or project_dir is required")
        pyproject = os.path.join(self.project, "pyproject.toml")
        lock = os.path.join(self.project, "uv.lock")
        where = params["project_src"] or self.project
        if not os.path.isfile(pyproject):
            raise SyncError("%s has no pyproject.toml: project_src/project_dir must be the project's directory" % where)
        if not os.path.isfile(lock):
            raise SyncError("%s has no uv.lock: run `uv lock` in the project and deploy the uv.lock with it "
                            "(uv_sync installs only what a lock file pins)" % where)
        with open(lock, "rb") as handle:
            data = handle.read()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SyncError("%s/uv.lock is not UTF-8 text (byte 0x%02x on line %d): uv writes uv.lock as UTF-8, so "
                            "something else rewrote it (an editor's encoding, a copy in text mode): run `uv lock` in "
                            "the project and deploy the new uv.lock; the environment was not changed"
                            % (where, bytearray(data[exc.start:exc.start + 1])[0], data[:exc.start].count(b"\n") + 1))
        version, revision = lock_header(data.decode("utf-8", "replace"))
        self.result["lock"] = dict(path=os.path.join(where, "uv.lock"), sha256=hashlib.sha256(data).hexdigest(),
                                   version=version, revision=revision)
        self.lock_text = data.decode("utf-8", "replace")

    def unpack(self, archive):
        """Extract the action plugin's tar archive of the project into a temporary directory (``unpack_project``)."""
        try:
            return unpack_project(archive, tempfile.mkdtemp(prefix="uv-sync-project-", dir=self.module.tmpdir))
        except (IOError, OSError, tarfile.TarError) as exc:
            raise SyncError("the project archive %s could not be extracted: %s" % (archive, exc))

    def selection(self):
        """The options of ``uv sync``/``uv export`` that choose what of the lock is installed.

        ``no_dev`` leaves out every default group of the project (``[tool.uv] default-groups``, ``dev``
        unless it says otherwise), not just ``dev`` (what ``--no-dev`` does): ``--no-default-groups``
        (uv 0.8.0, the floor of the collection, has it in ``uv sync`` and ``uv export``), then only the
        ``groups`` asked for. Without ``no_dev``, uv's defaults apply, plus ``groups``."""
        params = self.params
        args = ["--no-default-groups"] if params["no_dev"] else []
        for group in params["groups"]:
            args += ["--group", group]
        for extra in params["extras"]:
            args += ["--extra", extra]
        return args

    def index_env(self):
        """uv's index settings as environment variables: credentials never reach an argument list."""
        params = self.params
        env = dict(UV_PYTHON_DOWNLOADS="never", UV_LINK_MODE="copy")
        if params["index_url"]:
            env["UV_DEFAULT_INDEX"] = params["index_url"]
        if params["extra_index_urls"]:
            env["UV_INDEX"] = " ".join(params["extra_index_urls"])
        if params["find_links"]:
            env["UV_FIND_LINKS"] = ",".join(params["find_links"])
        return env

    # -- uv ----------------------------------------------------------------

    def setup(self):
        uv, _how = locate_uv(self.params["uv_path"])
        home = tempfile.mkdtemp(prefix="uv-home-", dir=self.module.tmpdir)
        self.runner = UvRunner(self.module, uv, home, self.params["python_install_dir"], extra_env=self.index_env(),
                               cwd=self.project, name="uv_sync")
        self.result["uv_version"] = self.runner.version_string()

    def uv(self, args, what, environment=None):
        self.runner.env.pop("UV_PROJECT_ENVIRONMENT", None)
        if environment:
            self.runner.env["UV_PROJECT_ENVIRONMENT"] = environment
        try:
            return self.runner.run(args, what)
        except UvError as exc:
            raise SyncError(exc.msg, **exc.details)

    def packages_of(self, current):
        """The packages of the running environment; ``{}`` with a warning when uv cannot list them (its
        Python is gone, say), so that a broken environment can still be replaced."""
        if not current:
            return {}
        try:
            return self.listed(current)
        except UvError as exc:
            self.module.warn("the packages of the running environment %s could not be listed (%s); it is "
                             "replaced as if it were empty" % (current, exc.msg.splitlines()[0] if exc.msg else exc))
            return {}

    def listed(self, path):
        _rc, out, _err = self.uv(["pip", "list", "--format", "json", "--python", path], "listing the packages of %s" % path)
        return parse_pip_list(out)

    def find_python(self):
        """The interpreter for the environment: ``python`` (or the project's ``.python-version`` and
        ``requires-python``) among the system and uv-managed Pythons, never a virtual environment."""
        request = self.params["python"]
        try:
            _rc, out, _err = self.runner.run(["python", "find", "--system"] + ([request] if request else []))
        except UvError as exc:
            raise SyncError("no Python on the host satisfies %s and the project's requires-python (in %s and on "
                            "PATH; uv_sync never downloads one): install it with pyfleet.uv.uv_python, or change "
                            "python\n%s" % ("python=%s" % request if request else "the project's .python-version",
                                            self.params["python_install_dir"], exc.msg), **exc.details)
        lines = out.strip().splitlines()
        if not lines:
            raise SyncError("uv python find printed no interpreter for %s" % (request or "the project"))
        return os.path.realpath(lines[-1].strip())

    def check_lock(self):
        """Refuse a lock that does not match ``pyproject.toml`` (or that this uv cannot read); no index
        request when it matches. Nothing on the host has changed yet."""
        try:
            # --offline: the check asks no index (a host behind a tripwire, an air-gapped one); a lock uv
            # cannot validate from the project and the lock alone is refused like a stale one.
            self.runner.run(["lock", "--locked", "--offline"], "uv lock --locked --offline")
        except UvError as exc:
            lock = self.result["lock"]
            if lock.get("version") is not None and lock["version"] > LOCK_VERSION:
                raise SyncError("%s was written by a newer uv than the host's uv %s (lock version %s, revision %s; "
                                "uv %s reads lock version %s): install a newer uv on the host with "
                                "pyfleet.uv.uv_install (or set uv_path), or lock with the host's uv release; the "
                                "environment was not changed\n%s"
                                % (lock["path"], self.result["uv_version"], lock["version"], lock.get("revision"),
                                   self.result["uv_version"], LOCK_VERSION, exc.msg), **exc.details)
            raise SyncError("uv.lock does not match pyproject.toml or cannot be used (what `uv sync --locked` "
                            "checks, here without network access): run `uv lock` in the project and deploy the new uv.lock; the environment was "
                            "not changed\n%s" % exc.msg, **exc.details)

    # -- decide ------------------------------------------------------------

    def settings(self, interpreter):
        """What decides the environment besides the lock (the project's files read once per run)."""
        params = self.params
        if self._digest is None:
            # The project's own code is installed (install_project): every file of it decides the environment.
            # Without it, only what decides the dependencies and the local packages still installed.
            only = None if params["install_project"] else list(DEPENDENCY_FILES) + local_sources(self.lock_text)
            self._digest = tree_digest(self.project, (self.envs.path, self.envs.store), only)
        return dict(project=self._digest, python=interpreter,
                    groups=sorted(params["groups"]), extras=sorted(params["extras"]), no_dev=params["no_dev"],
                    install_project=params["install_project"],
                    source="wheelhouse" if params.get("wheelhouse_dir") else "index")

    def planned(self, interpreter):
        """The packages the new environment would hold, from ``uv sync --frozen --dry-run`` into an empty path."""
        target = os.path.join(tempfile.mkdtemp(prefix="uv-sync-plan-", dir=self.module.tmpdir), "env")
        args = ["sync", "--frozen", "--dry-run", "--no-editable", "--python", interpreter] + self.selection()
        if not self.params["install_project"]:
            args.append("--no-install-project")
        _rc, out, err = self.uv(args, "the dry run of uv sync", environment=target)
        locked = lock_packages(self.lock_text)
        after = {}
        for sign, name, version in parse_dry_run(err + "\n" + out):
            if sign in "+~":
                if "://" in (version or ""):
                    version = locked.get(name, version)
                after[name.lower()] = dict(name=name, version=version)
        return after

    # -- run ---------------------------------------------------------------

    def run(self):
        params = self.params
        if params["keep"] < 0:
            raise SyncError("keep must be 0 or more, got %d" % params["keep"])
        if params["no_dev"] and "dev" in [re.sub(r"[-_.]+", "-", group).lower() for group in params["groups"]]:  # PEP 735 names
            raise SyncError("groups names dev, which no_dev=true leaves out: set no_dev: false to install the dev "
                            "group (and the project's other default groups), or remove dev from groups")
        if params["download_on"] == "controller" and not params.get("wheelhouse_dir"):
            raise SyncError("download_on=controller needs the wheels the action plugin pushes; run the task "
                            "through pyfleet.uv.uv_sync's action plugin")
        self.envs.refuse_foreign()
        self.result["environment"]["current"] = self.envs.current()  # reported on a failure; read again under the lock
        self.find_project()
        self.setup()
        if params.get("wheelhouse_dir"):
            wheels = params["wheelhouse_dir"]
            names = os.listdir(wheels) if os.path.isdir(wheels) else []
            self.result["wheelhouse"] = dict(path=wheels, files=len(names),
                                             bytes=sum(os.path.getsize(os.path.join(wheels, n)) for n in names))
        self.check_lock()
        interpreter = self.find_python()
        key = environment_key(self.result["lock"]["sha256"], self.settings(interpreter))
        target = self.envs.dir_of(key)
        if params["download_on"] == "controller":  # the action plugin's probe: what its wheels fit, whether any is needed
            _rc, out, _err = self.module.run_command([interpreter, "-I", "-c", _VERSION], cwd="/")
            version, implementation = (out.split() + ["", ""])[:2]
            build = not self.envs.complete(key)
            if not build and target != self.result["environment"]["current"] and self.check(target):
                build = True  # a kept environment that fails its check is built again: the wheels are needed
            self.result["plan"] = dict(python=dict(executable=interpreter, version=version, implementation=implementation.lower()),
                                       build=build)
        if self.module.check_mode:
            current = self.result["environment"]["current"]
            before = self.packages_of(current)
            ready = self.envs.complete(key)
            if current == target and ready:
                return self.report(before, before, None, "%s runs %s, built from this lock; nothing to do" % (self.envs.path, target))
            after = self.listed(target) if ready else self.planned(interpreter)
            return self.report(before, after, target, "would switch %s to %s%s" % (
                self.envs.path, target, " (an earlier environment, kept)" if ready else " (a new environment)"))
        umask = os.umask(0o022)  # what the services' users need to read, whatever the connection's umask
        try:
            self.envs.prepare()
            # Everything below is decided under the host lock: a parallel run may have switched the link (or
            # built this environment) while this one waited, and what runs now is what keep must keep.
            current = self.result["environment"]["current"] = self.envs.current()
            before = self.packages_of(current)
            ready = self.envs.complete(key)
            if current == target and ready:
                return self.report(before, before, None, "%s runs %s, built from this lock; nothing to do" % (self.envs.path, target))
            if not ready and target == current:
                raise SyncError("the running environment %s (%s) has no complete receipt (%s: half written, or "
                                "removed); uv_sync never rebuilds the environment services run from in place: "
                                "remove the link %s (the services stop) and run again" % (
                                    self.envs.path, target, "uv-sync.json", self.envs.path))
            if ready:
                problem = self.check(target)  # a kept environment is checked like a new one before a switch
                if problem:
                    self.module.warn("the kept environment %s failed its check (%s); it is discarded and built again"
                                     % (target, problem))
                    self.envs.discard(target)
                    ready = False
            if not ready:
                self.envs.clear(key)
                try:
                    self.build(target, interpreter)
                    self.verify(target)
                    self.envs.write_receipt(key, dict(lock=self.result["lock"], python=interpreter, built=time.time(),
                                                      options=self.settings(interpreter)))
                except SyncError as exc:
                    self.envs.discard(target)
                    if exc.msg.startswith("the new environment"):
                        raise
                    raise SyncError("building the new environment %s failed; it was removed and %s was left as it "
                                    "was:\n%s" % (target, self.envs.path, exc.msg), **exc.details)
                except BaseException:
                    self.envs.discard(target)
                    raise
            after = self.listed(target)
            if current and self.envs.receipt(current) is not None:
                now = time.time()
                os.utime(os.path.join(current, "uv-sync.json"), (now, now))  # the newest earlier one
            self.envs.switch(key)
            self.result["removed_environments"] = self.envs.prune(params["keep"])
        finally:
            self.envs.release()
            os.umask(umask)
        return self.report(before, after, target, "switched %s to %s%s" % (
            self.envs.path, target, " (an earlier environment, kept)" if ready else " (built from the lock)"))

    def build(self, target, interpreter):
        params = self.params
        if not params.get("wheelhouse_dir"):
            args = ["sync", "--frozen", "--no-editable", "--python", interpreter] + self.selection()
            if not params["install_project"]:
                args.append("--no-install-project")
            self.uv(args, "uv sync into the new environment %s" % target, environment=target)
            return
        wheels = params["wheelhouse_dir"]
        offline = ["--offline", "--no-index", "--find-links", wheels]
        self.uv(["venv", target, "--python", interpreter], "creating the new environment %s" % target)
        export = ["export", "--frozen", "--format", "requirements-txt", "--no-editable"] + self.selection()
        if not params["install_project"]:
            export.append("--no-emit-project")
        _rc, out, _err = self.uv(export, "uv export")
        requirements, paths = export_split(out)
        if requirements:
            listing = os.path.join(tempfile.mkdtemp(prefix="uv-sync-req-", dir=self.module.tmpdir), "requirements.txt")
            with open(listing, "w") as handle:
                handle.write("\n".join(requirements) + "\n")
            self.uv(["pip", "sync", "--python", target] + offline + ["--require-hashes", "--no-build", listing],
                    "uv pip sync from the wheelhouse %s" % wheels)
        if paths:
            local = [os.path.join(self.project, p[len("file://"):] if p.startswith("file://") else p) for p in paths]
            self.uv(["pip", "install", "--python", target, "--no-deps"] + offline + local,
                    "installing the workspace's own packages from the wheelhouse %s" % wheels)

    def check(self, target):
        """``None`` when the environment's Python runs and imports the top-level packages of the project's own
        distributions (those installed from a local path), else what failed (its last lines of output)."""
        python = os.path.join(target, "bin", "python")
        names = []
        for record in _local_records(target):
            with open(record) as handle:
                names.extend(top_level_names(handle.read()))
        argv = [python, "-I", "-c", _IMPORT] + sorted(set(names))
        self.runner.commands.append(argv)
        rc, out, err = self.module.run_command(argv, cwd="/", handle_exceptions=False) if os.path.exists(python) \
            else (None, "", "%s does not exist" % python)
        if rc == 0:
            return None
        output = redact_text("\n".join((err or out or "").strip().splitlines()[-4:]))
        return "its Python imports %s: %s" % (", ".join(sorted(set(names))) or "nothing", output)

    def verify(self, target):
        """``check`` for a new environment: ``SyncError`` with what failed."""
        problem = self.check(target)
        if problem:
            raise SyncError("the new environment %s failed its check (%s; it was removed and %s was left as it was"
                            % (target, problem.replace(": ", "): ", 1), self.envs.path))

    # -- report ------------------------------------------------------------

    def commands(self):
        return [redact_text(" ".join(c)) for c in self.runner.commands] if self.runner else []

    def report(self, before, after, target, msg):
        result = self.result
        result["before"] = dict((v["name"], v["version"]) for v in before.values())
        result["after"] = dict((v["name"], v["version"]) for v in after.values())
        changes = changes_from_lists(before, after)
        result["packages"] = dict(installed=changes["installed"], removed=changes["removed"], upgraded=changes["upgraded"])
        result["changed"] = target is not None
        if target is not None and not self.module.check_mode:
            result["environment"]["previous"] = result["environment"]["current"]
            result["environment"]["current"] = target
        shown = result["environment"]["current"] if not self.module.check_mode else (target or result["environment"]["current"])
        cfg = read_pyvenv(shown) if shown and os.path.isdir(shown) else None
        if cfg:
            result["environment"]["python"] = dict(version=cfg.get("version_info") or cfg.get("version"),
                                                   executable=os.path.join(self.envs.path, "bin", "python"))
        result["msg"] = msg
        result["cmd"] = self.commands()
        if self.module._diff:
            result["diff"] = dict(
                before_header="%s (packages)" % self.envs.path, after_header="%s (packages)" % self.envs.path,
                before="".join("%s==%s\n" % (v["name"], v["version"]) for _k, v in sorted(before.items())),
                after="".join("%s==%s\n" % (v["name"], v["version"]) for _k, v in sorted(after.items())))
        return result


def unpack_project(archive, top):
    """Extract a project's tar archive into the directory ``top``: regular files (streamed to disk, never
    read whole into memory) and folders only, never links or devices; a member whose name is absolute or
    has a ``..`` component is refused (``..notes`` is an ordinary name). Returns ``top``."""
    with tarfile.open(archive) as tar:
        for member in tar:
            name = os.path.normpath(member.name)
            if os.path.isabs(member.name) or ".." in name.split(os.sep):
                raise SyncError("the project archive holds %r, outside the project" % member.name)
            if name == ".":
                continue
            full = os.path.join(top, name)
            if member.isdir():
                if not os.path.isdir(full):
                    os.makedirs(full, 0o755)
            elif member.type in (tarfile.REGTYPE, tarfile.AREGTYPE):
                if not os.path.isdir(os.path.dirname(full)):
                    os.makedirs(os.path.dirname(full), 0o755)
                source = tar.extractfile(member)
                with open(full, "wb") as handle:
                    shutil.copyfileobj(source, handle, 1 << 16)
                os.chmod(full, member.mode & 0o755 | 0o644)
    return top


def _local_records(target):
    """The RECORD files of the distributions in ``target`` that were installed from a local path."""
    found = []
    lib = os.path.join(target, "lib")
    for version_dir in (os.listdir(lib) if os.path.isdir(lib) else []):
        site = os.path.join(lib, version_dir, "site-packages")
        for name in (os.listdir(site) if os.path.isdir(site) else []):
            direct = os.path.join(site, name, "direct_url.json")
            if name.endswith(".dist-info") and os.path.isfile(direct):
                try:
                    with open(direct) as handle:
                        url = json.load(handle).get("url", "")
                except (IOError, OSError, ValueError):
                    continue
                if url.startswith("file:") and not url.endswith(".whl") and os.path.isfile(os.path.join(site, name, "RECORD")):
                    found.append(os.path.join(site, name, "RECORD"))
    return found
