# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""uv_venv's flow: validate the inputs, decide (the environment, then the packages, from uv's
dry run), act, report.

PRIVATE API: only for this collection's modules; names may change without notice.
The module file holds the docs, the argument spec and ``main()``; the pure parsers are in
``_venv``, the checks of the inputs in ``_venv_inputs``, the report in ``_venv_report``, building
beside the path and the swap in ``_venv_build``, running uv in ``_uv_runner``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

from urllib.parse import unquote

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_text
from ansible_collections.pyfleet.uv.plugins.module_utils._uv_runner import UvRunner, locate_uv
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._venv import (
    VenvError,
    inspect_path,
    normalize_name,
    parse_dry_run,
    parse_pip_list,
    plan_after,
    python_matches,
    read_pyvenv,
    requirement_name,
    site_packages_flag,
    url_version,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._venv_inputs import VenvInputs
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._venv_report import VenvReport, reinstalled_names
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._venv_build import (
    discard,
    drop_new_lock,
    empty_again,
    existing_ancestor,
    foreign_entries,
    is_mount_point,
    lock_mark,
    make_parents,
    pin_activate,
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


class UvVenv(VenvInputs, VenvReport):
    """Validate, decide (environment, then packages, from a dry run), act, report (the inputs: ``VenvInputs``; the report: ``VenvReport``)."""

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
        try:
            self.path = os.path.realpath(self.shown)
        except UnicodeError:  # Python 3.6 under LC_ALL=C: run() says so
            self.path = self.shown
        self.venv_python = os.path.join(self.path, "bin", "python")
        self.result = dict(changed=False, path=self.shown, created=False, recreated=False, reason=None,
                           python=dict(version=None, executable=os.path.join(self.shown, "bin", "python"), base=None),
                           packages=dict(installed=[], removed=[], upgraded=[], downgraded=[], reinstalled=[]),
                           before={}, after={}, cmd=[])
        self.runner = None
        self.umask = 0o022
        self.warned = set()
        self.secret_files = {}
        self.python_request = self.params["python"]

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
        # --system: a base interpreter, as ``uv venv`` takes one (not a project's .venv found from chdir)
        args = ["python", "find", "--system"]
        if self.python_request:
            args.append(self.python_request)
        _rc, out, _err = self.uv(args, "finding the Python %s" % (self.python_request or "(uv's default)"))
        found = out.strip().splitlines()[-1].strip() if out.strip() else ""
        if not found:
            raise VenvError("uv python find printed no interpreter for %s" % (self.python_request or "the default"))
        return found

    def environment_satisfies(self, wanted):
        """Whether the environment's interpreter satisfies the request ``wanted`` (``>=3.10``, ``cpython``): uv's
        ``python find`` looks at the active environment (``VIRTUAL_ENV``) first and prints it when it does."""
        rc, out, _err = self.runner.run(["python", "find", wanted], check=False, env=dict(VIRTUAL_ENV=self.path))
        lines = out.strip().splitlines() if rc == 0 else []
        return bool(lines) and os.path.realpath(os.path.dirname(os.path.dirname(lines[-1].strip()))) == self.path

    def gone_base(self, cfg):
        """The base interpreter the environment's ``bin/python`` named, when it is gone; else ``None``."""
        if os.path.exists(self.venv_python):
            return None
        try:
            return os.readlink(self.venv_python)
        except OSError:
            return (cfg or {}).get("home") or "(unknown)"

    def require_interpreter(self, cfg):
        """``VenvError`` when the environment to keep has lost its interpreter (uv cannot list it then)."""
        gone = self.gone_base(cfg)
        if gone:
            raise VenvError("the interpreter of the environment %s is gone (%s no longer exists): give python (e.g. "
                            "python: \"3.12\") to recreate the environment on another Python%s" % (
                                self.shown, gone, "" if self.params["recreate"] != "never" else
                                ", with recreate other than never"))

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
            if matches is None:  # a range or an implementation: does uv take the environment itself, or its pick?
                matches = self.environment_satisfies(wanted) or (
                    self.real_interpreter(self.find_python()) == os.path.realpath(self.venv_python))
            if not matches:
                have = "%s %s" % (cfg.get("implementation") or "Python", cfg.get("version_info") or cfg.get("version") or "?")
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

    def editable_names(self, names):
        """``names`` as install arguments: with ``editable``, each is ``-e <name>``."""
        if not self.params["editable"]:
            return names
        out = []
        for name in names:
            out += ["-e", name]
        return out

    def same_editables(self, plan, before):
        """``plan`` without the rebuild of a project installed editable from the same directory at the version it
        would get again: uv builds a local project each time it is asked for, and ``present`` asks for what is
        not there (a new dependency or version of the project is still in the plan)."""
        if not self.params["editable"] or self.params["state"] != "present":
            return plan
        same = set()
        for sign, name, version in plan:
            old = before.get(normalize_name(name))
            if sign == "+" and version.startswith("file://") and old and old.get("editable") and (
                    os.path.realpath(unquote(version[len("file://"):])) == os.path.realpath(old["editable"])
                    and url_version(version) in (None, old["version"])):
                same.add(normalize_name(name))
        others = [step for step in plan if normalize_name(step[1]) not in same]
        # Anything else to install makes uv build the project again too (a dynamic version shows only then).
        return plan if others else others

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
        return args + self.extra_args() + self.hide_secrets(names)

    def uninstall_args(self, names, files):
        args = ["pip", "uninstall", "--python", self.path]
        for path in files["requirements"]:
            args += ["-r", path]
        return args + self.extra_args() + self.hide_secrets(names)

    # -- run ---------------------------------------------------------------

    def run(self):
        """What ``_run`` did; an ``OSError`` (a parent that is a file, a mount point) as a ``VenvError``."""
        if self.relative:
            raise VenvError("path %s is relative: give an absolute path, or chdir (a relative path then starts "
                            "from it, as with ansible.builtin.pip)" % self.params["path"])
        try:
            return self._run()
        except UnicodeError as exc:
            self.result["after"] = dict(self.result["before"])
            raise VenvError("a path of this task cannot be encoded in the host's locale (%s): Python 3.6 under LC_ALL=C or "
                            "LANG=C reads file names as ASCII; set LC_ALL: C.UTF-8 in the task's environment" % exc)
        except (IOError, OSError) as exc:
            self.result["after"] = dict(self.result["before"])  # a failure leaves the packages as they were
            where = exc.filename or self.path
            raise VenvError("%s: %s, while making or changing the environment %s, which was left as it was" % (
                where, exc.strerror or exc, self.shown))
        except BaseException:
            self.result["after"] = dict(self.result["before"])
            raise

    def dry_run(self, args, what, quiet=False):
        """``uv pip ... --dry-run`` on the environment; the ``.lock`` uv takes there is removed again
        when there was none (a dry run, in check mode or before a no-op, leaves the host as it was).
        ``quiet``: ``None`` when uv fails, and uv's warnings are not passed on."""
        mark = lock_mark(self.path)
        try:
            if quiet:
                rc, out, err = self.runner.run(args + ["--dry-run"], what, check=False)
                if rc != 0:
                    return None
            else:
                _rc, out, err = self.uv(args + ["--dry-run"], what)
        finally:
            drop_new_lock(self.path, mark)
        return parse_dry_run(err + "\n" + out)

    def exact_offline(self, args, files):
        """``state=exact`` resolves online even when the environment satisfies the request: first ask uv
        offline; ``[]`` (nothing to do, no index asked), or ``None`` when the online dry run must decide."""
        if self.params["state"] != "exact" or self.params["offline"]:
            return None
        plan = self.dry_run(self.install_args(args, files) + ["--offline"], "the offline dry run of uv pip install",
                            quiet=True)
        return [] if plan == [] else None

    def _run(self):
        params = self.params
        check = self.module.check_mode
        names, files = self.requests()
        if params["state"] == "absent":
            for name in names:
                requirement_name(name)
        kind, info = inspect_path(self.path)
        if kind == "other" and params["state"] != "absent":  # absent: not an environment, nothing to remove
            raise VenvError("%s; refusing to replace it: choose another path, or remove it first" % info)
        self.setup()
        if params["state"] == "absent":
            return self.absent(kind, names, files, check)

        action, reason = self.decide_environment(kind, info)
        extra = foreign_entries(self.path) if action == "recreate" else []
        if extra:
            raise VenvError("%s holds more than a virtual environment (%s); refusing to recreate it (%s), which would "
                            "delete them: move them out of it, or remove the environment first" % (
                                self.shown, ", ".join(extra), reason))
        if action != "keep":
            self.where_to_build(kind, action, reason)
        if kind == "venv" and action == "keep":
            self.require_interpreter(info)
        gone = None
        if kind == "venv" and action == "recreate" and not params["python"]:
            # Without python the environment keeps its own interpreter (not uv's default), while it exists.
            gone = self.gone_base(info)
            if not gone:
                self.python_request = os.path.realpath(self.venv_python)
        # A venv about to be recreated may have lost its interpreter: uv cannot list it then, and
        # what it held is reinstalled from the request anyway.
        before = self.listed() if kind == "venv" and action == "keep" else (
            self.listed_or_empty() if kind == "venv" else {})
        interpreter = None
        self.result["before"] = dict((v["name"], v["version"]) for v in before.values())
        if action != "keep" and (check or gone):
            # Check mode plans against the interpreter, and a gone one is named with its successor. A real
            # build lets ``uv venv`` find it (one call fewer); it is made beside the path, so a Python that
            # cannot be found leaves the path as it was.
            interpreter = self.find_python()
            self.result["python"]["base"] = interpreter
            if gone:
                reason += "; its Python %s is gone, so it is made from %s" % (gone, interpreter)
        wanted = bool(names or files["requirements"])
        args = self.editable_names(names)
        plan = []
        if wanted and (args or files["requirements"]):
            if action == "keep":
                plan = self.exact_offline(args, files)
                if plan is None:
                    plan = self.same_editables(self.dry_run(self.install_args(args, files), "the dry run of uv pip install"),
                                               before)
            elif check:  # a new environment is listed once built: only check mode needs the plan
                target = tempfile.mkdtemp(prefix="uv-target-", dir=self.module.tmpdir)
                _rc, out, err = self.uv(self.install_args(args, files, interpreter, target) + ["--dry-run"],
                                        "the dry run of uv pip install into a new environment")
                plan = parse_dry_run(err + "\n" + out)
        start = before if action == "keep" else {}
        reinstalled = reinstalled_names(plan)

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

    def where_to_build(self, kind, action, reason):
        """``VenvError`` (in check mode too) when the environment cannot be built where ``build`` builds it: in
        ``path`` when it is an empty directory, else beside it (then renamed over it), below the nearest existing
        folder, which this user must be able to write."""
        folder = self.path if kind == "empty" else existing_ancestor(self.path)
        where = "made in it" if kind == "empty" else "built there, beside the path"
        if not os.path.isdir(folder):  # an empty directory is one
            raise VenvError("%s is not a directory, so the environment %s cannot be made below it: choose another "
                            "path" % (folder, self.shown))
        if action == "recreate" and is_mount_point(self.path):
            raise VenvError("%s is a mount point; it would be recreated (%s), but uv_venv builds a new environment beside "
                            "the path and renames it over the old one, which a mount point cannot be: empty the mount point "
                            "(an empty directory is built in place), or give a path below it" % (self.shown, reason))
        try:
            read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
        except (OSError, AttributeError):
            read_only = False
        if read_only:
            raise VenvError("%s is on a read-only filesystem, and the environment %s is %s: choose a path on a writable "
                            "one" % (folder, self.shown, where))
        if not os.access(folder, os.W_OK | os.X_OK):
            raise VenvError("%s cannot be written by this user, and the environment %s is %s: run the task as a user "
                            "who may write it (become), or choose another path" % (folder, self.shown, where))

    def build(self, kind, args, files, wanted):
        """Make the environment beside ``path`` (in it when it is an empty directory), install, swap in.

        On any failure the temporary build is removed (an empty directory is emptied again) and
        what was at ``path`` stays as it was. Returns the new environment's packages.
        """
        stage = self.path if kind == "empty" else staging_path(self.path)
        if stage != self.path:
            make_parents(self.path, self.umask)
        venv = ["venv", stage, "--relocatable"]
        if self.python_request:
            venv += ["--python", self.python_request]
        if self.params["system_site_packages"]:
            venv.append("--system-site-packages")
        try:
            self.uv(venv, "creating the environment %s" % self.shown)
            pin_activate(stage, self.path)
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
        self.require_interpreter(read_pyvenv(self.path))
        before = self.listed()
        self.result["before"] = dict((v["name"], v["version"]) for v in before.values())
        plan = self.dry_run(self.uninstall_args(names, files), "the dry run of uv pip uninstall")
        if check or not plan:
            after = plan_after(before, plan)
        else:
            self.uv(self.uninstall_args(names, files), "uv pip uninstall")
            after = self.listed()
        self.report("keep", None, before, after, ())
        return self.result
