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
  - Every call to uv runs with an explicit environment. C(HOME) and C(XDG_CONFIG_HOME) point at an
    empty private directory, so the calling user's C(~/.config/uv/uv.toml), C(.netrc) and uv cache are
    never used; every C(UV_*) variable of the task's environment is dropped; proxy variables are passed
    only with O(use_proxy=true). The system configuration (C(/etc/uv/uv.toml), written by
    M(pyfleet.uv.uv_config)) still applies, so its C(python-install-mirror) and
    C(python-downloads-json-url) are used when the options are not given.
  - Each Python that the task installs (or whose links it repairs) is run once before the task reports
    success, with C(import sys, ssl, sqlite3). If it does not run, what this task installed is removed
    again and the task fails with the interpreter's output. When uv fails, its message is quoted and
    any installation that uv left half-done is removed.
  - Concurrent runs on one host are serialised by a lock on O(install_dir); the decision is taken again
    under the lock.
  - Needs uv 0.8.0 or newer on the host.
author:
  - pyfleet maintainers (@pyfleet)
extends_documentation_fragment:
  - pyfleet.uv.attributes
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
  uv_path:
    description:
      - The uv to run. By default the uv that M(pyfleet.uv.uv_install) recorded (its receipt in
        C(/usr/local/bin)), else the first C(uv) on C(PATH).
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
  - uv's own environment variables in the task's C(environment) are ignored; use the options.
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
from ansible_collections.pyfleet.uv.plugins.module_utils._install import DirLock, ensure_install_dir
from ansible_collections.pyfleet.uv.plugins.module_utils._python import (
    PythonError,
    UvPython,
    decide,
    describe,
    find_uv_binary,
    link_problem,
    parse_request,
    python_environment,
    venvs_using,
    version_tuple,
)
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import masking_module_class


# Options whose URLs may carry credentials (user info, query tokens): masked in the invocation and
# in every message, before the argument spec is even checked. local_downloads holds the entries of
# the controller's downloads JSON, whose URLs may carry them too.
SECRET_OPTIONS = ["python_install_mirror", "python_downloads_json_url", "local_downloads"]
# What uv_python creates (install_dir and the folders above it; uv the bin_dir and the Pythons) is
# made under this umask, whatever the connection's (hardened hosts set 027): every user runs them.
UMASK = 0o022


def environment_runner(module):
    """``run(argv, env) -> (rc, stdout, stderr)`` with exactly ``env``, in ``/``."""
    def run(argv, env):
        saved = dict(os.environ)
        # What uv unpacks must be readable by every user, whatever umask the connection has.
        umask = os.umask(UMASK)
        try:
            os.environ.clear()
            os.environ.update(env)
            return module.run_command(list(argv), cwd="/", errors="surrogate_then_replace", handle_exceptions=False)
        except (IOError, OSError) as exc:
            return None, "", "%s: %s" % (argv[0], exc.strerror or exc)
        finally:
            os.umask(umask)
            os.environ.clear()
            os.environ.update(saved)
    return run


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
        self.requests = [parse_request(r) for r in params["version"]]
        if not self.requests:
            raise PythonError("version lists no Python")
        for name in ("install_dir", "bin_dir"):
            if params[name] and not os.path.isabs(params[name]):
                raise PythonError("%s must be an absolute path, got %s" % (name, params[name]))
        if params["default"] and not self.bin_dir:
            raise PythonError("default=true links python3 and python in bin_dir: set bin_dir")
        if (params["download_on"] == "controller" and params["state"] != "absent" and not params["plan_only"]
                and params["local_downloads"] is None and not params["local_mirror"]):
            raise PythonError("download_on=controller needs the collection's action plugin; call the module as "
                              "pyfleet.uv.uv_python (not through a module path)")
        home = tempfile.mkdtemp(prefix="uv-home-", dir=self.module.tmpdir)
        downloads_json = params["python_downloads_json_url"]
        mirror = params["python_install_mirror"]
        if params["local_downloads"] is not None:
            downloads_json = os.path.join(self.module.tmpdir, "python-downloads.json")
            with open(downloads_json, "w") as handle:
                json.dump(params["local_downloads"], handle)
        if params["local_mirror"]:
            mirror = "file://" + params["local_mirror"].rstrip("/")
        uv = find_uv_binary(params["uv_path"])
        env = python_environment(os.environ, home, self.install_dir, self.bin_dir, mirror, downloads_json,
                                 params["use_proxy"])
        if params["local_mirror"]:
            # The controller's pushed archives: uv takes a downloads JSON entry only from below the
            # mirror that applies (a system uv.toml may set one), so both of uv's mirrors point there.
            env["UV_PYPY_INSTALL_MIRROR"] = mirror
        self.uv = UvPython(uv, environment_runner(self.module), env)
        version = self.uv.version()
        self.result["uv"] = dict(path=uv, version=".".join(str(p) for p in version))

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
                chosen = _best(installed, newest)
                links = link_problem(chosen, self.bin_dir, default, every)
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
            return self.remove(steps)
        if self.params["local_downloads"] is not None:
            # The controller pushed the archives it planned: install exactly those keys (offline).
            self.downloads_for(steps)
        before = set(e["key"] for e in self.uv.installed())
        work = [s for s in steps if s["action"] in ("install", "relink")]
        try:
            for step in work:
                # A download key installs exactly what was planned; a plain request lets uv choose.
                what = step["entry"]["key"] if step["action"] == "install" and step["entry"] else step["request"]
                if step["action"] == "relink":
                    what = step["entry"]["key"]
                step["output"] = self.uv.install([what], self.bin_dir, step["default"])
        except PythonError as exc:
            left = self.undo(before)
            hint = ""
            if "Hash mismatch" in exc.msg and self.uv.env.get("UV_PYTHON_INSTALL_MIRROR") \
                    and not self.uv.env.get("UV_PYTHON_DOWNLOADS_JSON_URL"):
                hint = ("; without a downloads JSON uv checks each archive against the sha256 built into uv, so "
                        "the mirror must hold the unmodified python-build-standalone release assets")
            raise PythonError("%s%s%s" % (exc.msg, "; removed what uv left half-installed: %s" % ", ".join(left)
                                          if left else "; nothing was installed", hint))
        failures = []
        for step in work:
            installed = self.uv.installed(step["request"])
            entry = _best(installed, step["entry"] if step["action"] == "install" else None)
            if entry is None:
                failures.append("uv reported success, but lists no Python for %s" % step["request"])
                continue
            ok, detail = self.uv.verify(entry["path"])
            if not ok:
                failures.append(detail)
            step["entry"], step["sys_version"] = entry, detail
        if failures:
            left = self.undo(before)
            raise PythonError("the installed Python does not run here: %s; %s" % (
                "; ".join(failures), "removed again: %s" % ", ".join(left) if left else "nothing was installed"))
        return work

    def undo(self, before):
        """Uninstall what appeared since ``before`` (keys); returns their keys."""
        try:
            new = [e["key"] for e in self.uv.installed() if e["key"] not in before]
        except PythonError:
            return []
        if new:
            try:
                self.uv.uninstall(new)
            except PythonError as exc:
                self.module.warn("could not remove %s again: %s" % (", ".join(new), exc.msg))
        return new

    def remove(self, steps):
        keys = []
        for step in steps:
            for entry in step["installed"]:
                if entry["key"] not in keys:
                    keys.append(entry["key"])
        self.uv.uninstall(keys)
        return keys

    def warn_venvs(self, steps):
        if not self.params["venv_roots"]:
            return
        dirs = {}
        for step in steps:
            for entry in step["installed"]:
                dirs[os.path.join(self.install_dir, entry["key"])] = entry["key"]
        found = venvs_using(self.params["venv_roots"], list(dirs))
        if found:
            self.result["warnings_venvs"] = dict((dirs[d], sorted(v)) for d, v in found.items())
            for python_dir, venvs in sorted(found.items()):
                self.module.warn("%s is still used by the venv%s %s" % (
                    dirs[python_dir], "s" if len(venvs) > 1 else "", ", ".join(sorted(venvs))))

    # -- flow --------------------------------------------------------------

    def run(self):
        self.setup()
        steps = self.plan()
        self.report_previous(steps)
        changing = [s for s in steps if s["action"] != "none"]
        if self.params["state"] == "absent" and changing:
            self.warn_venvs(steps)
        if not changing:
            return self.finish(steps, [], "nothing to do: %s" % "; ".join(s["reason"] for s in steps))
        if self.module.check_mode or self.params["plan_only"]:
            if self.params["plan_only"]:
                if self.params["plan_downloads"]:
                    self.downloads_for(steps)
                self.result["plan"] = [dict(request=s["request"], action=s["action"], reason=s["reason"],
                                            key=(s["entry"] or {}).get("key"), url=(s["entry"] or {}).get("url"),
                                            version=(s["entry"] or {}).get("version")) for s in steps]
            self.result["changed"] = True
            return self.finish(steps, changing, "would %s" % _summary(changing))
        umask = os.umask(UMASK)
        try:
            ensure_install_dir(self.install_dir)
            with DirLock(self.install_dir, holder="uv_python"):
                steps = self.plan()  # again, under the lock: another run may have done it meanwhile
                changing = [s for s in steps if s["action"] != "none"]
                if not changing:
                    return self.finish(steps, [], "nothing to do: %s" % "; ".join(s["reason"] for s in steps))
                done = self.act(steps)
        finally:
            os.umask(umask)
        self.result["changed"] = True
        if self.params["state"] == "absent":
            return self.finish(steps, changing, "removed %s" % ", ".join(done))
        return self.finish(steps, done, _summary(changing, done=True))

    def report_previous(self, steps):
        seen = set()
        for step in steps:
            for entry in step["installed"]:
                if entry["key"] not in seen:
                    seen.add(entry["key"])
                    self.result["previous"].append(describe(entry, step["request"]))

    def finish(self, steps, changed_steps, msg):
        items = []
        for step in steps:
            if self.params["state"] == "absent":
                items.extend(describe(e, step["request"]) for e in step["installed"])
                continue
            entry = step["entry"] if step["action"] != "install" or not self.module.check_mode else None
            if entry is None or entry.get("path") is None:
                item = dict(request=step["request"], key=(entry or {}).get("key"), target=None,
                            version=(entry or {}).get("version"), implementation=None, variant=None, path=None,
                            arch=None, libc=None)
            else:
                item = describe(entry, step["request"])
            if step.get("sys_version"):
                item["sys_version"] = step["sys_version"]
            items.append(item)
        self.result["installed"] = items
        self.result["msg"] = msg
        if self.module._diff:
            before = set(e["key"] for e in self.result["previous"])
            named = set(i["key"] or "%s (to install)" % i["request"] for i in items)
            after = before - named if self.params["state"] == "absent" else before | named
            self.result["diff"] = dict(before="".join(k + "\n" for k in sorted(before)),
                                       after="".join(k + "\n" for k in sorted(after)))
        return self.result


def _best(installed, wanted=None):
    """The installed entry of ``wanted``'s version if given, else the newest; ``None`` if none."""
    if wanted is not None:
        same = [e for e in installed if e["key"] == wanted.get("key") or e["version"] == wanted.get("version")]
        if same:
            return same[0]
    ordered = sorted(installed, key=lambda e: version_tuple(e["version"]), reverse=True)
    return ordered[0] if ordered else None


def _summary(steps, done=False):
    verbs = {"install": "installed" if done else "install", "relink": "relinked" if done else "relink",
             "uninstall": "removed" if done else "remove"}
    parts = []
    for step in steps:
        what = (step.get("entry") or {}).get("key") or step["request"]
        if step["action"] == "uninstall":
            what = ", ".join(e["key"] for e in step["installed"])
        parts.append("%s %s (%s: %s)" % (verbs[step["action"]], what, step["request"], step["reason"]))
    return "; ".join(parts)


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
        module.fail_json(**failed)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
