# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller side of pyfleet.uv.uv_sync.

With ``project_src``, the project's files (``_sync.project_files``: no ``.git``, ``.venv``, caches
or build output) go to the host as one tar archive in the task's remote tmp, as ansible-core's
``copy`` sends a file (``_transfer_file``, ``_fixup_perms2``, the tmp removed in a ``finally``);
the module unpacks it into its own temporary directory (``project_archive``). With
``project_dir`` the project is already on the host and nothing is sent.

``download_on: controller`` (``_controller``): the controller reads the lock (``_uv_lock``), checks the
wheels of the play's other hosts whose Python is pinned (``python`` as a version, or ``.python-version``)
from their ``ansible_facts.uv``, runs the module in check mode once (the probe: the interpreter the
environment uses, and whether a new environment is built at all), plans this host's wheels, fails
with ``missing_wheels`` before anything changes when some host has none, and only when a new
environment is built downloads them once for the fleet into the controller cache (``_wheelhouse.fetch``:
file lock per file, sha256 checked against the lock), pushes them with ``build_wheels`` into
``<remote tmp>/wheelhouse/`` and runs the module with that ``wheelhouse_dir``: the host installs with
no index at all. Index options and their credentials stay on the controller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import stat
import tarfile
import tempfile

from ansible.errors import AnsibleError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._sync import project_files
from ansible_collections.pyfleet.uv.plugins.plugin_utils._action import DownloadOnAction
from ansible_collections.pyfleet.uv.plugins.plugin_utils._cache import mark_owned, release, sweep_stale

MODULE = "pyfleet.uv.uv_sync"
ARCHIVE = "project.tar.gz"
SCRATCH = "uv-sync-"  # the controller's scratch folders in TMPDIR


# Dotfiles stay on the controller (``.env``, ``.netrc``, ``.pypirc``, editor and tool settings often hold
# secrets); only those uv reads to build the environment go: the Python request of the project.
SENT_DOTFILES = frozenset([".python-version", ".python-versions"])


def pack_project(top, archive, warn=None):
    """Write the project's files below ``top`` into the gzip tar ``archive`` (regular files only, with
    their folders; owners dropped). Returns the number of files.

    Left out, besides what ``project_files`` leaves out: dotfiles and dot folders other than
    ``SENT_DOTFILES``; a symbolic link to a file outside ``top`` (its target is not the project's, and
    following it would send any file the controller can read); a symbolic link to a folder, inside the
    project or not (never followed: the folder's files go under its own name when it is the project's);
    FIFOs, sockets and devices (opening a FIFO blocks). ``warn(text)`` is told of each link (but a link
    to a virtual environment) and special file left out.
    """
    warn = warn or (lambda text: None)
    real_top = os.path.realpath(top)
    count = 0
    with tarfile.open(archive, "w:gz") as tar:
        for rel in project_files(top):
            parts = rel.split(os.sep)
            if any(part.startswith(".") for part in parts[:-1]) or (
                    parts[-1].startswith(".") and parts[-1] not in SENT_DOTFILES):
                continue
            full = os.path.join(top, rel)
            if os.path.islink(full) and not os.path.exists(full):
                raise UvError("%s is a broken symbolic link in project_src %s" % (rel, top))
            real = os.path.realpath(full)
            if os.path.isdir(full):  # a link to a folder (project_files follows none)
                if not os.path.isfile(os.path.join(full, "pyvenv.cfg")):  # a virtual environment is never sent
                    warn(_folder_link_warning(rel, top, real, real_top))
                continue
            if os.path.islink(full) and not real.startswith(real_top + os.sep):
                warn("%s in project_src %s is a symbolic link to %s, outside the project: it was not sent" % (rel, top, real))
                continue
            if not stat.S_ISREG(os.stat(real).st_mode):
                warn("%s in project_src %s is not a regular file (a FIFO, socket or device): it was not sent" % (rel, top))
                continue
            info = tar.gettarinfo(real, arcname=rel)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with open(real, "rb") as handle:
                tar.addfile(info, handle)
            count += 1
    return count


def _folder_link_warning(rel, top, real, real_top):
    if real == real_top or real.startswith(real_top + os.sep):
        inside = os.path.relpath(real, real_top)
        return ("%s in project_src %s is a symbolic link to the folder %s, inside the project: it was not sent (links "
                "to folders are not followed, so its files go under %s only); make %s a real folder if the "
                "application needs its files there" % (rel, top, inside, inside, rel))
    return ("%s in project_src %s is a symbolic link to the folder %s, outside the project: it was not sent (nor "
            "anything in it); copy what the application needs into the project" % (rel, top, real))


# The options the hosts never get with download_on=controller: the controller downloads, the hosts use no index.
_INDEX_OPTIONS = ("index_url", "extra_index_urls")
_PINNED_PYTHON = re.compile(r"^(?:cpython[@-]?)?(3\.\d+(?:\.\d+)?)$", re.IGNORECASE)


def pinned_python(request, top):
    """The Python version every host's environment uses, when the task or the project pins it: ``python``
    (``3.12``, ``3.12.7``, ``cpython@3.12``), else the project's ``.python-version``; ``None`` when the
    host decides (a path, a range, nothing)."""
    if request:
        match = _PINNED_PYTHON.match(str(request).strip())
        return match.group(1) if match else None
    try:
        with open(os.path.join(top, ".python-version")) as handle:
            lines = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    except (IOError, OSError):
        return None
    match = _PINNED_PYTHON.match(lines[0]) if lines else None
    return match.group(1) if match else None


def read_text(top, name):
    """The text of the project's ``name`` (uv.lock, pyproject.toml) in ``top``; a ``UvError`` that says what to
    fix when it cannot be read or is not UTF-8 (TOML files are UTF-8, and uv writes uv.lock so)."""
    path = os.path.join(top, name)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise UvError("%s in project_src %s cannot be read on the controller: %s; no host was changed"
                      % (name, top, exc.strerror or exc))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        fix = ("run `uv lock` in the project and deploy the new uv.lock" if name == "uv.lock"
               else "save it as UTF-8 (TOML files are UTF-8), then run `uv lock` in the project")
        raise UvError("%s in project_src %s is not UTF-8 text (byte 0x%02x on line %d): something other than uv "
                      "rewrote it (an editor's encoding, a copy in text mode): %s; no host was changed"
                      % (name, top, bytearray(data[exc.start:exc.start + 1])[0], data[:exc.start].count(b"\n") + 1, fix))


def _names(value):
    """A list option as the module reads it (a list, or one comma-separated string)."""
    if not value:
        return []
    return [part.strip() for part in value.split(",")] if isinstance(value, str) else list(value)


def missing_message(missing, host):
    """The task's message for ``plan()["missing_wheels"]``, seen from ``host``."""
    lines = ["- %s %s: %s (hosts: %s)" % (m["name"], m["version"], m["reason"], ", ".join(m["hosts"])) for m in missing]
    others = not any(host in m["hosts"] for m in missing)
    return ("download_on=controller: %d locked package%s %s no wheel for some hosts of the play%s; no host was changed "
            "(every host of the play fails, so that none runs a release the others cannot):\n%s\nPublish a wheel for "
            "that platform and Python on the index and run uv lock again, leave out the extra or group that needs "
            "it, or deploy with download_on=host (the hosts build it from its sdist)" % (
                len(missing), "" if len(missing) == 1 else "s", "has" if len(missing) == 1 else "have",
                " (not this host: %s)" % host if others else "", "\n".join(lines)))


def pushed_wheelhouse(reported, counts):
    """The task's ``wheelhouse``: what the module reported of the pushed folder and the controller's ``counts``,
    without the folder's ``path`` (it was in the task's remote tmp, removed when the task ends)."""
    out = dict((key, value) for key, value in (reported or {}).items() if key != "path")
    out.update(counts)
    return out


class ActionModule(DownloadOnAction):
    """See the module docstring."""

    def _dispatch(self, result, args, mode, task_vars):
        if args.get("project_src") and args.get("project_dir"):
            raise UvError("project_src and project_dir are mutually exclusive: give one")
        if args.get("build_wheels") and mode != "controller":
            raise UvError("build_wheels is for download_on=controller (the host's uv gets build backends from the "
                          "index with download_on=host)")
        # The scratch of a run killed on the controller stays behind (no finally runs): each run holds its own
        # (a flock, gone with the process) and removes those that nobody holds.
        sweep_stale(tempfile.gettempdir(), SCRATCH)
        scratch = tempfile.mkdtemp(prefix=SCRATCH)
        held = None
        try:
            held = mark_owned(scratch)
            if mode == "controller":
                self._controller(result, args, task_vars, scratch)
                return
            if args.get("project_src"):
                args["project_archive"] = self._send_project(self._project_top(args), scratch)
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            release(held)

    def _source_dir(self, given):
        try:
            found = self._find_needle("files", given)
        except AnsibleError as exc:
            raise UvError("project_src %s was not found on the controller: %s" % (given, exc))
        if not os.path.isdir(found):
            raise UvError("project_src %s is not a directory on the controller (give the project's folder, "
                          "which holds pyproject.toml and uv.lock)" % found)
        return found

    def _project_top(self, args):
        """``project_src`` found on the controller, with its pyproject.toml and uv.lock."""
        top = self._source_dir(args["project_src"])
        args["project_src"] = top
        for needed in ("pyproject.toml", "uv.lock"):
            if not os.path.isfile(os.path.join(top, needed)):
                hint = " (run `uv lock` in the project)" if needed == "uv.lock" else ""
                raise UvError("project_src %s has no %s%s; the host was not changed" % (top, needed, hint))
        return top

    def _send_project(self, top, scratch):
        """Pack the project in ``top`` and copy it into the remote tmp; returns the archive's path on the host."""
        local = os.path.join(scratch, ARCHIVE)
        pack_project(top, local, self._display_warning)
        return self._push_files([(local, ARCHIVE)])[0]

    def _remote(self, *parts):
        if not self._connection._shell.tmpdir:
            self._make_tmp_path()
        shell = self._connection._shell
        return shell.join_path(shell.tmpdir, *parts)

    def _push_files(self, items, folder=None):
        """Copy each ``(local path, name)`` into the remote tmp (into ``folder`` there, made first, when given);
        the remote paths, in order."""
        shell = self._connection._shell
        remotes, made = [], []
        if folder:
            made = [self._remote(folder)]
            # as the connection user, like the remote tmp itself (ansible-core makes it with sudoable=False):
            # _transfer_file writes as that user, and _fixup_perms2 then opens the folders to the become user
            out = self._low_level_execute_command("mkdir -p %s" % shell.quote(made[0]), sudoable=False)
            if out.get("rc") != 0:
                raise UvError("cannot create %s on the host: %s" % (made[0], out.get("stderr") or out.get("stdout")))
        for local, name in items:
            remote = self._remote(*([folder, name] if folder else [name]))
            self._transfer_file(local, remote)
            remotes.append(remote)
        self._fixup_perms2([shell.tmpdir] + made + remotes)
        return remotes

    def _module_run(self, args, task_vars, check_mode):
        saved = self._task.check_mode
        self._task.check_mode = check_mode
        try:
            return self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        finally:
            self._task.check_mode = saved

    # -- download_on: controller ----------------------------------------------

    def _controller(self, result, args, task_vars, scratch):
        """Read the lock, plan the wheels of the play's hosts, probe the host in check mode, fetch once on
        the controller, push what a new environment needs, install with no index (see the module's docs)."""
        if not args.get("project_src"):
            raise UvError("download_on=controller needs project_src (the project's directory on the controller): the "
                          "controller reads its uv.lock to choose the wheels. project_dir names a directory on the "
                          "host, which the controller cannot read: copy the project to the controller, or use "
                          "download_on=host")
        # Imported here: the lock reader and the cache stay out of download_on=host.
        from ansible_collections.pyfleet.uv.plugins.plugin_utils import _uv_lock  # pylint: disable=import-outside-toplevel
        top = self._project_top(args)
        lock = _uv_lock.load_lock(read_text(top, "uv.lock"))
        selection = dict(groups=_names(args.get("groups")), extras=_names(args.get("extras")),
                         no_dev=boolean(args.get("no_dev", True), strict=False),
                         install_project=boolean(args.get("install_project", True), strict=False))
        if not selection["no_dev"]:  # the host's uv installs the project's default groups ([tool.uv] default-groups)
            defaults = _uv_lock.default_groups(lock, read_text(top, "pyproject.toml"))
            selection["groups"] = list(selection["groups"]) + [g for g in defaults if g not in selection["groups"]]
            selection["no_dev"] = True  # dev is among the groups now exactly when uv installs it
        build_wheels = self._build_wheels(args, lock)
        me = task_vars.get("inventory_hostname")
        facts = self._uv_facts(task_vars)
        # The play's hosts first (this one too when the Python is pinned): a missing wheel on any of them fails
        # before this host is touched.
        pinned = pinned_python(args.get("python"), top)
        others = self._fleet_targets(_uv_lock, task_vars, me, pinned)
        early_targets = dict(others)
        if pinned:
            early_targets[me] = _uv_lock.host_target(dict(facts, python=dict(version=pinned)))
        if early_targets:
            early = _uv_lock.plan(lock, early_targets, **selection)
            if early["missing_wheels"]:
                result.update(failed=True, changed=False, missing_wheels=early["missing_wheels"],
                              msg=missing_message(early["missing_wheels"], me))
                return
        host = dict((k, v) for k, v in args.items() if k not in _INDEX_OPTIONS + ("build_wheels", "controller_cache_dir"))
        host["find_links"] = [link for link in args.get("find_links") or [] if "://" not in link]
        host["project_archive"] = self._send_project(top, scratch)
        host["wheelhouse_dir"] = self._remote("wheelhouse")
        probe = self._module_run(host, task_vars, check_mode=True)
        if probe.get("failed") or not isinstance(probe.get("plan"), dict):
            result.update(probe)
            return
        python = probe["plan"]["python"]
        target = _uv_lock.host_target(dict(facts, python=dict(version=python["version"],
                                                              implementation=python.get("implementation"))))
        fleet = _uv_lock.plan(lock, dict(others, **{me: target}), **selection)
        if fleet["missing_wheels"]:
            result.update(failed=True, changed=False, missing_wheels=fleet["missing_wheels"],
                          msg=missing_message(fleet["missing_wheels"], me))
            return
        names = fleet["hosts"][me]
        wheelhouse = dict(files=len(names) + len(build_wheels), files_pushed=0, downloaded=0, bytes_pushed=0)
        if not probe.get("changed") or not probe["plan"]["build"] or self._task.check_mode:
            # Nothing to build (a no-op, or a kept environment switched back to): nothing is fetched or pushed.
            if self._task.check_mode:
                result.update(probe)
                if probe.get("changed") and probe["plan"]["build"]:
                    result["msg"] = "%s; the controller would push %d wheels" % (probe.get("msg", ""), wheelhouse["files"])
            else:
                result.update(self._module_run(host, task_vars, check_mode=False) if probe.get("changed") else probe)
            result["wheelhouse"] = pushed_wheelhouse(result.get("wheelhouse"), wheelhouse)
            return
        from ansible_collections.pyfleet.uv.plugins.plugin_utils import _wheelhouse  # pylint: disable=import-outside-toplevel
        options = dict(timeout=30, download_retries=3, index_url=args.get("index_url"),
                       extra_index_urls=args.get("extra_index_urls") or [])
        fetched = _wheelhouse.fetch(dict((name, fleet["files"][name]) for name in names), args.get("controller_cache_dir"),
                                    options, self._display_warning)
        items = [(fetched[name]["path"], name) for name in names] + build_wheels
        self._push_files(items, "wheelhouse")
        wheelhouse.update(files_pushed=len(items), downloaded=sum(1 for f in fetched.values() if f["downloaded"]),
                          bytes_pushed=sum(os.path.getsize(path) for path, _name in items))
        result.update(self._module_run(host, task_vars, check_mode=False))
        result["wheelhouse"] = pushed_wheelhouse(result.get("wheelhouse"), wheelhouse)

    def _build_wheels(self, args, lock):
        """``[(path, name)]`` of ``build_wheels`` (found like ``project_src``); a packaged project that the host
        builds with no backend given fails here, before any host is touched."""
        found = []
        for given in args.get("build_wheels") or []:
            try:
                path = self._find_needle("files", given)
            except AnsibleError as exc:
                raise UvError("build_wheels: %s was not found on the controller: %s" % (given, exc))
            if not path.endswith(".whl") or not os.path.isfile(path):
                raise UvError("build_wheels: %s is not a wheel file (name.whl) on the controller" % path)
            found.append((path, os.path.basename(path)))
        if not found and boolean(args.get("install_project", True), strict=False):
            roots = [p for p in lock.packages if (p.get("source") or {}).get("editable") == "."]
            if roots:
                raise UvError(
                    "download_on=controller: the project %s is a package the host builds with its build backend "
                    "(pyproject.toml's [build-system]), and uv.lock does not pin build backends, so the host has none "
                    "without an index: give build_wheels (the backend's wheels, with what it needs, on the "
                    "controller), or install_project=false; no host was changed" % roots[0].get("name"))
        return found

    def _uv_facts(self, task_vars):
        """This host's ``ansible_facts.uv`` (gathered with pyfleet.uv.uv_facts when the play has not)."""
        facts = (task_vars.get("ansible_facts") or {}).get("uv")
        if isinstance(facts, dict) and facts.get("arch") and facts.get("libc"):
            return facts
        got = self._execute_module(module_name="pyfleet.uv.uv_facts", module_args={}, task_vars=task_vars)
        if got.get("failed"):
            raise UvError("download_on=controller needs the host's architecture and C library, and "
                          "pyfleet.uv.uv_facts failed: %s" % got.get("msg"))
        gathered = got.get("ansible_facts") or {}
        return gathered.get("ansible_uv") or gathered.get("uv")  # the module returns the prefixed name

    def _fleet_targets(self, _uv_lock, task_vars, me, python):
        """``{host: Target}`` of the other hosts of the play's batch that the controller can plan for: those
        with ``ansible_facts.uv`` when the Python is pinned (each host's own run plans for itself in any case)."""
        hostvars = task_vars.get("hostvars") or {}
        hosts = [h for h in task_vars.get("ansible_play_batch") or [] if h != me]
        targets, without, failing = {}, [], []
        for name in hosts:
            facts = ((hostvars.get(name) or {}).get("ansible_facts") or {}).get("uv")
            if not isinstance(facts, dict) or not facts.get("arch"):
                without.append(name)
                continue
            if python is None:
                continue
            try:
                targets[name] = _uv_lock.host_target(dict(facts, python=dict(version=python)))
            except UvError as exc:
                failing.append("%s (%s)" % (name, exc.msg))
        if hosts and python is None:
            self._display_warning(
                "download_on=controller: the Python of the environment is chosen on each host (python is not a "
                "version, and the project has no .python-version), so the wheels of %d other host%s of the play "
                "were not checked before this host: give python as X.Y to check the whole play first"
                % (len(hosts), "" if len(hosts) == 1 else "s"))
        elif without:
            verb = "has" if len(without) == 1 else "have"
            self._display_warning(
                "download_on=controller: %s %s no ansible_facts.uv (run pyfleet.uv.uv_facts first): the wheels were "
                "checked only for this host and %d other host%s" % (", ".join(sorted(without)), verb, len(targets),
                                                                    "" if len(targets) == 1 else "s"))
        for text in failing:
            self._display_warning("download_on=controller: no wheels can be chosen for %s" % text)
        return targets
