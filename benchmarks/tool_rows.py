# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``tools`` rows of benchmarks/run.py (issue 30): ``community.general.pipx`` against ``pyfleet.uv.uv_tool``.

Both install the same real command-line tool (``TOOL``: pylint and its six dependencies, all pure
Python) from one counting loopback index (tests/utils/venvindex.py's static PEP 503 tree), on the same
interpreter (``TOOL_PYTHON``), one after the other in every round: a fresh install with cold caches, the
pinned no-op and its index requests, ``ansible.builtin.stat`` of the tool's executable right after each
no-op, and what each module reports (``changed`` on the fresh install and on the no-op, check mode on the
no-op).

community.general is not installed here and Galaxy is not reachable: the setup downloads the ``ansible``
package's wheel once (``pip download --no-deps``) and keeps only ``ansible_collections/community/general/``
of it, under ``~/.cache/pyfleet-uv/bench-community-general-<version>/``. pipx runs from a venv of its
own (``~/.cache/pyfleet-uv/venvs/bench-pipx-<key>``). Both are made once, under the suite's cache lock.
"""

from __future__ import annotations

import contextlib
import glob
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import suite  # noqa: E402  pylint: disable=wrong-import-position  # hacking/, put on sys.path by run.py
import uvindex_wheels  # noqa: E402  pylint: disable=wrong-import-position  # tests/utils
import venvindex  # noqa: E402  pylint: disable=wrong-import-position  # tests/utils

# The newest ansible package whose community.general works with ansible-core 2.21: ansible 14.5.0 requires
# ansible-core ~=2.21.5 and bundles community.general 13.5.0 (requires_ansible '>=2.18.0'). Ansible 14 needs
# Python 3.12, so the newest track's venv downloads it.
ANSIBLE_BUNDLE = "14.5.0"
COMMUNITY_GENERAL = "13.5.0"
PIPX = "pipx==1.18.4"
# The tool: pylint, a real command-line tool (console scripts pylint, pyreverse, symilar, pylint-config),
# the one the fleet stage installs, with its dependencies on Python 3.11 (every one pinned, so the no-op
# is fully pinned); all wheels are pure Python and cached in ~/.cache/pyfleet-uv/wheels.
TOOL = "pylint==3.3.1"
TOOL_EXECUTABLE = "pylint"
TOOL_PACKAGES = (TOOL, "astroid==3.3.5", "dill==0.3.9", "isort==5.13.2", "mccabe==0.7.0", "platformdirs==4.3.6",
                 "tomlkit==0.13.2")
# pipx 1.18 builds its shared libraries (its own pip, beside the tools' venvs) with `pip >= 26.1` from the
# index it is given; PIPX_HOME is wiped for every fresh install, so the index holds pip's wheel too.
PIPX_PIP = "pip==26.3"
# The tools' Python, for both modules: a system interpreter that every user can run (uv_tool refuses one in
# root's home, such as the benchmark's pyenv Python).
TOOL_PYTHON = "/usr/bin/python3"
TOOL_MODULES = ("community_general_pipx", "uv_tool")
# What a module that tells the truth reports (tool_correctness_<module> in the notes).
TOOL_EXPECTED = {
    "fresh_changed": True,  # changed after a fresh install
    "noop_changed": False,  # the same task again
    "check_noop_changed": False,  # the same task again in check mode
    "installed_from_the_index": True,  # the tool's environment holds exactly TOOL_PACKAGES (the index's pins)
}


def community_general(python: str, version: str = ANSIBLE_BUNDLE) -> str:
    """A collections path holding ``ansible_collections/community/general`` from the ``ansible`` wheel of
    ``version`` (downloaded with ``python``'s pip, never installed); made once, under the cache lock."""
    top = os.path.join(uvindex_wheels.cache_dir(), "bench-community-general-%s" % version)
    marker = os.path.join(top, ".complete")
    if os.path.exists(marker):
        return top
    with uvindex_wheels.cache_lock("bench-community-general-%s" % version):
        if os.path.exists(marker):
            return top
        staging = tempfile.mkdtemp(prefix=".bench-cg-", dir=uvindex_wheels.cache_dir())
        try:
            subprocess.run([python, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
                            "--only-binary=:all:", "--dest", staging, "ansible==%s" % version], check=True)
            wheels = [n for n in os.listdir(staging) if n.endswith(".whl")]
            if len(wheels) != 1:
                raise RuntimeError("pip download ansible==%s gave %r" % (version, os.listdir(staging)))
            prefix = "ansible_collections/community/general/"
            tree = os.path.join(staging, "tree")
            with zipfile.ZipFile(os.path.join(staging, wheels[0])) as wheel:
                members = [m for m in wheel.infolist() if m.filename.startswith(prefix) and ".." not in m.filename]
                if not members:
                    raise RuntimeError("ansible %s's wheel holds no %s" % (version, prefix))
                wheel.extractall(tree, members)
            open(os.path.join(tree, ".complete"), "w").close()
            shutil.rmtree(top, ignore_errors=True)
            os.replace(tree, top)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return top


@contextlib.contextmanager
def quiet_disconnects():
    """pip and uv close some connections before the whole answer is sent (they read what they need): not an
    error worth a traceback on the index's side."""
    loud = http.server.ThreadingHTTPServer.handle_error

    def handle_error(server, request, address):
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            loud(server, request, address)

    http.server.ThreadingHTTPServer.handle_error = handle_error
    try:
        yield
    finally:
        http.server.ThreadingHTTPServer.handle_error = loud


class ToolRowsMixin:
    """The ``tools`` row group, mixed into run.py's ``Bench`` (it uses its ``play``-style helpers, ``record``,
    ``skip``, ``notes``, ``work``, ``env``, ``venv``, ``server`` and ``args``)."""

    def tool_rows(self):
        """community.general.pipx and uv_tool, interleaved on one counting index (see the module docstring)."""
        names = ["tools_fresh_install_%s_s" % m for m in TOOL_MODULES] + ["tools_noop_%s_s" % m for m in TOOL_MODULES]
        if not os.access(TOOL_PYTHON, os.X_OK):
            for name in names:
                self.skip(name, "no %s here (the tools' Python)" % TOOL_PYTHON)
            return
        try:
            wheels = venvindex.fetch(TOOL_PACKAGES + (PIPX_PIP,))
        except Exception as exc:  # pylint: disable=broad-except
            for name in names:
                self.skip(name, "the tool's wheels cannot be had here: %s" % exc)
            return
        modules = list(TOOL_MODULES)
        pipx = None
        if self.args.quick:
            # The smoke run keeps to uv_tool (pipx's fresh install alone takes 5-20 s here).
            modules.remove("community_general_pipx")
        else:
            try:
                collections = community_general(os.path.join(self.venv, "bin", "python"))
                pipx = os.path.join(uvindex_wheels.venv("bench-pipx", [PIPX], python=TOOL_PYTHON), "bin", "pipx")
            except Exception as exc:  # pylint: disable=broad-except
                modules.remove("community_general_pipx")
                self.notes["tool_setup_community_general_pipx"] = {"skipped": str(exc)[-500:]}
            else:
                self.env["ANSIBLE_COLLECTIONS_PATH"] += ":" + collections
        uvdir = os.path.join(self.work, "tool-uv")
        self.play(self.playbook("tool_uv", (
            "    - pyfleet.uv.uv_install:\n        version: %s\n        mirror_url: %s/versioned/{version}/\n"
            "        install_dir: %s\n" % (suite.UV_NEW, self.server.url, uvdir))), self.inventory(1))
        with quiet_disconnects(), venvindex.static_index(wheels, metadata=True) as (url, counter):
            self.tool_index_rows(modules, url, counter, os.path.join(uvdir, "uv"), pipx)

    def tool_tasks(self, url, uv, pipx):
        """The one-task playbook text of each module: the same tool, index and Python; cold caches in the
        host's folder (uv_tool's uv cache is a private temporary folder of each run, by design)."""
        return {
            "community_general_pipx": (
                "    - community.general.pipx:\n        name: %s\n        executable: %s\n        python: %s\n"
                "        index_url: %s\n      environment:\n        PIPX_HOME: '{{ dir }}/pipx'\n"
                "        PIPX_BIN_DIR: '{{ dir }}/bin'\n        PIPX_MAN_DIR: '{{ dir }}/man'\n"
                "        PIP_CACHE_DIR: '{{ dir }}/pip-cache'\n        PIP_DISABLE_PIP_VERSION_CHECK: '1'\n"
                # The same index only: no pip configuration of this machine (its find-links folder holds
                # newer releases of pylint's dependencies), no PIP_FIND_LINKS from the environment.
                "        PIP_CONFIG_FILE: /dev/null\n        PIP_FIND_LINKS: ''\n        PIP_CONSTRAINT: ''\n"
                % (TOOL, pipx, TOOL_PYTHON, url)) if pipx else None,
            "uv_tool": (
                "    - pyfleet.uv.uv_tool:\n        name: %s\n        python: %s\n        uv_path: %s\n"
                "        index_url: %s\n        tool_dir: '{{ dir }}/tools'\n        bin_dir: '{{ dir }}/bin'\n"
                "        python_install_dir: '{{ dir }}/python'\n" % (TOOL, TOOL_PYTHON, uv, url)),
        }

    @staticmethod
    def tool_installed(home, module):
        """``name==version`` of every package in the tool's environment but pip (from its dist-info folders)."""
        top = os.path.join(home, "pipx", "venvs") if module == "community_general_pipx" else os.path.join(home, "tools")
        found = []
        for site in glob.glob(os.path.join(top, TOOL.partition("==")[0], "lib", "python3*", "site-packages")):
            for name in os.listdir(site):
                if name.endswith(".dist-info"):
                    project, _sep, version = name[:-len(".dist-info")].partition("-")
                    found.append("%s==%s" % (project.lower().replace("_", "-"), version))
        return sorted(f for f in found if not f.startswith("pip=="))

    @staticmethod
    def tool_wipe(home):
        """Nothing installed and every cache cold: the host's folder emptied, with the (empty) bin folder that
        uv_tool requires to exist."""
        shutil.rmtree(home, ignore_errors=True)
        os.makedirs(os.path.join(home, "bin"))

    def tool_index_rows(self, modules, url, counter, uv, pipx):
        """tool_rows' measurements, on the counting index at ``url``."""
        home = os.path.join(self.work, "h000")
        one = self.inventory(1)
        tasks = self.tool_tasks(url, uv, pipx)
        plays = {m: self.playbook("tool_" + m, tasks[m]) for m in modules}
        stat = self.playbook("tool_stat", "    - ansible.builtin.stat:\n        path: '{{ dir }}/bin/%s'\n"
                             % TOOL_EXECUTABLE)
        fresh = {m: [] for m in modules}
        fresh_requests = {m: [] for m in modules}
        noop = {m: [] for m in modules}
        requests = {m: [] for m in modules}
        stats = {m: [] for m in modules}
        flags = {m: {"fresh": [], "noop": []} for m in modules}
        for _rep in range(self.args.reps):
            for module in modules:
                self.tool_wipe(home)
                seconds, count, req = self.venv_play(plays[module], one, counter=counter)
                fresh[module].append(seconds)
                fresh_requests[module].append(req)
                # What the fresh install asked the index for (the last round's): pages and files, and how many
                # of each were asked more than once.
                pages = [p for p in counter.paths if not p.startswith("/files/")]
                files = [p for p in counter.paths if p.startswith("/files/")]
                self.notes["tool_fresh_requests_" + module] = {
                    "pages": len(pages), "pages_again": len(pages) - len(set(pages)),
                    "files": len(files), "files_again": len(files) - len(set(files))}
                flags[module]["fresh"].append(count)
                seconds, count, req = self.venv_play(plays[module], one, counter=counter)
                noop[module].append(seconds)
                flags[module]["noop"].append(count)
                requests[module].append(req)
                stats[module].append(self.venv_play(stat, one)[0])
        self.record("tools_stat_s", [s for m in modules for s in stats[m]], "s",
                    note="ansible.builtin.stat of the tool's executable, after each no-op")
        base = fresh.get("community_general_pipx")
        for module in TOOL_MODULES:
            if module not in modules:
                reason = ("not in a --quick run" if self.args.quick else
                          "community.general or pipx could not be set up: %s"
                          % self.notes.get("tool_setup_" + module, {}).get("skipped", "?"))
                for name in ("tools_fresh_install_%s_s", "tools_fresh_install_%s_requests", "tools_noop_%s_s",
                             "tools_noop_%s_vs_stat_ratio", "tools_noop_%s_requests"):
                    self.skip(name % module, reason)
                self.notes["tool_correctness_" + module] = {"skipped": reason}
                continue
            self.record("tools_fresh_install_%s_s" % module, fresh[module], "s",
                        note="%s, %d packages" % (TOOL, len(TOOL_PACKAGES)))
            self.record("tools_fresh_install_%s_requests" % module, fresh_requests[module], "requests")
            if module != "community_general_pipx":
                if base:
                    self.record("tools_fresh_install_ratio_%s_vs_pipx" % module,
                                [a / b for a, b in zip(fresh[module], base)], "x", "<= 0.3")
                else:
                    self.skip("tools_fresh_install_ratio_%s_vs_pipx" % module, "no community.general.pipx rows")
            self.record("tools_noop_%s_s" % module, noop[module], "s")
            self.record("tools_noop_%s_vs_stat_ratio" % module, [a / b for a, b in zip(noop[module], stats[module])],
                        "x", "<= 1.15" if module == "uv_tool" else None)
            self.record("tools_noop_%s_requests" % module, requests[module], "requests", "0")
            report = {"fresh_changed": all(flags[module]["fresh"]), "noop_changed": any(flags[module]["noop"])}
            # A lone module finds the tool its last round left; otherwise the rounds and the correctness run of
            # the module before it have wiped the host's folder, so it installs again.
            if len(modules) > 1:
                self.tool_wipe(home)
                self.venv_play(plays[module], one)
            report["check_noop_changed"] = bool(self.venv_play(plays[module], one, check=True)[1])
            report["installed_from_the_index"] = self.tool_installed(home, module) == sorted(TOOL_PACKAGES)
            report["wrong"] = sorted(k for k, v in TOOL_EXPECTED.items() if report.get(k) != v)
            self.notes["tool_correctness_" + module] = report
        self.tool_wipe(home)
