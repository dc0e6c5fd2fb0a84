# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``sync`` rows of benchmarks/run.py (issue 31): an application from its uv.lock on a fleet of local
hosts, ``ansible.builtin.pip`` with the lock's hashed requirements against ``pyfleet.uv.uv_sync`` in host
and controller mode; see benchmarks/README.md."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

from bench_common import VERSION, recap_changed
from venv_rows import VENV_PACKAGES, venv_wheels
import uvindex_front  # pylint: disable=wrong-import-order  # tests/utils, on sys.path by bench_common

# The sync rows (uv_sync against ansible.builtin.pip with the lock's hashed requirements): the same 12 pinned
# distributions, as an application's dependencies locked by the real uv, deployed to a fleet of local hosts.
SYNC_TOOLS = ("ansible_builtin_pip", "uv_sync_host", "uv_sync_controller")
SYNC_HOSTS = 4


class SyncRowsMixin:
    """The ``sync`` row group, mixed into run.py's ``Bench`` (its ``run_playbook``, ``play``, ``playbook``,
    ``inventory``, ``venv_wipe``, ``record``, ``skip``, ``notes``, ``work``, ``env``, ``venv``, ``server``,
    ``args``)."""

    def sync_project(self, uv, url):
        """The application (VENV_PACKAGES as its dependencies, no build backend: uv installs only them) locked
        by the real uv against ``url``, and its hashed requirements (``uv export``); returns (folder, file)."""
        top = os.path.join(self.work, "sync-app")
        os.makedirs(top, exist_ok=True)
        with open(os.path.join(top, "pyproject.toml"), "w") as handle:
            handle.write('[project]\nname = "benchapp"\nversion = "1.0.0"\nrequires-python = ">=%d.%d"\n'
                         'dependencies = %s\n\n[tool.uv]\nenvironments = ["sys_platform == \'linux\'"]\n'
                         % (sys.version_info[0], sys.version_info[1], json.dumps(list(VENV_PACKAGES))))
        env = dict(os.environ, UV_DEFAULT_INDEX=url, UV_PYTHON_DOWNLOADS="never", UV_NO_CONFIG="1", UV_NO_PROGRESS="1",
                   UV_CACHE_DIR=os.path.join(self.work, "sync-lock-cache"))
        subprocess.run([uv, "lock", "--python", sys.executable], cwd=top, env=env, check=True, capture_output=True)
        out = subprocess.run([uv, "export", "--frozen", "--format", "requirements-txt", "--no-emit-project",
                              "--no-header"], cwd=top, env=env, check=True, capture_output=True, text=True).stdout
        requirements = os.path.join(self.work, "sync-requirements.txt")
        with open(requirements, "w") as handle:
            handle.write(out)
        return top, requirements

    def sync_tasks(self, url, uv, project, requirements):
        """The one-task playbook text of each tool: the same locked set, the same interpreter, cold caches."""
        empty = os.path.join(self.work, "no-find-links")
        os.makedirs(empty, exist_ok=True)
        sync = ("    - pyfleet.uv.uv_sync:\n        project_src: %s\n        environment: '{{ dir }}/app/.venv'\n"
                "        python: %s\n        uv_path: %s\n" % (project, sys.executable, uv))
        return {
            "ansible_builtin_pip": (
                "    - ansible.builtin.pip:\n        virtualenv: '{{ dir }}/app/.venv'\n"
                "        virtualenv_command: %s -m venv\n        requirements: %s\n"
                "      environment:\n        PIP_INDEX_URL: %s\n        PIP_CACHE_DIR: '{{ dir }}/pip-cache'\n"
                # Not this machine's pip configuration (its find-links and extra indexes would serve some files).
                "        PIP_CONFIG_FILE: /dev/null\n        PIP_FIND_LINKS: %s\n"
                "        PIP_DISABLE_PIP_VERSION_CHECK: '1'\n" % (sys.executable, requirements, url, empty)),
            "uv_sync_host": sync + "        index_url: %s\n" % url,
            # The controller's wheel cache: one per round (cold), given as an extra variable.
            "uv_sync_controller": sync + "        download_on: controller\n        controller_cache_dir: '{{ cache }}'\n",
        }

    def sync_play(self, playbook, inventory, stats_url, extra=None):
        """Run a sync playbook on the fleet; returns (seconds, changed count of h000, index requests, bytes)."""
        uvindex_front.reset(stats_url)
        seconds, output, _peaks = self.run_playbook(playbook, inventory, extra=extra)
        seen = uvindex_front.stats(stats_url)
        return seconds, recap_changed(output), seen["requests"], seen["bytes"]

    def sync_rows(self):
        """An application from its uv.lock on a fleet of SYNC_HOSTS local hosts (2 in --quick), one counting
        pypiserver index (tests/utils/uvindex.py, which gives the sha256 of each file, as a lock needs):
        ``ansible.builtin.pip`` with the lock's hashed requirements (``uv export``) into a venv made by
        ``python -m venv``, uv_sync with ``download_on: host`` and with ``download_on: controller``. Fresh
        deploy (no environment, cold caches) and the no-op: wall time, index requests and bytes served
        (the fleet's egress from the index)."""
        import uvindex  # pylint: disable=import-outside-toplevel  # tests/utils: pypiserver behind a counting front

        hosts = 2 if self.args.quick else SYNC_HOSTS
        try:
            wheels = venv_wheels(VENV_PACKAGES)
        except Exception as exc:  # pylint: disable=broad-except
            for tool in SYNC_TOOLS:
                self.skip("sync_fleet%d_fresh_%s_s" % (hosts, tool), "the package set's wheels cannot be had here: %s" % exc)
            return
        uvdir = os.path.join(self.work, "sync-uv")
        self.play(self.playbook("sync_uv", (
            "    - pyfleet.uv.uv_install:\n        version: %s\n        mirror_url: %s/versioned/{version}/\n"
            "        install_dir: %s\n" % (VERSION, self.server.url, uvdir))), self.inventory(1))
        uv = os.path.join(uvdir, "uv")
        inventory = self.inventory(hosts, name="sync-%d" % hosts)
        homes = [os.path.join(self.work, "h%03d" % i) for i in range(hosts)]
        with uvindex.pypiserver_index(extra=tuple(wheels)) as index:
            project, requirements = self.sync_project(uv, index.url)
            tasks = self.sync_tasks(index.url, uv, project, requirements)
            one_copy = sum(os.path.getsize(w) for w in wheels)
            self.record("sync_wheels_one_copy_bytes", [one_copy], "bytes",
                        note="the %d locked wheels for this interpreter, one copy" % len(wheels))
            # The smoke run leaves out ansible.builtin.pip (its fresh install alone takes 10-25 s per host here).
            tools = [t for t in SYNC_TOOLS if not (self.args.quick and t == "ansible_builtin_pip")
                     and t in (self.args.sync_tools or SYNC_TOOLS)]
            for tool in tools:
                play = self.playbook("sync_" + tool, tasks[tool])
                key = "sync_fleet%d_%s" % (hosts, tool)
                fresh, noop = [], []
                try:
                    for _rep in range(self.args.reps):
                        for home in homes:
                            self.venv_wipe(home)
                        extra = {"cache": tempfile.mkdtemp(prefix="sync-cache-", dir=self.work)}
                        fresh.append(self.sync_play(play, inventory, index.stats, extra))
                        noop.append(self.sync_play(play, inventory, index.stats, extra))
                except RuntimeError as exc:
                    if tool == "uv_sync_controller" and "not yet available" in str(exc):
                        self.skip(key + "_fresh_s", "download_on=controller is not available in this tree")
                        continue
                    raise
                self.record(key + "_fresh_s", [r[0] for r in fresh], "s", note="%d hosts, forks 5" % hosts)
                self.record(key + "_fresh_egress_bytes", [r[3] for r in fresh], "bytes",
                            note="served by the index (%s)" % (
                                "one copy of each wheel" if tool == "uv_sync_controller" else "one copy per host"))
                self.record(key + "_fresh_requests", [r[2] for r in fresh], "requests")
                self.record(key + "_noop_s", [r[0] for r in noop], "s")
                self.record(key + "_noop_requests", [r[2] for r in noop], "requests", "0")
                self.notes[key + "_changed"] = {"fresh": [r[1] for r in fresh], "noop": [r[1] for r in noop]}
            for home in homes:
                shutil.rmtree(home, ignore_errors=True)
