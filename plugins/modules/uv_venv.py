#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: uv_venv
short_description: A virtual environment and the packages in it, made by the installed uv
version_added: 0.1.0
description:
  - Creates a virtual environment with C(uv venv) and installs, upgrades or removes packages in it with
    C(uv pip), using the uv that M(pyfleet.uv.uv_install) put on the host. A drop-in for
    M(ansible.builtin.pip) with a virtualenv - the option names are pip's where pip has them (see the
    guide "Environments and packages with uv").
  - Decides from state, never from uv's human-readable text. The packages before and after come from
    C(uv pip list --format json); whether a request is already satisfied, and what check mode reports,
    from the package lines of uv's own C(--dry-run) plan; whether the environment is kept, created or
    recreated from its C(pyvenv.cfg). C(changed) is true exactly when the package set or the
    environment changed.
  - A request that the environment already satisfies (a pinned version that is installed) makes no
    request to any index.
  - Every call to uv runs with an explicit environment. C(HOME) and the XDG user directories point at
    an empty private directory, so the calling user's C(~/.config/uv/uv.toml), C(.netrc) and uv cache
    are never used, and every C(UV_*) variable of the task's environment is dropped. The system
    configuration (C(/etc/uv/uv.toml), written by M(pyfleet.uv.uv_config)) still applies, so its
    indexes are used when O(index_url) is not given. C(UV_PYTHON_INSTALL_DIR) is O(python_install_dir),
    and uv never downloads a Python here (C(UV_PYTHON_DOWNLOADS=never)); M(pyfleet.uv.uv_python)
    installs them.
  - A O(path) that exists but is not a virtual environment (no C(pyvenv.cfg)) and is not an empty
    directory is refused, never replaced.
  - Needs uv 0.8.0 or newer on the host.
author:
  - pyfleet maintainers (@pyfleet)
extends_documentation_fragment:
  - pyfleet.uv.attributes
attributes:
  check_mode:
    support: full
    description:
      - Reports what uv's own dry run says it would install, upgrade, reinstall or remove, for every
        input (names, requirement and constraint files, V(latest) with upgrades allowed, V(absent),
        V(forcereinstall), V(exact)). An environment that would be created or recreated is planned with
        a dry run into an empty target. Nothing is written.
  diff_mode:
    support: full
    description: Shows the packages and their versions before and after, one C(name==version) a line.
  idempotent:
    support: full
    description:
      - A second run with the same options reports no change; with pinned requests it makes no network
        request. V(forcereinstall) and O(recreate=always) change on every run, as asked.
options:
  path:
    description:
      - The virtual environment's directory, an absolute path. It is created when missing (its missing
        parents too, mode 0755 unless O(umask) says otherwise).
    type: path
    required: true
    aliases: [virtualenv]
  python:
    description:
      - The Python of the environment, as uv takes requests - V(3.12), V(3.12.7), V(cpython@3.13),
        V(3.13t), or the path of an interpreter.
      - Default, what uv finds first (uv-managed Pythons in O(python_install_dir) included).
      - Quote versions in YAML (V("3.10")), or YAML reads them as numbers.
    type: str
    aliases: [virtualenv_python]
  python_install_dir:
    description:
      - Where uv's managed Pythons are (C(UV_PYTHON_INSTALL_DIR)), where M(pyfleet.uv.uv_python) puts them.
    type: path
    default: /opt/uv/python
  name:
    description:
      - Requirements (PEP 508), as C(uv pip install) takes them - V(six), V(six==1.17.0),
        V(requests>=2.31), V(pkg @ https://...).
      - With O(state=absent), the names of the packages to remove.
    type: list
    elements: str
    default: []
  version:
    description:
      - The version of the single package in O(name) (pip's option); the same as V(name==version).
    type: str
  requirements:
    description:
      - Requirement files on the host (C(-r)); relative paths are relative to O(chdir).
    type: list
    elements: path
    default: []
  constraints:
    description:
      - Constraint files on the host (C(-c)); relative paths are relative to O(chdir).
    type: list
    elements: path
    default: []
  state:
    description:
      - V(present) installs what is missing and leaves what satisfies the request alone.
      - V(latest) also upgrades the requested packages and their dependencies to the newest versions
        the request allows (C(--upgrade)).
      - V(forcereinstall) reinstalls the requested packages and their dependencies (C(--reinstall));
        it changes on every run.
      - V(exact) installs the request and removes every package it does not need (C(--exact)).
      - V(absent) removes the named packages (and those named in O(requirements)); a missing
        environment is left missing.
    type: str
    default: present
    choices: [present, latest, absent, forcereinstall, exact]
  recreate:
    description:
      - When an existing environment is replaced by a new one.
      - V(on_python_change) replaces it when O(python) is given and the environment's interpreter does not
        match it (another version or implementation, another interpreter path, or its interpreter is
        gone), then installs what was asked for into the new one.
      - V(never) keeps it whatever its Python. V(always) replaces it on every run.
    type: str
    default: on_python_change
    choices: [never, on_python_change, always]
  index_url:
    description:
      - The package index (C(--index-url)); default, the system uv.toml's index, else uv's default.
      - Credentials in the URL are masked in every result and message.
    type: str
  extra_index_urls:
    description: More indexes (C(--extra-index-url)).
    type: list
    elements: str
    default: []
  find_links:
    description: Directories or URLs of distribution files (C(--find-links)).
    type: list
    elements: str
    default: []
  no_index:
    description: Use no index, only O(find_links) (C(--no-index)).
    type: bool
    default: false
  offline:
    description: Use no network at all, only uv's cache (C(--offline)).
    type: bool
    default: false
  require_hashes:
    description: Every requirement must carry a hash (C(--require-hashes)).
    type: bool
    default: false
  no_build:
    description: Install wheels only, never build from a source distribution (C(--no-build)).
    type: bool
    default: false
  system_site_packages:
    description: The environment sees the base Python's site-packages (C(--system-site-packages)).
    type: bool
    default: false
    aliases: [virtualenv_site_packages]
  extra_args:
    description:
      - More arguments for C(uv pip install) (or C(uv pip uninstall)); each item is split like a shell
        command line, so pip's single string V(--pre --no-deps) works too.
    type: list
    elements: str
    default: []
  chdir:
    description:
      - The directory uv runs in, and that relative O(requirements) and O(constraints) paths start from.
        uv reads a project's C(uv.toml) or C(pyproject.toml) found from there. Default, C(/).
    type: path
  umask:
    description:
      - The umask uv runs with, as an octal string (V("0022")), as M(ansible.builtin.pip) takes it.
      - Default V("0022"), so the environment is readable by every user whatever the connection's umask.
    type: raw
  uv_path:
    description:
      - The uv to run. Default, the uv that M(pyfleet.uv.uv_install) recorded in C(/usr/local/bin), else
        the first C(uv) on C(PATH).
    type: path
notes:
  - uv's cache for a task is a private temporary directory, removed at the end, unless the system uv.toml
    sets C(cache-dir).
seealso:
  - module: ansible.builtin.pip
  - module: pyfleet.uv.uv_python
  - module: pyfleet.uv.uv_config
"""

EXAMPLES = r"""
- name: An environment for the app on the uv-managed Python 3.12, with pinned packages
  pyfleet.uv.uv_venv:
    path: /opt/app/venv
    python: "3.12"
    name:
      - six==1.17.0
      - python-dateutil==2.9.0.post0

- name: Packages from a requirements file, with constraints, from the internal index
  pyfleet.uv.uv_venv:
    path: /opt/app/venv
    requirements: [/opt/app/requirements.txt]
    constraints: [/opt/app/constraints.txt]
    index_url: https://pypi.internal.example.com/simple/

- name: Keep a tool at its newest release
  pyfleet.uv.uv_venv:
    path: /opt/tools/venv
    name: [six]
    state: latest

- name: Exactly these packages, nothing else
  pyfleet.uv.uv_venv:
    path: /opt/app/venv
    requirements: [/opt/app/requirements.lock]
    state: exact
    require_hashes: true
    no_build: true

- name: Remove a package
  pyfleet.uv.uv_venv:
    path: /opt/app/venv
    name: [six]
    state: absent
"""

RETURN = r"""
msg:
  description: What was done, or would be done in check mode.
  returned: always
  type: str
  sample: created /opt/app/venv (CPython 3.12.7); installed 2 packages
path:
  description: The environment's directory.
  returned: always
  type: str
python:
  description: The environment's Python (before it exists, in check mode, the one it would get).
  returned: always
  type: dict
  contains:
    version:
      description: Its version (from C(pyvenv.cfg)); null when not known yet.
      type: str
      sample: 3.12.7
    executable:
      description: The environment's C(bin/python).
      type: str
      sample: /opt/app/venv/bin/python
    base:
      description: The interpreter the environment is (or would be) made from.
      type: str
      sample: /opt/uv/python/cpython-3.12-linux-x86_64-gnu/bin/python3.12
created:
  description: Whether the environment was (or would be) created.
  returned: always
  type: bool
recreated:
  description: Whether an existing environment was (or would be) replaced; C(reason) says why.
  returned: always
  type: bool
reason:
  description: Why the environment was created or recreated; null when it was kept.
  returned: always
  type: str
packages:
  description: What changed (or would change) in the environment.
  returned: always
  type: dict
  contains:
    installed:
      description: Packages that were not there, each C({name, version}).
      type: list
      elements: dict
    removed:
      description: Packages that are gone, each C({name, version}).
      type: list
      elements: dict
    upgraded:
      description: Packages whose version changed, each C({name, from, to}).
      type: list
      elements: dict
    reinstalled:
      description: Packages reinstalled at the same version (V(forcereinstall)), each C({name, version}).
      type: list
      elements: dict
before:
  description: The packages before, name -> version.
  returned: always
  type: dict
  sample: {"six": "1.16.0"}
after:
  description: The packages after (in check mode, as the dry run says they would be), name -> version.
  returned: always
  type: dict
  sample: {"six": "1.17.0", "python-dateutil": "2.9.0.post0"}
uv_version:
  description: The version of the uv that ran.
  returned: when uv was found
  type: str
  sample: 0.13.8
uv:
  description: The path of the uv that ran.
  returned: when uv was found
  type: str
cmd:
  description: The uv commands that ran, in order (credentials masked).
  returned: always
  type: list
  elements: str
"""

import os
import shlex
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import masking_module_class, redact_text, redact_url
from ansible_collections.pyfleet.uv.plugins.module_utils._uv_runner import UvRunner, locate_uv
from ansible_collections.pyfleet.uv.plugins.module_utils._venv import (
    VenvError,
    changes_from_lists,
    inspect_path,
    normalize_name,
    parse_dry_run,
    parse_pip_list,
    plan_after,
    python_matches,
    read_pyvenv,
    requirement_name,
)

SECRET_OPTIONS = ["index_url", "extra_index_urls", "find_links", "extra_args", "name"]
# uv's words for "the index has no such package or version" (uv 0.5 to 0.13): the message then
# names the indexes that were asked.
_NOT_FOUND_HINTS = ("was not found in", "there is no version of", "no versions of", "unsatisfiable")


class UvVenv(object):
    """Validate, decide (environment, then packages, from a dry run), act, report."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.path = os.path.abspath(self.params["path"].rstrip(os.sep) or os.sep)
        self.venv_python = os.path.join(self.path, "bin", "python")
        self.result = dict(changed=False, path=self.path, created=False, recreated=False, reason=None,
                           python=dict(version=None, executable=self.venv_python, base=None),
                           packages=dict(installed=[], removed=[], upgraded=[], reinstalled=[]),
                           before={}, after={}, cmd=[])
        self.runner = None

    # -- inputs ------------------------------------------------------------

    def requests(self):
        """The names (with ``version`` applied) and the requirement/constraint files, checked."""
        params = self.params
        names = [n.strip() for n in params["name"] if n and n.strip()]
        if params["version"]:
            if len(names) != 1:
                raise VenvError("version applies to exactly one package in name, got %d" % len(names))
            names = ["%s==%s" % (requirement_name(names[0]), params["version"])]
        for name in names:
            if name.startswith("-"):
                raise VenvError("%r in name is an option, not a requirement: put options in extra_args" % name)
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
        params = self.params
        args = []
        if params["index_url"]:
            args += ["--index-url", params["index_url"]]
        for url in params["extra_index_urls"]:
            args += ["--extra-index-url", url]
        for url in params["find_links"]:
            args += ["--find-links", url]
        for flag in ("no_index", "offline", "require_hashes", "no_build"):
            if params[flag]:
                args.append("--" + flag.replace("_", "-"))
        return args

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
        if params["chdir"] and not os.path.isdir(params["chdir"]):
            raise VenvError("chdir %s is not a directory" % params["chdir"])
        uv, _how = locate_uv(params["uv_path"])
        self.home = tempfile.mkdtemp(prefix="uv-home-", dir=self.module.tmpdir)
        self.runner = UvRunner(self.module, uv, self.home, params["python_install_dir"],
                               extra_env=dict(UV_PYTHON_DOWNLOADS="never"), umask=umask,
                               cwd=params["chdir"] or "/")
        self.result["uv"] = uv
        self.result["uv_version"] = self.runner.version_string()

    def uv(self, args, what):
        try:
            return self.runner.run(args, what)
        except UvError as exc:
            msg = exc.msg
            if any(hint in msg for hint in _NOT_FOUND_HINTS):
                msg += "\nindexes asked: %s" % self.asked_where()
            raise VenvError(msg, **exc.details)

    def listed(self):
        _rc, out, _err = self.uv(["pip", "list", "--format", "json", "--python", self.path],
                                 "listing the packages of %s" % self.path)
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

    # -- decide ------------------------------------------------------------

    def decide_environment(self, kind, cfg):
        """``(action, reason)``: ``keep``, ``create`` or ``recreate``."""
        params = self.params
        if kind in ("missing", "empty"):
            return "create", "%s did not exist" % self.path if kind == "missing" else "%s was empty" % self.path
        if params["recreate"] == "always":
            return "recreate", "recreate=always"
        if params["recreate"] == "never" or not params["python"]:
            return "keep", None
        wanted = params["python"]
        request_path = wanted if os.sep in wanted else None
        if request_path and not os.path.exists(request_path):
            raise VenvError("python %s does not exist on the host" % request_path)
        matches = python_matches(wanted, cfg, self.venv_python, request_path)
        if matches is None:
            matches = os.path.realpath(self.find_python()) == os.path.realpath(self.venv_python)
        if matches:
            return "keep", None
        have = "%s %s" % (cfg.get("implementation") or "Python", cfg.get("version_info") or "?")
        if not os.path.exists(self.venv_python):
            have += " whose interpreter is gone"
        return "recreate", "python %s was asked for; the environment has %s" % (wanted, have)

    def install_args(self, names, files, target=None, interpreter=None):
        state = self.params["state"]
        args = ["pip", "install"]
        if target:
            args += ["--python", interpreter, "--target", target]
        else:
            args += ["--python", self.path]
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
            return self.absent(kind, info, names, files, check)

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
        plan = []
        if wanted:
            if action == "keep":
                _rc, out, err = self.uv(self.install_args(names, files) + ["--dry-run"], "the dry run of uv pip install")
            else:
                target = tempfile.mkdtemp(prefix="uv-target-", dir=self.module.tmpdir)
                _rc, out, err = self.uv(self.install_args(names, files, target, interpreter) + ["--dry-run"],
                                        "the dry run of uv pip install into a new environment")
            plan = parse_dry_run(err + "\n" + out)
        start = before if action == "keep" else {}
        reinstalled = _reinstalled(plan)

        if check:
            after = plan_after(start, plan)
        else:
            if action != "keep":
                self.make_environment(action)
            if plan or (action != "keep" and wanted):
                self.uv(self.install_args(names, files), "uv pip install")
            after = self.listed() if (plan or action != "keep") else before
        self.report(action, reason, before, after, reinstalled)
        return self.result

    def make_environment(self, action):
        params = self.params
        args = ["venv", self.path]
        if params["python"]:
            args += ["--python", params["python"]]
        if params["system_site_packages"]:
            args.append("--system-site-packages")
        if action == "recreate":
            args.append("--clear")
        self.uv(args, "creating the environment %s" % self.path)

    def absent(self, kind, cfg, names, files, check):
        if kind != "venv":
            self.result["msg"] = "%s is not an environment; nothing to remove" % self.path
            return self.result
        before = self.listed()
        _rc, out, err = self.uv(self.uninstall_args(names, files) + ["--dry-run"], "the dry run of uv pip uninstall")
        plan = parse_dry_run(err + "\n" + out)
        if check or not plan:
            after = plan_after(before, plan)
        else:
            self.uv(self.uninstall_args(names, files), "uv pip uninstall")
            after = self.listed()
        self.report("keep", None, before, after, ())
        return self.result

    # -- report ------------------------------------------------------------

    def report(self, action, reason, before, after, reinstalled):
        result = self.result
        check = self.module.check_mode
        changes = changes_from_lists(before, after, list(after) if action == "recreate" else reinstalled)
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
            parts.append("%s %s" % ("would create" if check else "created", self.path))
        elif action == "recreate":
            parts.append("%s %s (%s)" % ("would recreate" if check else "recreated", self.path, reason))
        for key, verb in (("installed", "install"), ("upgraded", "upgrade"), ("reinstalled", "reinstall"),
                          ("removed", "remove")):
            if changes[key]:
                parts.append("%s%s %s" % (would, verb if check else _past(verb), _names(changes[key])))
        result["msg"] = "; ".join(parts) if parts else "%s is as requested; nothing to do" % self.path
        result["cmd"] = [redact_text(" ".join(c)) for c in self.runner.commands] if self.runner else []
        if self.module._diff:
            result["diff"] = dict(
                before_header="%s (packages)" % self.path, after_header="%s (packages)" % self.path,
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
    return {"install": "installed", "upgrade": "upgraded", "reinstall": "reinstalled", "remove": "removed"}[verb]


def _names(items):
    out = []
    for item in items:
        if "to" in item:
            out.append("%s %s -> %s" % (item["name"], item["from"], item["to"]))
        else:
            out.append("%s %s" % (item["name"], item["version"]))
    return ", ".join(out)


def main():
    module_class = masking_module_class(AnsibleModule, SECRET_OPTIONS)
    module = module_class(
        argument_spec=dict(
            path=dict(type="path", required=True, aliases=["virtualenv"]),
            python=dict(type="str", aliases=["virtualenv_python"]),
            python_install_dir=dict(type="path", default="/opt/uv/python"),
            name=dict(type="list", elements="str", default=[]),
            version=dict(type="str"),
            requirements=dict(type="list", elements="path", default=[]),
            constraints=dict(type="list", elements="path", default=[]),
            state=dict(type="str", default="present", choices=["present", "latest", "absent", "forcereinstall", "exact"]),
            recreate=dict(type="str", default="on_python_change", choices=["never", "on_python_change", "always"]),
            index_url=dict(type="str"),
            extra_index_urls=dict(type="list", elements="str", default=[]),
            find_links=dict(type="list", elements="str", default=[]),
            no_index=dict(type="bool", default=False),
            offline=dict(type="bool", default=False),
            require_hashes=dict(type="bool", default=False),
            no_build=dict(type="bool", default=False),
            system_site_packages=dict(type="bool", default=False, aliases=["virtualenv_site_packages"]),
            extra_args=dict(type="list", elements="str", default=[]),
            chdir=dict(type="path"),
            umask=dict(type="raw"),
            uv_path=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    venv = UvVenv(module)
    try:
        result = venv.run()
    except UvError as exc:
        failed = dict(venv.result)
        failed["cmd"] = [redact_text(" ".join(c)) for c in venv.runner.commands] if venv.runner else []
        if exc.details.get("stderr"):
            failed["stderr"] = exc.details["stderr"]
        failed["msg"] = exc.msg
        module.fail_json(**failed)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
