# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""uv_venv's flow: validate the inputs, decide (the environment, then the packages, from uv's
dry run), act, report.

PRIVATE API: only for this collection's modules; names may change without notice.
The module file holds the docs, the argument spec and ``main()``; the pure parsers are in
``_venv``, building beside the path and the swap in ``_venv_build``, running uv in ``_uv_runner``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shlex
import tempfile

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_text, redact_url
from ansible_collections.pyfleet.uv.plugins.module_utils._uv_runner import UvRunner, locate_uv
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._venv import (
    VenvError,
    changes_from_lists,
    index_args,
    inspect_path,
    normalize_name,
    parse_dry_run,
    parse_pip_list,
    plan_after,
    python_matches,
    read_pyvenv,
    requirement_name,
    site_packages_flag,
    with_version,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._venv_build import (
    discard,
    drop_new_lock,
    empty_again,
    lock_mark,
    make_parents,
    same_filesystem,
    staging_path,
    swap_in,
)

__all__ = ["UvVenv", "VenvError"]

# uv's words for "the index has no such package or version" (uv 0.5 to 0.13): the message then
# names the indexes that were asked.
_NOT_FOUND_HINTS = ("was not found in", "there is no version of", "no versions of", "unsatisfiable")
# Prints the interpreter a path really runs (a pyenv shim or a wrapper script runs another one).
_REAL_EXECUTABLE = "import os, sys; print(os.path.realpath(sys.executable))"


class UvVenv(object):
    """Validate, decide (environment, then packages, from a dry run), act, report."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        given = self.params["path"].rstrip(os.sep) or os.sep
        if not os.path.isabs(given) and self.params["chdir"]:
            given = os.path.join(self.params["chdir"], given)
        self.relative = not os.path.isabs(given)
        # ``shown`` is the path as given (a symlink stays one); ``path`` the directory it leads to,
        # where the work is done, so a recreate replaces the link's target and keeps the link.
        self.shown = os.path.normpath(given) if not self.relative else given
        self.path = os.path.realpath(self.shown)
        self.venv_python = os.path.join(self.path, "bin", "python")
        self.result = dict(changed=False, path=self.shown, created=False, recreated=False, reason=None,
                           python=dict(version=None, executable=os.path.join(self.shown, "bin", "python"), base=None),
                           packages=dict(installed=[], removed=[], upgraded=[], downgraded=[], reinstalled=[]),
                           before={}, after={}, cmd=[])
        self.runner = None
        self.umask = 0o022
        self.warned = set()

    # -- inputs ------------------------------------------------------------

    def requests(self):
        """The names (with ``version`` applied) and the requirement/constraint files, checked."""
        params = self.params
        names = [n.strip() for n in params["name"] if n and n.strip()]
        if params["version"]:
            if len(names) != 1:
                raise VenvError("version applies to exactly one package in name, got %d" % len(names))
            names = [with_version(names[0], params["version"])]
        for name in names:
            if name.startswith("-"):
                raise VenvError("%r in name is an option, not a requirement: put options in extra_args" % name)
        if params["editable"] and params["state"] == "absent":
            raise VenvError("editable applies to installing; remove an editable project by its package name "
                            "with state=absent and editable=false")
        base = params["chdir"] or "/"
        files = {}
        for option in ("requirements", "constraints"):
            files[option] = []
            for given in params[option]:
                full = os.path.join(base, given)
                if not os.path.isfile(full):
                    raise VenvError("the %s file %s does not exist on the host%s" % (
                        option[:-1].replace("requirement", "requirements"), full,
                        "" if os.path.isabs(given) else " (relative paths start from chdir, %s)" % base))
                files[option].append(full)
        if params["state"] != "present" and not names and not files["requirements"]:
            raise VenvError("state=%s needs packages: give name or requirements" % params["state"])
        return names, files

    def index_args(self):
        return index_args(self.params, ("no_index", "offline", "require_hashes", "no_build"))

    def extra_args(self):
        out = []
        for item in self.params["extra_args"]:
            try:
                out += shlex.split(item)
            except ValueError as exc:
                raise VenvError("extra_args item %r cannot be split into arguments (%s): balance its quotes, or "
                                "give each argument as its own list item" % (redact_text(item), exc))
        return out

    def asked_where(self):
        """The indexes a request went to, for a "not found" message (credentials masked)."""
        params = self.params
        if params["no_index"]:
            where = "no index, find_links %s" % ", ".join(redact_url(u) for u in params["find_links"])
        elif params["index_url"]:
            where = "index_url %s" % redact_url(params["index_url"])
        else:
            where = "the index of the system uv.toml, or uv's default index (no index_url given)"
        if params["extra_index_urls"] and not params["no_index"]:
            where += ", extra_index_urls %s" % ", ".join(redact_url(u) for u in params["extra_index_urls"])
        if params["find_links"] and not params["no_index"]:
            where += ", find_links %s" % ", ".join(redact_url(u) for u in params["find_links"])
        if params["offline"]:
            where += ("; offline=true: uv used no network, only find_links directories and a cache-dir that the "
                      "system uv.toml names (this task's own cache is private and starts empty); turn offline off, "
                      "or give find_links a directory that holds the files")
        return where

    # -- uv ----------------------------------------------------------------

    def setup(self):
        params = self.params
        umask = params["umask"]
        if umask is None:
            umask = 0o022
        elif not isinstance(umask, int):
            try:
                umask = int(str(umask), 8)
            except ValueError:
                raise VenvError("umask must be an octal string such as 0022, got %r" % (umask,))
        self.umask = umask
        if params["chdir"] and not os.path.isdir(params["chdir"]):
            raise VenvError("chdir %s is not a directory" % params["chdir"])
        uv, _how = locate_uv(params["uv_path"])
        self.home = tempfile.mkdtemp(prefix="uv-home-", dir=self.module.tmpdir)
        extra = dict(UV_PYTHON_DOWNLOADS="never")
        if not same_filesystem(self.home, self.path):
            # uv hard-links from its cache (here in the private home) and warns when it must copy across
            # filesystems; it copies then anyway, so say so and get no warning.
            extra["UV_LINK_MODE"] = "copy"
        self.runner = UvRunner(self.module, uv, self.home, params["python_install_dir"],
                               extra_env=extra, umask=umask, cwd=params["chdir"] or "/")
        self.result["uv"] = uv
        self.result["uv_version"] = self.runner.version_string()

    def warn_from(self, err):
        """uv's own ``warning:`` lines of one call, as task warnings (masked, each once)."""
        for line in (err or "").splitlines():
            if line.startswith("warning:"):
                text = redact_text("uv: " + line[len("warning:"):].strip())
                if text not in self.warned:
                    self.warned.add(text)
                    self.module.warn(text)

    def uv(self, args, what):
        try:
            rc, out, err = self.runner.run(args, what)
        except UvError as exc:
            self.warn_from(exc.details.get("stderr"))
            msg = exc.msg
            if self.params["offline"] or any(hint in msg for hint in _NOT_FOUND_HINTS):
                msg += "\nindexes asked: %s" % self.asked_where()
            raise VenvError(msg, **exc.details)
        self.warn_from(err)
        return rc, out, err

    def listed(self, path=None):
        path = path or self.path
        _rc, out, _err = self.uv(["pip", "list", "--format", "json", "--python", path],
                                 "listing the packages of %s" % path)
        return parse_pip_list(out)

    def listed_or_empty(self):
        """The packages of a venv that is to be recreated, or none when uv cannot list it any more."""
        try:
            return self.listed()
        except UvError:
            return {}

    def find_python(self):
        """The interpreter uv would make the environment from (no download; ``VenvError`` if none)."""
        args = ["python", "find"]
        if self.params["python"]:
            args.append(self.params["python"])
        _rc, out, _err = self.uv(args, "finding the Python %s" % (self.params["python"] or "(uv's default)"))
        found = out.strip().splitlines()[-1].strip() if out.strip() else ""
        if not found:
            raise VenvError("uv python find printed no interpreter for %s" % (self.params["python"] or "the default"))
        return found

    def real_interpreter(self, path):
        """The interpreter ``path`` really runs: a pyenv shim or a wrapper script names another one.

        Asked of the interpreter itself (``sys.executable``, resolved), as uv does when it makes
        the environment; the resolved path itself when it cannot be run.
        """
        rc, out, _err = self.module.run_command([path, "-c", _REAL_EXECUTABLE], cwd="/", handle_exceptions=False) \
            if os.access(path, os.X_OK) else (1, "", "")
        lines = (out or "").strip().splitlines()
        return lines[-1].strip() if rc == 0 and lines and os.path.isabs(lines[-1].strip()) else os.path.realpath(path)

    # -- decide ------------------------------------------------------------

    def decide_environment(self, kind, cfg):
        """``(action, reason)``: ``keep``, ``create`` or ``recreate``."""
        params = self.params
        if kind in ("missing", "empty"):
            return "create", "%s did not exist" % self.shown if kind == "missing" else "%s was empty" % self.shown
        if params["recreate"] == "always":
            return "recreate", "recreate=always"
        reasons = []
        wanted = params["python"]
        if wanted:
            request_path = wanted if os.sep in wanted else None
            if request_path and not os.path.exists(request_path):
                raise VenvError("python %s does not exist on the host" % request_path)
            matches = python_matches(wanted, cfg, self.venv_python, request_path)
            if request_path and not matches and os.path.exists(self.venv_python):
                # A pyenv shim or a wrapper script: compare the interpreter it runs, not its spelling.
                matches = python_matches(wanted, cfg, self.venv_python, self.real_interpreter(request_path))
            if matches is None:
                matches = self.real_interpreter(self.find_python()) == os.path.realpath(self.venv_python)
            if not matches:
                have = "%s %s" % (cfg.get("implementation") or "Python", cfg.get("version_info") or "?")
                if not os.path.exists(self.venv_python):
                    have += " whose interpreter is gone"
                reasons.append("python %s was asked for; the environment has %s" % (wanted, have))
        if site_packages_flag(cfg) != params["system_site_packages"]:
            reasons.append("system_site_packages=%s was asked for; the environment has include-system-site-packages"
                           " = %s" % (params["system_site_packages"], str(site_packages_flag(cfg)).lower()))
        if not reasons:
            return "keep", None
        if params["recreate"] == "never":
            self.module.warn("%s is kept as it is (recreate=never), although %s" % (self.shown, "; ".join(reasons)))
            return "keep", None
        return "recreate", "; ".join(reasons)

    def editable_names(self, names, before):
        """``names`` as install arguments: with ``editable``, each is ``-e <name>``, and a project
        directory already installed as an editable from that same directory is left out."""
        if not self.params["editable"]:
            return names
        installed = set(os.path.realpath(v["editable"]) for v in before.values() if v.get("editable"))
        base = self.params["chdir"] or "/"
        out = []
        for name in names:
            local = os.path.realpath(os.path.join(base, name[len("file://"):] if name.startswith("file://") else name))
            # Only ``present`` may leave an installed project out: ``exact`` would remove what is not
            # asked for, ``latest`` and ``forcereinstall`` act on what is asked for.
            if self.params["state"] == "present" and local in installed:
                continue
            out += ["-e", name]
        return out

    def install_args(self, names, files, env=None, target=None):
        state = self.params["state"]
        args = ["pip", "install"]
        if target:
            args += ["--python", env, "--target", target]
        else:
            args += ["--python", env or self.path]
        args += self.index_args()
        if state == "latest":
            args.append("--upgrade")
        elif state == "forcereinstall":
            args.append("--reinstall")
        elif state == "exact" and not target:
            args.append("--exact")
        for path in files["requirements"]:
            args += ["-r", path]
        for path in files["constraints"]:
            args += ["-c", path]
        return args + self.extra_args() + names

    def uninstall_args(self, names, files):
        args = ["pip", "uninstall", "--python", self.path]
        for path in files["requirements"]:
            args += ["-r", path]
        return args + self.extra_args() + names

    # -- run ---------------------------------------------------------------

    def run(self):
        """What ``_run`` did; an ``OSError`` (a parent that is a file, a mount point) as a ``VenvError``."""
        if self.relative:
            raise VenvError("path %s is relative: give an absolute path, or chdir (a relative path then starts "
                            "from it, as with ansible.builtin.pip)" % self.params["path"])
        try:
            return self._run()
        except (IOError, OSError) as exc:
            where = exc.filename or self.path
            raise VenvError("%s: %s, while making or changing the environment %s, which was left as it was" % (
                where, exc.strerror or exc, self.shown))

    def dry_run(self, args, what):
        """``uv pip ... --dry-run`` on the environment; the ``.lock`` uv takes there is removed again
        when there was none (a dry run, in check mode or before a no-op, leaves the host as it was)."""
        mark = lock_mark(self.path)
        try:
            _rc, out, err = self.uv(args + ["--dry-run"], what)
        finally:
            drop_new_lock(self.path, mark)
        return parse_dry_run(err + "\n" + out)

    def _run(self):
        params = self.params
        check = self.module.check_mode
        names, files = self.requests()
        if params["state"] == "absent":
            for name in names:
                requirement_name(name)
        kind, info = inspect_path(self.path)
        if kind == "other":
            raise VenvError("%s; refusing to replace it: choose another path, or remove it first" % info)
        self.setup()
        if params["state"] == "absent":
            return self.absent(kind, names, files, check)

        action, reason = self.decide_environment(kind, info)
        # A venv about to be recreated may have lost its interpreter: uv cannot list it then, and
        # what it held is reinstalled from the request anyway.
        before = self.listed() if kind == "venv" and action == "keep" else (
            self.listed_or_empty() if kind == "venv" else {})
        interpreter = None
        if action != "keep":
            interpreter = self.find_python()  # fails here, before anything is touched
            self.result["python"]["base"] = interpreter
        wanted = bool(names or files["requirements"])
        args = self.editable_names(names, before if action == "keep" else {})
        plan = []
        if wanted and (args or files["requirements"]):
            if action == "keep":
                plan = self.dry_run(self.install_args(args, files), "the dry run of uv pip install")
            elif check:  # a new environment is listed once built: only check mode needs the plan
                target = tempfile.mkdtemp(prefix="uv-target-", dir=self.module.tmpdir)
                _rc, out, err = self.uv(self.install_args(args, files, interpreter, target) + ["--dry-run"],
                                        "the dry run of uv pip install into a new environment")
                plan = parse_dry_run(err + "\n" + out)
        start = before if action == "keep" else {}
        reinstalled = _reinstalled(plan)

        if check:
            after = plan_after(start, plan)
        elif action != "keep":
            after = self.build(kind, args, files, wanted)
        else:
            if plan:
                self.uv(self.install_args(args, files), "uv pip install")
            after = self.listed() if plan else before
        self.report(action, reason, before, after, reinstalled)
        return self.result

    def build(self, kind, args, files, wanted):
        """Make the environment beside ``path`` (in it when it is an empty directory), install, swap in.

        On any failure the temporary build is removed (an empty directory is emptied again) and
        what was at ``path`` stays as it was. Returns the new environment's packages.
        """
        stage = self.path if kind == "empty" else staging_path(self.path)
        if stage != self.path:
            make_parents(self.path, self.umask)
        venv = ["venv", stage, "--relocatable"]
        if self.params["python"]:
            venv += ["--python", self.params["python"]]
        if self.params["system_site_packages"]:
            venv.append("--system-site-packages")
        try:
            self.uv(venv, "creating the environment %s" % self.shown)
            if wanted:
                self.uv(self.install_args(args, files, stage), "uv pip install into the new environment")
            after = self.listed(stage)
            if stage != self.path:
                swap_in(stage, self.path)
        except BaseException:
            if stage == self.path:
                empty_again(stage)
            else:
                discard(stage)
            raise
        return after

    def absent(self, kind, names, files, check):
        if kind != "venv":
            self.result["msg"] = "%s is not an environment; nothing to remove" % self.shown
            return self.result
        before = self.listed()
        plan = self.dry_run(self.uninstall_args(names, files), "the dry run of uv pip uninstall")
        if check or not plan:
            after = plan_after(before, plan)
        else:
            self.uv(self.uninstall_args(names, files), "uv pip uninstall")
            after = self.listed()
        self.report("keep", None, before, after, ())
        return self.result

    # -- report ------------------------------------------------------------

    def commands(self):
        return [redact_text(" ".join(c)) for c in self.runner.commands] if self.runner else []

    def report(self, action, reason, before, after, reinstalled):
        result = self.result
        check = self.module.check_mode
        changes = changes_from_lists(before, after, list(after) if action == "recreate" else reinstalled, downgrades=True)
        result["packages"] = changes
        result["before"] = dict((v["name"], v["version"]) for v in before.values())
        result["after"] = dict((v["name"], v["version"]) for v in after.values())
        result["created"] = action == "create"
        result["recreated"] = action == "recreate"
        result["reason"] = reason
        package_change = any(changes[k] for k in changes)
        result["changed"] = action != "keep" or package_change
        cfg = None if check and action != "keep" else read_pyvenv(self.path)
        if cfg:
            result["python"]["version"] = cfg.get("version_info") or cfg.get("version")
            result["python"]["base"] = result["python"]["base"] or _base(cfg, self.venv_python)
        would = "would " if check else ""
        parts = []
        if action == "create":
            parts.append("%s %s" % ("would create" if check else "created", self.shown))
        elif action == "recreate":
            parts.append("%s %s (%s)" % ("would recreate" if check else "recreated", self.shown, reason))
        for key, verb in (("installed", "install"), ("upgraded", "upgrade"), ("downgraded", "downgrade"),
                          ("reinstalled", "reinstall"), ("removed", "remove")):
            if changes[key]:
                parts.append("%s%s %s" % (would, verb if check else _past(verb), _names(changes[key])))
        result["msg"] = "; ".join(parts) if parts else "%s is as requested; nothing to do" % self.shown
        result["cmd"] = self.commands()
        if self.module._diff:
            result["diff"] = dict(
                before_header="%s (packages)" % self.shown, after_header="%s (packages)" % self.shown,
                before="".join("%s==%s\n" % (v["name"], v["version"]) for _k, v in sorted(before.items())),
                after="".join("%s==%s\n" % (v["name"], v["version"]) for _k, v in sorted(after.items())))


def _reinstalled(plan):
    removed = dict((normalize_name(n), v) for s, n, v in plan if s == "-")
    return [n for s, n, v in plan if (s == "~") or (s == "+" and removed.get(normalize_name(n)) == v)]


def _base(cfg, venv_python):
    home = cfg.get("home")
    if home and os.path.exists(venv_python):
        return os.path.realpath(venv_python)
    return home


def _past(verb):
    return verb + "d" if verb.endswith("e") else verb + "ed"


def _names(items):
    out = []
    for item in items:
        if "to" in item:
            out.append("%s %s -> %s" % (item["name"], item["from"], item["to"]))
        else:
            out.append("%s %s" % (item["name"], item["version"]))
    return ", ".join(out)
