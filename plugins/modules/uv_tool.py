#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: uv_tool
short_description: Command-line tools for every user, installed with C(uv tool install)
version_added: 0.1.0
description:
  - Installs, upgrades, reinstalls or removes a Python command-line tool (ansible-lint, pre-commit, httpie,
    an internal CLI) with C(uv tool install), using the uv that M(pyfleet.uv.uv_install) put on the host.
  - System-wide by default. The tool's environment goes under O(tool_dir) (C(/opt/uv/tools)), its executables
    are linked in O(bin_dir) (C(/usr/local/bin)), and uv runs with umask 0022, so every user can run the tool
    whatever the connection's umask. C(UV_TOOL_DIR), C(UV_TOOL_BIN_DIR) and C(UV_PYTHON_INSTALL_DIR) (which uv
    does not take from C(uv.toml)) are set on each call; nothing is written to the connection user's home (see
    the notes).
  - The tool's Python must be usable by every user, a uv-managed Python under O(python_install_dir) (installed
    by M(pyfleet.uv.uv_python)) or a system interpreter. A Python that other users cannot run (one in root's
    home, uv issue 13309) is refused before anything is installed. uv never downloads a Python here.
  - Decides from state, never from uv's human-readable text. What is installed comes from uv's receipt
    (C(uv-receipt.toml) in the tool's environment) and the environment's C(*.dist-info) folders (as C(uv pip list)
    names them). An unchanged request that those files prove satisfied (its dependencies and markers followed) runs
    no uv command on the environment; otherwise, and for what check mode reports, uv's own C(uv pip install
    --dry-run) against the tool's environment decides. A pinned request already satisfied makes no index request.
  - Never overwrites an executable in O(bin_dir) that uv did not link for this tool (a C(ruff) placed by
    M(pyfleet.uv.ruff_install), a link of another uv tool, a file from a package); the task fails naming the
    file and who put it there, unless O(force=true). This holds for a tool's own executable taken over since.
  - Nothing is lost when uv fails. Before uv replaces an installed tool, its environment is set aside in O(tool_dir)
    (copied for an update, renamed for a reinstall) with its links in O(bin_dir); both are put back if uv fails,
    or by the next run if this one was killed. Runs for the same tool wait for each other (a lock in O(tool_dir)).
  - Repairs what it finds broken. A tool whose Python is gone, whose receipt is missing or unreadable (with a
    warning), whose executable in O(bin_dir) was deleted, is reinstalled (V(present), V(latest)) or removed
    (V(absent)); links of a tool whose environment was deleted are replaced. Files in O(bin_dir) that are not the
    tool's still need O(force). What a killed run set aside is put back by the next run (a change).
  - A receipt that records a URL's credentials (uv 0.8 keeps an index URL's user name) is made readable by its
    owner only, on every run; a run that does so reports a change.
  - Needs uv 0.8.0 or newer on the host.
author:
  - pyfleet maintainers (@pyfleet)
extends_documentation_fragment:
  - pyfleet.uv.attributes
  - pyfleet.uv.uv_runner
  - pyfleet.uv.uv_runner.packages
  - pyfleet.uv.uv_runner.index
attributes:
  check_mode:
    support: full
    description:
      - Reports what uv's own dry run says would be installed, upgraded or removed, and whether the tool would be
        installed, reinstalled or removed. Nothing is written. An executable of a tool that is not installed yet
        is only known once uv installs it, so a collision in O(bin_dir) is found by the real run.
  diff_mode:
    support: full
    description: Shows the packages of the tool's environment before and after, one C(name==version) a line.
  idempotent:
    support: full
    description:
      - A second run with the same options reports no change; with a pinned request it makes no network request.
        V(reinstalled) changes on every run, as asked.
options:
  name:
    description:
      - The tool, a PEP 508 requirement - V(ansible-lint), V(ansible-lint==25.*), V(httpie>=3.2). Its
        environment is named after the package.
      - A URL with credentials is refused (uv writes the requirement into the receipt, which every user can read);
        give them with O(index_url), O(extra_index_urls) or O(find_links).
    type: str
    required: true
  state:
    description:
      - V(present) installs the tool when missing, or when its request, O(with) or O(python) changed; an installed
        version that satisfies the request stays.
      - V(latest) also upgrades the tool and its dependencies to the newest versions the request allows.
      - V(reinstalled) reinstalls the tool and its dependencies on every run.
      - V(absent) removes the tool's environment and its executables.
    type: str
    default: present
    choices: [present, latest, absent, reinstalled]
  with:
    description:
      - More packages in the tool's environment (C(--with)), PEP 508 requirements; the environment holds exactly
        the tool, these and their dependencies.
    type: list
    elements: str
    default: []
  python:
    description:
      - The tool's Python, as uv takes requests - V(3.12), V(cpython@3.13), or the path of an interpreter.
        Default, what uv finds first (uv-managed Pythons in O(python_install_dir) included).
      - A change of O(python) reinstalls the tool; V(3.11), V(python3.11) and V(cp311) are the same request, and
        a path is compared by the interpreter it leads to. Quote versions in YAML (V("3.10")).
    type: str
  tool_dir:
    description: Where the tools' environments are (C(UV_TOOL_DIR)); created when missing.
    type: path
    default: /opt/uv/tools
  bin_dir:
    description:
      - Where the tools' executables are linked (C(UV_TOOL_BIN_DIR)). It must exist and be writable.
      - A tool installed with another O(bin_dir) is reinstalled with its links here; its links in the old
        directory are removed (those that lead into the tool's environment; another file there stays).
    type: path
    default: /usr/local/bin
  force:
    description:
      - Overwrite executables in O(bin_dir) that uv did not link for this tool (C(--force)).
      - With V(absent), remove the tool although a file it does not own took over one of its executables; that
        file is kept (moved aside while C(uv tool uninstall) runs, which would delete it, then put back).
    type: bool
    default: false
  index_url:
    description:
      - The package index (C(--index-url)); default, the system uv.toml's index, else uv's default.
      - Credentials in the URL are masked in every result and message.
    type: str
  offline:
    description:
      - Use no network at all, only O(find_links) and uv's cache (C(--offline)). The cache of a task is its own
        empty directory unless the system uv.toml sets C(cache-dir), so an install or upgrade needs O(find_links)
        or that shared cache; a tool already installed as requested needs neither.
    type: bool
    default: false
  lock_timeout:
    description:
      - How many seconds to wait for another run that changes the same tool (the lock C(.<name>.pyfleet-lock) in
        O(tool_dir)); then the task fails naming the lock and the process that holds it.
    type: int
    default: 300
notes:
  - The options of C(community.general.pipx) map as follows - C(name) and C(state) keep their meaning
    (V(reinstall) is V(reinstalled)), C(inject_packages) is O(with), C(python) is O(python), C(index_url) is
    O(index_url), C(global=true) is the default here.
seealso:
  - module: pyfleet.uv.uv_python
  - module: pyfleet.uv.uv_venv
"""

EXAMPLES = r"""
- name: ansible-lint for every user, on the uv-managed Python 3.12
  pyfleet.uv.uv_tool:
    name: ansible-lint==25.*
    python: "3.12"

- name: pre-commit with an extra package, from the internal index, kept at its newest release
  pyfleet.uv.uv_tool:
    name: pre-commit
    with: [pre-commit-uv]
    state: latest
    index_url: https://pypi.internal.example.com/simple/

- name: httpie on the system interpreter, replacing an httpie that a distribution package put there
  pyfleet.uv.uv_tool:
    name: httpie
    python: /usr/bin/python3
    force: true

- name: Remove a tool
  pyfleet.uv.uv_tool:
    name: httpie
    state: absent
"""

RETURN = r"""
msg:
  description: What was done, or would be done in check mode.
  returned: always
  type: str
  sample: installed ruff 0.16.10 (1 executable in /usr/local/bin)
tool:
  description: The tool after the task (in check mode, as it would be); null when it is absent.
  returned: always
  type: dict
  contains:
    name:
      description: The tool's package name, also the name of its environment.
      type: str
      sample: ruff
    version:
      description: The installed version of the tool's package.
      type: str
      sample: 0.16.10
    requested:
      description: The request as uv's receipt records it.
      type: str
      sample: ruff==0.16.10
    with:
      description: The extra packages as the receipt records them.
      type: list
      elements: str
    python:
      description: The environment's Python, C({version, base, request}).
      type: dict
    environment:
      description: The tool's environment.
      type: str
      sample: /opt/uv/tools/ruff
    executables:
      description: The executables uv linked for the tool, each C({name, path}).
      type: list
      elements: dict
before:
  description: The packages of the tool's environment before, name -> version.
  returned: always
  type: dict
after:
  description: The packages after (in check mode, as uv's dry run says they would be), name -> version.
  returned: always
  type: dict
packages:
  description: What changed in the environment, C({installed, removed, upgraded, reinstalled}) as M(pyfleet.uv.uv_venv)
    returns them.
  returned: always
  type: dict
uv_version:
  description: The version of the uv that ran.
  returned: when uv was found
  type: str
  sample: 0.13.8
cmd:
  description: The uv commands that ran, in order (credentials masked).
  returned: always
  type: list
  elements: str
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import masking_module_class, redact_text
from ansible_collections.pyfleet.uv.plugins.module_utils._uv_runner import UvRunner, failure_message, finish, locate_uv
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._uv_tool import (
    OFFLINE_HINT, Backup, ToolError, canonical_entry, check_bin_dir, collision_message, describe, entry_text, explain_failure, install_args, is_elf,
    keep_aside, link_problems, links_elsewhere, lock_tool, missing_parent, package_diff, protect_receipt, read_receipt, recover, refuse_private_python,
    refuse_unowned, reinstall_reason, relink, remove_if_empty, remove_tool, tool_requests, tool_summary, unlink_leftovers)
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._uv_tool_installed import (
    marker_environment, packages_on_disk, satisfied)
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._venv import (
    changes_from_lists, index_args, parse_dry_run, plan_after)

SECRET_OPTIONS = ["index_url", "extra_index_urls", "find_links", "name", "with"]


class UvTool(object):
    """Validate, read (receipt, package list), decide (from a dry run), act, report."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.tool_dir = os.path.abspath(self.params["tool_dir"])
        self.bin_dir = os.path.abspath(self.params["bin_dir"])
        self.result = dict(changed=False, tool=None, before={}, after={}, cmd=[],
                           packages=dict(installed=[], removed=[], upgraded=[], reinstalled=[]))
        self.runner = None
        self.protected = False
        self.recovered = None

    # -- inputs and uv ------------------------------------------------------------------------------

    def setup(self):
        params = self.params
        uv, _how = locate_uv(params["uv_path"])
        self.home = tempfile.mkdtemp(prefix="uv-home-", dir=self.module.tmpdir)
        extra = dict(UV_TOOL_DIR=self.tool_dir, UV_TOOL_BIN_DIR=self.bin_dir, UV_PYTHON_DOWNLOADS="never")
        self.runner = UvRunner(self.module, uv, self.home, params["python_install_dir"], extra_env=extra)
        self.result["uv"] = uv
        self.result["uv_version"] = self.runner.version_string()

    def index_args(self):
        return index_args(self.params, ("no_index", "offline", "no_build"))

    def uv(self, args, what):
        """Run uv; on failure, uv's message with what it means for a tool (``explain_failure``)."""
        rc, out, err = self.runner.run(args, what, check=False)
        if rc == 0:
            return rc, out, err
        if rc is None:
            raise ToolError(redact_text("%s: uv (%s) could not be started: %s" % (what, self.runner.uv, err)))
        where = redact_text(" ".join(self.index_args())) or "the index of the system uv.toml, or uv's default index"
        msg = explain_failure(failure_message(what, self.runner.commands[-1], rc, out, err), out + "\n" + err,
                              self.name, self.bin_dir, self.tool_dir, where)
        raise ToolError(msg, uv_rc=rc, stderr=redact_text(err))

    def listed(self):
        """The environment's packages from its files, as ``uv pip list`` names them (uv would first run
        the environment's Python to query it, about a second with the task's empty cache)."""
        return packages_on_disk(self.environment)

    def find_python(self):
        """The interpreter uv would build the tool on; refused when other users cannot run it."""
        request = self.params["python"]
        if request and os.path.isabs(request) and is_elf(request) and os.access(request, os.X_OK):
            refuse_private_python(request, request, self.params["python_install_dir"])
            return request  # uv would query it cold (a second); uv tool install checks it is a Python
        # A script (a wrapper) is asked of uv, which names the interpreter it runs: that one must be usable.
        _rc, out, _err = self.uv(["python", "find"] + ([request] if request else []),
                                 "finding the Python %s" % (request or "(uv's default)"))
        found = out.strip().splitlines()[-1].strip() if out.strip() else ""
        refuse_private_python(found, request, self.params["python_install_dir"])
        return found

    def dry_run(self, requests, upgrade=False, target_python=None, exact=False):
        """uv's plan for ``requests`` in the tool's environment (or, with ``target_python``, a new one).

        ``exact`` plans what ``uv tool install`` does to a changed request (it syncs the environment
        exactly); it resolves the whole request, so it asks the index even when nothing changes.
        """
        args = ["pip", "install", "--dry-run"]
        if target_python:
            target = tempfile.mkdtemp(prefix="uv-target-", dir=self.module.tmpdir)
            args += ["--python", target_python, "--target", target]
        else:
            args += ["--python", self.environment] + (["--exact"] if exact else [])
        if upgrade:
            args.append("--upgrade")
        lock = os.path.join(self.environment, ".lock")
        had_lock = os.path.lexists(lock)
        try:
            _rc, out, err = self.uv(args + self.index_args() + requests, "the dry run of uv pip install for %s" % self.name)
        finally:
            if not had_lock and os.path.isfile(lock):
                os.unlink(lock)  # uv locks the environment even for a dry run: a plan writes nothing
        return parse_dry_run(err + "\n" + out)

    # -- decide and act -----------------------------------------------------------------------------

    def run(self):
        """A real run holds the tool's lock throughout: recover, read, decide, back up, install, discard."""
        self.name, wanted, canonical = tool_requests(self.params["name"], self.params["with"])
        self.environment = os.path.join(self.tool_dir, self.name)
        self.created = missing_parent(self.tool_dir)
        if self.params["state"] != "absent":
            check_bin_dir(self.bin_dir)
        if self.module.check_mode or (self.params["state"] == "absent" and self.created):
            return self.decide_and_act(wanted, canonical)
        lock = lock_tool(self.tool_dir, self.name, self.params["lock_timeout"])
        try:
            return self.decide_and_act(wanted, canonical)
        finally:
            if self.created:
                remove_if_empty(self.created, self.name)  # a failed first install leaves no folders, not even the lock's
            os.close(lock)

    def decide_and_act(self, wanted, canonical):
        params, check = self.params, self.module.check_mode
        for line in [] if check else recover(self.environment, self.bin_dir):
            self.recovered = line
            self.module.warn(line)
        receipt, broken = None, None
        if os.path.isdir(self.environment):
            try:
                receipt = read_receipt(self.environment)
            except ToolError as exc:
                broken = exc.msg
            if receipt is None and broken is None:
                refuse_unowned(self.environment)
                broken = "%s has no uv receipt (uv-receipt.toml)%s" % (self.environment, "" if os.path.exists(
                    os.path.join(self.environment, "bin", "python")) else " nor a Python (a half-made environment)")
                self.module.warn("%s; it %s %s" % (broken, "would be" if check else "is",
                                                   "removed" if params["state"] == "absent" else "replaced"))
        installed = receipt is not None or broken is not None
        # Every run, a no-op included: a run killed before its chmod left a receipt with credentials readable.
        self.protected = receipt is not None and protect_receipt(self.environment, check)
        self.setup()
        before = self.listed() if installed else {}
        if params["state"] == "absent":
            taken = link_problems(receipt, self.environment)[1] if receipt else []
            if taken and not params["force"]:
                raise ToolError(collision_message(taken, self.name, self.tool_dir, absent=True))
            if installed and not check and broken is None:  # a file that took over an executable is kept
                keep_aside(taken, lambda: self.uv(["tool", "uninstall", self.name], "uv tool uninstall %s" % self.name),
                           self.environment)
            elif installed and not check:
                remove_tool(self.environment, self.bin_dir)  # uv refuses a receipt it cannot read
            self.report("remove" if installed else "keep", None, before, {}, None)
            return self.result

        action, reason, plan = self.decide(receipt, broken, canonical, wanted)
        if action == "keep":
            self.report(action, None, before, before, receipt)
            return self.result
        interpreter = self.find_python() if action in ("install", "reinstall") else None
        if check:
            if action == "update":
                after = plan_after(before, plan)
            else:
                after = plan_after({}, self.dry_run(wanted, params["state"] == "latest", interpreter))
            self.report(action, reason, before, after, None)
            return self.result
        self.install(wanted, action, before, receipt)
        receipt = read_receipt(self.environment)
        self.report(action, reason, before, self.listed(), receipt)
        return self.result

    def decide(self, receipt, broken, canonical, wanted):
        """``(action, reason, plan)``: ``keep``, ``install``, ``reinstall`` or ``update`` (with uv's plan)."""
        params = self.params
        if receipt is None and broken is None:
            return "install", "%s is not installed in %s" % (self.name, self.tool_dir), None
        if broken is not None:
            return "reinstall", broken, None
        if params["state"] == "reinstalled":
            return "reinstall", "state=reinstalled", None
        reason = reinstall_reason(receipt, self.environment, self.bin_dir, params["python"], params["force"], self.tool_dir)
        if reason:
            return "reinstall", reason, None
        recorded = [canonical_entry(e) for e in receipt["requirements"]]
        if recorded == canonical and params["state"] != "latest" and satisfied(
                wanted, packages_on_disk(self.environment, requires=True), marker_environment(self.environment)):
            return "keep", None, []  # proven from the environment's files; else uv's dry run decides
        plan = self.dry_run(wanted, params["state"] == "latest", exact=recorded != canonical)
        if plan or recorded != canonical:
            reason = None if recorded == canonical else "the request changed: %s was installed as %s" % (
                ", ".join(wanted), ", ".join(entry_text(e) for e in receipt["requirements"]))
            return "update", reason, plan
        return "keep", None, plan

    def install(self, wanted, action, before, receipt):
        """``uv tool install``; an environment uv replaces is backed up first and put back if uv fails.

        In a reinstall (``move``), the backup also takes the tool's links in the bin_dir it was installed
        with before, so a changed bin_dir leaves none of them behind.
        """
        params = self.params
        args = install_args(params, wanted, action)
        backup = Backup(self.environment, self.bin_dir, action == "reinstall",
                        links_elsewhere(receipt, self.bin_dir)) if os.path.isdir(self.environment) else None
        leftovers = unlink_leftovers(self.bin_dir, self.environment)
        try:
            self.uv(args + self.index_args(), "uv tool install %s" % self.name)
        except UvError as exc:
            relink(leftovers)
            if backup is not None:
                backup.restore(exc.msg)
                exc.msg = "%s\n%s was restored as it was (its environment and executables)" % (
                    exc.msg, " ".join([self.name] + [v["version"] for v in [before.get(self.name)] if v]))
            exc.msg += OFFLINE_HINT if params["offline"] else ""
            raise
        if backup is not None:
            backup.discard()
        protect_receipt(self.environment)

    def report(self, action, reason, before, after, receipt):
        result = self.result
        # The reason may quote the receipt's URLs, whose credentials no_log never learnt (a rotated password).
        reason = redact_text(reason) if reason else reason
        check = self.module.check_mode
        changes = changes_from_lists(before, after, list(after) if action == "reinstall" else ())
        result["packages"] = changes
        result["before"] = dict((v["name"], v["version"]) for v in before.values())
        result["after"] = dict((v["name"], v["version"]) for v in after.values())
        result["changed"] = action != "keep" or any(changes[k] for k in changes) or self.protected or bool(self.recovered)
        result["reason"] = reason
        if after:
            given = dict(name=self.params["name"], python=self.params["python"], **{"with": self.params["with"]})
            result["tool"] = tool_summary(self.environment, after, receipt, given)
        result["msg"] = describe(action, reason, self.name, before, after, changes, check, self.tool_dir)
        if self.protected and action != "remove":
            result["msg"] += "; %s readable by its owner only (it holds a URL's credentials)" % (
                "would make its receipt" if check else "made its receipt")
        result["cmd"] = [redact_text(" ".join(c)) for c in self.runner.commands] if self.runner else []
        if self.module._diff:
            result["diff"] = package_diff(self.environment, before, after)


def main():
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "latest", "absent", "reinstalled"]),
        python=dict(type="str"),
        tool_dir=dict(type="path", default="/opt/uv/tools"),
        bin_dir=dict(type="path", default="/usr/local/bin"),
        python_install_dir=dict(type="path", default="/opt/uv/python"),
        force=dict(type="bool", default=False),
        index_url=dict(type="str"),
        extra_index_urls=dict(type="list", elements="str", default=[]),
        find_links=dict(type="list", elements="str", default=[]),
        no_index=dict(type="bool", default=False),
        offline=dict(type="bool", default=False),
        no_build=dict(type="bool", default=False),
        uv_path=dict(type="path"),
        lock_timeout=dict(type="int", default=300),
    )
    spec["with"] = dict(type="list", elements="str", default=[])  # "with" is a Python keyword
    module = masking_module_class(AnsibleModule, SECRET_OPTIONS)(argument_spec=spec, supports_check_mode=True)
    tool = UvTool(module)
    finish(module, tool, lambda: [redact_text(" ".join(c)) for c in tool.runner.commands] if tool.runner else [])


if __name__ == "__main__":
    main()
