#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: uv_python
short_description: Install uv-managed Pythons (python-build-standalone) system-wide, from a mirror
version_added: 0.1.0
description:
  - Installs, upgrades or removes the Pythons that uv manages (C(uv python install)) in a system-wide
    O(install_dir), with their C(python3.X) links in O(bin_dir), using the uv that
    M(pyfleet.uv.uv_install) put on the host.
  - What is installed is read from uv itself (C(uv python list --only-installed --output-format json)),
    offline. A request that is already installed is a no-op without any network request; check mode
    decides the same way and downloads nothing.
  - uv runs with the environment the notes describe, and with the proxy variables only when
    O(use_proxy=true). The system configuration's C(python-install-mirror) and
    C(python-downloads-json-url) are used when the options are not given.
  - Each Python that the task installs (or whose links it repairs) is run once before the task reports
    success, with C(import sys, ssl, sqlite3). If it does not run, what this task installed is removed
    again and the task fails with the interpreter's output. When uv fails, RV(msg) starts with uv's own
    C(error:) and cause lines (not its progress lines), then the command; RV(stderr) holds uv's whole
    output. Any installation that uv left half-done is removed.
  - Concurrent runs on one host are serialised by a lock on O(install_dir); the decision is taken again
    under the lock.
  - Needs uv 0.8.0 or newer on the host.
author:
  - pyfleet maintainers (@pyfleet)
extends_documentation_fragment:
  - pyfleet.uv.attributes
  - pyfleet.uv.uv_runner
attributes:
  check_mode:
    support: full
    description: Decides from what uv lists as installed and reports the plan; downloads and writes nothing.
      V(latest) reads the downloads list (the downloads JSON), never an archive.
  diff_mode:
    support: full
    description: Shows the installed keys before and after.
  idempotent:
    support: full
    description: A second run with the same options reports no change and makes no network request.
options:
  version:
    description:
      - The Pythons, as uv takes requests - V(3.12), V(3.12.7), V(cpython@3.13), V(pypy@3.10), V(3.13t),
        or a full key such as V(cpython-3.12.7-linux-x86_64-gnu).
      - Quote versions in YAML (V("3.10")), or YAML reads them as numbers (V(3.1)).
    type: list
    elements: str
    required: true
  state:
    description:
      - V(present) installs each request unless some installed Python satisfies it.
      - V(latest) installs, for each request, the newest version that the source offers (for V(3.12), the
        newest 3.12 patch). Older patches stay installed (uv's minor-version link and the C(python3.X)
        link move to the new one; remove old patches with O(state=absent) and their exact version).
      - V(absent) removes every installed Python that a request matches (V(3.12) matches all 3.12
        patches, V(3.12.7) only that one), and nothing else.
    type: str
    choices: [present, absent, latest]
    default: present
  install_dir:
    description:
      - Where uv puts the Pythons (uv's C(UV_PYTHON_INSTALL_DIR)), as an absolute path; created (mode
        0755, and so are missing folders above it, whatever the umask of the connection) when missing.
        Each Python is a directory named by its key, readable and runnable by every user.
    type: path
    default: /opt/uv/python
  bin_dir:
    description:
      - Where uv links the C(python3.X) executables (uv's C(UV_PYTHON_BIN_DIR)), for example
        C(/usr/local/bin); created (mode 0755) when missing. V(null) (the default) links none.
      - C(python3.X) belongs to the newest installed patch of its series (from uv 0.10 through uv's
        minor-version link), and uv does not move it back to an older patch. A request for an exact
        older patch (V(3.11.2) while 3.11.7 is installed) installs it and is then satisfied with the link
        leading to the newer patch (V(changed=false) from the second run on); run the older patch by its
        path (RV(installed[].path)). Only a missing link, or one that leads elsewhere, is linked again.
    type: path
  default:
    description:
      - Also link C(python3) and C(python) in O(bin_dir) to the first request's Python (uv's
        C(--default), experimental in uv). Needs O(bin_dir).
    type: bool
    default: false
  python_install_mirror:
    description:
      - Where uv downloads CPython archives from, as uv's C(python-install-mirror) (C(https://),
        C(http://) or C(file://)); uv asks for C(<mirror>/<build tag>/<file name>).
      - Credentials in the URL (C(https://user:password@host/...), a token as the user, query values) are
        used for the download and masked in the results, messages and the invocation; so are those of
        O(python_downloads_json_url).
      - With a downloads JSON, uv (and the controller with O(download_on=controller)) takes each entry
        below GitHub's python-build-standalone release folder from this mirror instead.
      - Without a downloads JSON, uv checks each archive against the sha256 built into the uv binary, so
        the mirror must hold the unmodified python-build-standalone release assets.
      - Defaults to what the system C(uv.toml) says, then to uv's default (GitHub).
    type: str
  python_downloads_json_url:
    description:
      - A downloads JSON in the format of uv's C(download-metadata.json) (uv's
        C(python-downloads-json-url)), a local path or (uv 0.10 and newer) an C(http(s)) URL. It
        replaces uv's built-in list; each entry's C(url) and C(sha256) are used.
      - Defaults to what the system C(uv.toml) says.
    type: str
  download_on:
    description:
      - V(host) lets uv on each host download.
      - V(controller) reads the downloads JSON (or the mirror) on the controller, downloads each needed
        archive once for the whole fleet into O(controller_cache_dir) (keyed by sha256, locked, verified
        against the JSON's sha256), copies it to the host and installs it from there, so the hosts reach
        nothing. Each host first plans from its own state; only hosts that need a Python get a file.
        Give O(python_downloads_json_url) or O(python_install_mirror) in the task. Needs the Python
        package C(requests) on the controller for C(http(s)) sources.
      - The host installs the pushed archives from a C(file://) mirror in the task's temporary directory,
        which replaces any C(python-install-mirror) of the host's system C(uv.toml) for this task.
    type: str
    choices: [host, controller]
    default: host
  controller_cache_dir:
    description:
      - With O(download_on=controller), the controller directory that keeps downloaded archives, shared
        with M(pyfleet.uv.uv_install). Defaults to C(pyfleet-uv/artifacts) under C($XDG_CACHE_HOME)
        (C(~/.cache) when unset).
    type: path
  venv_roots:
    description:
      - With O(state=absent), directories searched (four levels deep) for virtual environments
        (C(pyvenv.cfg)) whose interpreter is a Python being removed; each one found is named in a
        warning. The removal still happens.
    type: list
    elements: path
    default: []
  use_proxy:
    description:
      - Pass the proxy variables of the module's environment (C(http_proxy), C(https_proxy),
        C(all_proxy), C(no_proxy)) to uv. Off by default, so uv uses no proxy that the task did not ask
        for.
    type: bool
    default: false
  plan_only:
    description:
      - Decide from the host alone and return the plan, including the download each request needs.
      - Set by the action plugin as the first step of O(download_on=controller); there is no need to set
        it by hand.
    type: bool
    default: false
  plan_downloads:
    description:
      - With O(plan_only), also name the download that each step needs (this reads the downloads list).
      - Set by the action plugin; there is no need to set it by hand.
    type: bool
    default: true
  local_downloads:
    description:
      - A downloads JSON (as a dictionary) that the module writes to a private file and gives uv instead of
        O(python_downloads_json_url).
      - Set by the action plugin with O(download_on=controller); there is no need to set it by hand.
    type: dict
  local_mirror:
    description:
      - A directory on the host that holds the archives in the mirror layout, used as C(file://) mirror
        instead of O(python_install_mirror).
      - Set by the action plugin with O(download_on=controller); there is no need to set it by hand.
    type: path
requirements:
  - uv 0.8.0 or newer on the managed host (see M(pyfleet.uv.uv_install)).
  - Python 3.6 or newer on the managed host.
notes:
  - uv 0.8.0 reads O(python_downloads_json_url) only from a local path; the module then quotes uv's
    refusal. O(download_on=controller) always hands the host a local file.
seealso:
  - module: pyfleet.uv.uv_install
  - module: pyfleet.uv.uv_config
"""

EXAMPLES = r"""
- name: Python 3.12 from an internal mirror of the python-build-standalone releases
  pyfleet.uv.uv_python:
    version: ["3.12"]
    bin_dir: /usr/local/bin
    python_install_mirror: https://mirror.example.com/python-build-standalone/

- name: Keep the newest 3.12 and 3.13 patches that a curated downloads JSON lists
  pyfleet.uv.uv_python:
    version: ["3.12", "cpython@3.13"]
    state: latest
    python_downloads_json_url: https://mirror.example.com/python/downloads.json

- name: Hosts without access to the mirror get the archive from the controller (downloaded once)
  pyfleet.uv.uv_python:
    version: ["3.12"]
    bin_dir: /usr/local/bin
    python_downloads_json_url: https://mirror.example.com/python/downloads.json
    download_on: controller

- name: Remove 3.11, warning about venvs under /srv that still use it
  pyfleet.uv.uv_python:
    version: ["3.11"]
    state: absent
    venv_roots: [/srv]
"""

RETURN = r"""
msg:
  description: What was done, or would be done in check mode, and why.
  returned: always
  type: str
  sample: "installed cpython-3.12.7-linux-x86_64-gnu (3.12: no installed Python matches 3.12)"
installed:
  description:
    - For each request, the Python that satisfies it after the run (in check mode, the one installed now,
      or V(null) fields when it would be installed). For O(state=absent), what was removed.
  returned: always
  type: list
  elements: dict
  contains:
    request:
      description: The request as given.
      type: str
    key:
      description: The installation key as uv reports it (C(<implementation>-<version>-<os>-<arch>-<libc>)).
      type: str
      sample: cpython-3.12.7-linux-x86_64-gnu
    target:
      description: The platform part of the key (C(<os>-<arch>-<libc>)), as uv chose it for this host.
      type: str
      sample: linux-x86_64-gnu
    version:
      description: The Python version.
      type: str
      sample: 3.12.7
    implementation:
      description: V(cpython), V(pypy), ...
      type: str
    variant:
      description: uv's variant, V(default) or V(freethreaded) (V(+debug) builds included).
      type: str
    path:
      description: The interpreter uv lists for it.
      type: str
      sample: /opt/uv/python/cpython-3.12-linux-x86_64-gnu/bin/python3.12
    arch:
      description: The architecture (with micro-architecture level, such as V(x86_64_v3), when uv chose one).
      type: str
    libc:
      description: V(gnu), V(musl) or V(none).
      type: str
    sys_version:
      description: What the interpreter printed as C(sys.version) in its test run (installed or relinked ones).
      type: str
previous:
  description: The installed Pythons that the requests matched before the run (the same fields).
  returned: always
  type: list
  elements: dict
uv:
  description: The uv that was run, and its version.
  returned: always
  type: dict
stderr:
  description: When uv failed, its whole output (credentials masked); RV(msg) starts with its C(error:) lines.
  returned: when uv failed
  type: str
warnings_venvs:
  description: With O(state=absent) and O(venv_roots), the venvs found that use a removed Python, by key.
  returned: when some were found
  type: dict
plan:
  description: With O(plan_only), per request the action and the download it needs (key, url).
  returned: when O(plan_only=true)
  type: list
  elements: dict
"""

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils.install._install_dir import DirLock, ensure_install_dir
from ansible_collections.pyfleet.uv.plugins.module_utils.pythons._python import (
    PythonError,
    best,
    check_options,
    decide,
    link_problem,
    plan_items,
    previous_of,
    report_diff,
    report_items,
    summary,
    venvs_of,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.pythons._python_uv import UvPython, python_settings
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import masking_module_class
from ansible_collections.pyfleet.uv.plugins.module_utils._uv_runner import UvRunner, locate_uv


# Options whose URLs may carry credentials (user info, query tokens): masked in the invocation and
# in every message, before the argument spec is even checked. local_downloads holds the entries of
# the controller's downloads JSON, whose URLs may carry them too.
SECRET_OPTIONS = ["python_install_mirror", "python_downloads_json_url", "local_downloads"]
# What uv_python creates (install_dir and the folders above it; uv the bin_dir and the Pythons) is
# made under this umask, whatever the connection's (hardened hosts set 027): every user runs them.
UMASK = 0o022


class UvPythonModule(object):
    """Validate, plan from what uv lists, act under the lock, verify, report."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.result = dict(changed=False, installed=[], previous=[])
        self.install_dir = self.params["install_dir"]
        self.bin_dir = self.params["bin_dir"]

    def setup(self):
        params = self.params
        self.requests = check_options(params)
        downloads_json = params["python_downloads_json_url"]
        mirror = params["python_install_mirror"]
        if params["local_downloads"] is not None:
            downloads_json = os.path.join(self.module.tmpdir, "python-downloads.json")
            with open(downloads_json, "w") as handle:
                json.dump(params["local_downloads"], handle)
        if params["local_mirror"]:
            mirror = "file://" + params["local_mirror"].rstrip("/")
        uv, _how = locate_uv(params["uv_path"])
        # The controller's pushed archives (local_mirror): uv takes a downloads JSON entry only from
        # below the mirror that applies (a system uv.toml may set one), so both of uv's mirrors point there.
        settings = python_settings(self.bin_dir, mirror, downloads_json, pypy_mirror=bool(params["local_mirror"]))
        runner = UvRunner(self.module, uv, tempfile.mkdtemp(prefix="uv-home-", dir=self.module.tmpdir),
                          self.install_dir, settings, umask=UMASK, use_proxy=params["use_proxy"], name="uv_python")
        self.uv = UvPython(runner)
        self.result["uv"] = dict(path=uv, version=runner.version_string())

    # -- decide ------------------------------------------------------------

    def listed(self, request=None):
        if not os.path.isdir(self.install_dir):
            return []  # nothing installed yet; uv would list nothing either
        return self.uv.installed(request)

    def plan(self):
        """Per request ``dict(request, action, reason, entry, installed)``; only ``latest`` reads downloads."""
        state = self.params["state"]
        steps = []
        # Every managed Python, for the links: one offline listing, only with bin_dir.
        every = self.listed() if self.bin_dir and state != "absent" else []
        for index, request in enumerate(self.requests):
            installed = self.listed(request)
            newest = None
            if state == "latest":
                offered = self.uv.downloads(request)
                newest = offered[0] if offered else None
            default = self.params["default"] and index == 0
            links = None
            if state != "absent" and installed:
                links = link_problem(best(installed, newest), self.bin_dir, default, every)
            action, reason, entry = decide(state, request, installed, newest, links)
            steps.append(dict(request=request, action=action, reason=reason, entry=entry, installed=installed,
                              default=default))
        return steps

    def downloads_for(self, steps):
        """For the controller: the download uv would take for each step that needs one (offline with a local JSON)."""
        for step in steps:
            if step["action"] == "install" and step["entry"] is None:
                offered = self.uv.downloads(step["request"])
                if not offered:
                    raise PythonError("no download matches %s on this host" % step["request"])
                step["entry"] = offered[0]

    # -- act ---------------------------------------------------------------

    def act(self, steps):
        if self.params["state"] == "absent":
            keys = [item["key"] for item in previous_of(steps)]  # each matched Python, once
            self.uv.uninstall(keys)
            return keys
        if self.params["local_downloads"] is not None:
            # The controller pushed the archives it planned: install exactly those keys (offline).
            self.downloads_for(steps)
        work = [s for s in steps if s["action"] in ("install", "relink")]
        return self.uv.install_steps(work, self.bin_dir, self.module.warn)

    def warn_venvs(self, steps):
        found = venvs_of(self.params["venv_roots"], self.install_dir, steps)
        if found:
            self.result["warnings_venvs"] = found
            for key, venvs in sorted(found.items()):
                plural = "s" if len(venvs) > 1 else ""
                self.module.warn("%s is still used by the venv%s %s" % (key, plural, ", ".join(venvs)))

    # -- flow --------------------------------------------------------------

    def run(self):
        self.setup()
        steps = self.plan()
        self.result["previous"] = previous_of(steps)
        changing = [s for s in steps if s["action"] != "none"]
        if self.params["state"] == "absent" and changing:
            self.warn_venvs(steps)
        if not changing:
            return self.finish(steps, "nothing to do: %s" % "; ".join(s["reason"] for s in steps))
        if self.module.check_mode or self.params["plan_only"]:
            if self.params["plan_only"]:
                if self.params["plan_downloads"]:
                    self.downloads_for(steps)
                self.result["plan"] = plan_items(steps)
            self.result["changed"] = True
            return self.finish(steps, "would %s" % summary(changing))
        umask = os.umask(UMASK)
        try:
            ensure_install_dir(self.install_dir)
            with DirLock(self.install_dir, holder="uv_python"):
                steps = self.plan()  # again, under the lock: another run may have done it meanwhile
                changing = [s for s in steps if s["action"] != "none"]
                if not changing:
                    return self.finish(steps, "nothing to do: %s" % "; ".join(s["reason"] for s in steps))
                done = self.act(steps)
        finally:
            os.umask(umask)
        self.result["changed"] = True
        if self.params["state"] == "absent":
            return self.finish(steps, "removed %s" % ", ".join(done))
        return self.finish(steps, summary(changing, done=True))

    def finish(self, steps, msg):
        self.result["installed"] = report_items(steps, self.params["state"], self.module.check_mode)
        self.result["msg"] = msg
        if self.module._diff:
            self.result["diff"] = report_diff(self.result["previous"], self.result["installed"], self.params["state"])
        return self.result


def main():
    module = masking_module_class(AnsibleModule, SECRET_OPTIONS)(
        argument_spec=dict(
            version=dict(type="list", elements="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent", "latest"]),
            install_dir=dict(type="path", default="/opt/uv/python"),
            bin_dir=dict(type="path"),
            default=dict(type="bool", default=False),
            python_install_mirror=dict(type="str"),
            python_downloads_json_url=dict(type="str"),
            download_on=dict(type="str", default="host", choices=["host", "controller"]),
            controller_cache_dir=dict(type="path"),
            uv_path=dict(type="path"),
            venv_roots=dict(type="list", elements="path", default=[]),
            use_proxy=dict(type="bool", default=False),
            plan_only=dict(type="bool", default=False),
            plan_downloads=dict(type="bool", default=True),
            local_downloads=dict(type="dict"),
            local_mirror=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    runner = UvPythonModule(module)
    try:
        result = runner.run()
    except UvError as exc:
        failed = dict(runner.result)
        failed.pop("diff", None)
        failed["msg"] = exc.msg
        if exc.details.get("stderr"):
            failed["stderr"] = exc.details["stderr"]  # uv's whole output; msg starts with its error lines
        module.fail_json(**failed)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
