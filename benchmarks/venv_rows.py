# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``venv`` rows of benchmarks/run.py (issue 29): ``ansible.builtin.pip``, ``moreati.uv.pip`` and
``pyfleet.uv.uv_venv`` on one counting loopback index; see benchmarks/README.md."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys

from bench_common import VERSION, recap_changed
from tool_rows import quiet_disconnects
import venvindex  # pylint: disable=wrong-import-order  # tests/utils, on sys.path by bench_common

# The venv rows' package set: 12 pinned distributions (every one named, so the no-op is fully
# pinned), three of them compiled wheels (charset-normalizer, MarkupSafe, PyYAML) for the
# benchmark's own interpreter, which is also the Python of every venv.
VENV_PACKAGES = ("requests==2.32.3", "certifi==2024.8.30", "charset-normalizer==3.4.0", "idna==3.10",
                 "urllib3==2.2.3", "six==1.17.0", "python-dateutil==2.9.0.post0", "packaging==24.2",
                 "iniconfig==2.0.0", "MarkupSafe==3.0.2", "PyYAML==6.0.2", "attrs==24.2.0")
# The "real change" of the correctness rows: one pin moved, as in issue 29 (six 1.17.0 -> 1.16.0).
VENV_CHANGE = ("six==1.17.0", "six==1.16.0")
VENV_TOOLS = ("ansible_builtin_pip", "moreati_uv_pip", "uv_venv")
# What a module that tells the truth reports (venv_correctness); the suite's bench-smoke stage
# fails when uv_venv's report differs.
VENV_EXPECTED = {
    "fresh_changed": True,  # changed after a fresh install (no venv)
    "noop_changed": False,  # the same task again
    "check_noop_changed": False,  # the same task again in check mode
    "check_change_changed": True,  # one pin moved (six 1.17.0 -> 1.16.0), in check mode ...
    "check_change_left_alone": True,  # ... which left six 1.17.0 installed
    "change_changed": True,  # the same for real ...
    "change_happened": True,  # ... which installed six 1.16.0 in its place
    "check_fresh_changed": True,  # check mode with no venv
    "check_fresh_left_no_venv": True,  # ... which made none
}
# moreati.uv (Galaxy, github:moreati/ansible-uv) is never vendored nor built here: give an installed copy.
MOREATI_ENV = "PYFLEET_BENCH_MOREATI_UV"


def venv_wheels(packages=VENV_PACKAGES + VENV_CHANGE[1:]):
    """Paths of the wheels of ``packages`` for this interpreter, each downloaded once with pip into
    the suite's wheel cache (pure wheels, or compiled ones tagged for this Python)."""
    tag = "-cp%d%d-" % sys.version_info[:2]
    return venvindex.fetch(packages, accept=lambda n: n.endswith("-none-any.whl")
                           or (tag in n and platform.machine() in n))


class VenvRowsMixin:
    """The ``venv`` row group, mixed into run.py's ``Bench`` (its ``run_playbook``, ``play``, ``playbook``,
    ``inventory``, ``record``, ``skip``, ``notes``, ``work``, ``env``, ``venv``, ``server``, ``args``)."""

    def moreati_path(self):
        """A collections path holding moreati.uv (``--moreati-uv``, else $PYFLEET_BENCH_MOREATI_UV): a
        folder with ``ansible_collections/moreati/uv`` in it, or a built collection tarball, which is
        installed into the scratch folder. None when not given."""
        given = self.args.moreati_uv or os.environ.get(MOREATI_ENV)
        if not given:
            return None
        given = os.path.abspath(os.path.expanduser(given))
        if os.path.isfile(given):
            top = os.path.join(self.work, "moreati")
            subprocess.run([os.path.join(self.venv, "bin", "ansible-galaxy"), "collection", "install", "--offline",
                            "--force", "-p", top, given], env=self.env, check=True, capture_output=True)
            given = top
        if not os.path.isfile(os.path.join(given, "ansible_collections", "moreati", "uv", "plugins", "modules", "pip.py")):
            raise RuntimeError("%s holds no ansible_collections/moreati/uv/plugins/modules/pip.py (%s, --moreati-uv)"
                               % (given, MOREATI_ENV))
        return given

    def venv_play(self, playbook, inventory, check=False, counter=None):
        """Run a venv playbook; returns (seconds, changed count of h000, index requests)."""
        if counter:
            counter.reset()
        seconds, output, _peaks = self.run_playbook(playbook, inventory, check=check)
        return seconds, recap_changed(output), len(counter.paths) if counter else 0

    def venv_tasks(self, url, uv, packages):
        """The one-task playbook text of each tool (None for moreati.uv when it is not given), all on
        the same index, the same pinned set and the same interpreter; cold caches in the host's folder."""
        names = "".join("          - %s\n" % p for p in packages)
        path = os.environ.get("PATH", "/usr/bin:/bin")
        empty = os.path.join(self.work, "no-find-links")
        os.makedirs(empty, exist_ok=True)
        tasks = {
            # PIP_INDEX_URL rather than extra_args: the pip module's check mode gives up on extra_args.
            "ansible_builtin_pip": (
                "    - ansible.builtin.pip:\n        virtualenv: '{{ dir }}/venv'\n"
                "        virtualenv_command: %s -m venv\n        name:\n%s"
                "      environment:\n        PIP_INDEX_URL: %s\n        PIP_CACHE_DIR: '{{ dir }}/pip-cache'\n"
                # Not this machine's pip configuration (its find-links and extra indexes would serve some files).
                "        PIP_CONFIG_FILE: /dev/null\n        PIP_FIND_LINKS: %s\n"
                "        PIP_DISABLE_PIP_VERSION_CHECK: '1'\n" % (sys.executable, names, url, empty)),
            "moreati_uv_pip": (
                "    - moreati.uv.pip:\n        virtualenv: '{{ dir }}/venv'\n        virtualenv_python: %s\n"
                "        name:\n%s      environment:\n        PATH: %s:%s\n        UV_INDEX_URL: %s\n"
                "        UV_CACHE_DIR: '{{ dir }}/uv-cache'\n"
                % (sys.executable, names, os.path.dirname(uv), path, url)) if self.moreati else None,
            # uv_venv's uv cache is a private temporary folder of each run, by design.
            "uv_venv": (
                "    - pyfleet.uv.uv_venv:\n        path: '{{ dir }}/venv'\n        python: %s\n"
                "        uv_path: %s\n        index_url: %s\n        name:\n%s" % (sys.executable, uv, url, names)),
        }
        return tasks

    def venv_wipe(self, home):
        shutil.rmtree(home, ignore_errors=True)
        os.makedirs(home)

    @staticmethod
    def venv_has(home, requirement):
        """Whether the venv under ``home`` has ``name==version`` installed (its dist-info folder)."""
        prefix = venvindex._prefix(requirement).rstrip("-")  # pylint: disable=protected-access
        lib = os.path.join(home, "venv", "lib")
        for python in os.listdir(lib) if os.path.isdir(lib) else []:
            site = os.path.join(lib, python, "site-packages")
            if any(n.lower() == prefix + ".dist-info" for n in os.listdir(site)):
                return True
        return False

    def venv_rows(self):
        """ansible.builtin.pip (venv made by ``python -m venv``), moreati.uv.pip and uv_venv, one
        after the other in each round, on one counting loopback index (tests/utils/venvindex.py's
        static PEP 503 tree) with VENV_PACKAGES: fresh install (no venv, cold caches), the pinned
        no-op and its index requests against ``ansible.builtin.stat``, and what each reports
        (``changed`` after a fresh install, on the no-op, after a real change of one pin, and
        each of those in check mode)."""
        names = ["venv_fresh_install_%s_s" % t for t in VENV_TOOLS] + ["venv_pinned_noop_%s_s" % t for t in VENV_TOOLS]
        try:
            wheels = venv_wheels()
        except Exception as exc:  # pylint: disable=broad-except
            for name in names:
                self.skip(name, "the package set's wheels cannot be had here: %s" % exc)
            return
        self.moreati = self.moreati_path()
        if self.moreati:
            self.env["ANSIBLE_COLLECTIONS_PATH"] += ":" + self.moreati
        uvdir = os.path.join(self.work, "venv-uv")
        self.play(self.playbook("venv_uv", (
            "    - pyfleet.uv.uv_install:\n        version: %s\n        mirror_url: %s/versioned/{version}/\n"
            "        install_dir: %s\n" % (VERSION, self.server.url, uvdir))), self.inventory(1))
        uv = os.path.join(uvdir, "uv")
        home = os.path.join(self.work, "h000")
        one = self.inventory(1)
        changed = list(VENV_PACKAGES)
        changed[changed.index(VENV_CHANGE[0])] = VENV_CHANGE[1]
        with quiet_disconnects():
            self.venv_index_rows(wheels, uv, home, one, changed)

    def venv_index_rows(self, wheels, uv, home, one, changed):
        """venv_rows' measurements, on the counting index of ``wheels``."""
        with venvindex.static_index(wheels, metadata=True) as (url, counter):
            tasks = self.venv_tasks(url, uv, VENV_PACKAGES)
            change_tasks = self.venv_tasks(url, uv, changed)
            # The smoke run (--quick, the suite's bench-smoke stage, which judges uv_venv's flags and
            # requests) leaves out ansible.builtin.pip: its fresh install alone takes 10-25 s here.
            tools = [t for t in VENV_TOOLS if tasks[t] and not (self.args.quick and t == "ansible_builtin_pip")]
            plays = {t: self.playbook("venv_" + t, tasks[t]) for t in tools}
            change_plays = {t: self.playbook("venv_change_" + t, change_tasks[t]) for t in tools}
            stat = self.playbook("venv_stat", "    - ansible.builtin.stat:\n        path: '{{ dir }}/venv'\n")
            fresh = {t: [] for t in tools}
            noop = {t: [] for t in tools}
            requests = {t: [] for t in tools}
            flags = {t: {"fresh": [], "noop": []} for t in tools}
            stats = []
            for _rep in range(self.args.reps):
                for tool in tools:
                    self.venv_wipe(home)
                    seconds, count, _req = self.venv_play(plays[tool], one, counter=counter)
                    fresh[tool].append(seconds)
                    flags[tool]["fresh"].append(count)
                    seconds, count, req = self.venv_play(plays[tool], one, counter=counter)
                    noop[tool].append(seconds)
                    flags[tool]["noop"].append(count)
                    requests[tool].append(req)
                    stats.append(self.venv_play(stat, one)[0])
            self.record("venv_stat_s", stats, "s", note="ansible.builtin.stat of the venv, after each no-op")
            base = fresh.get("ansible_builtin_pip")
            for tool in VENV_TOOLS:
                if tool not in tools:
                    reason = ("moreati.uv source not available (set %s or --moreati-uv to a collections path "
                              "holding moreati.uv, or to its built tarball)" % MOREATI_ENV
                              if tool == "moreati_uv_pip" else "not in a --quick run")
                    for name in ("venv_fresh_install_%s_s", "venv_fresh_install_ratio_%s_vs_pip",
                                 "venv_pinned_noop_%s_s", "venv_pinned_noop_%s_vs_stat_ratio",
                                 "venv_pinned_noop_%s_requests"):
                        self.skip(name % tool, reason)
                    self.notes["venv_correctness_" + tool] = {"skipped": reason}
                    continue
                self.record("venv_fresh_install_%s_s" % tool, fresh[tool], "s",
                            note="%d packages, 3 compiled" % len(VENV_PACKAGES))
                if tool != "ansible_builtin_pip" and base:
                    self.record("venv_fresh_install_ratio_%s_vs_pip" % tool, [a / b for a, b in zip(fresh[tool], base)],
                                "x", "<= 0.25")
                self.record("venv_pinned_noop_%s_s" % tool, noop[tool], "s")
                per_rep = len(tools)
                tool_stats = stats[tools.index(tool)::per_rep]
                self.record("venv_pinned_noop_%s_vs_stat_ratio" % tool,
                            [a / b for a, b in zip(noop[tool], tool_stats)], "x", "<= 1.15")
                self.record("venv_pinned_noop_%s_requests" % tool, requests[tool], "requests", "0")
                report = {"fresh_changed": all(flags[tool]["fresh"]),
                          "noop_changed": any(flags[tool]["noop"])}
                # A lone tool finds the venv its last round left, with the set installed; otherwise the
                # correctness run of the tool before it has wiped that venv, so it installs again.
                report.update(self.venv_correctness(plays[tool], change_plays[tool], one, home,
                                                    reinstall=len(tools) > 1))
                report["wrong"] = sorted(k for k, v in VENV_EXPECTED.items() if report.get(k) != v)
                self.notes["venv_correctness_" + tool] = report

    def venv_correctness(self, play, change, one, home, reinstall=True):
        """What ``tool`` reports, against what happened: check mode on the no-op, a real change of
        one pin (and its check mode before), check mode with no venv (and whether it made one)."""
        out = {}
        if reinstall:
            self.venv_wipe(home)
            self.venv_play(play, one)
        out["check_noop_changed"] = bool(self.venv_play(play, one, check=True)[1])
        out["check_change_changed"] = bool(self.venv_play(change, one, check=True)[1])
        out["check_change_left_alone"] = self.venv_has(home, VENV_CHANGE[0])
        out["change_changed"] = bool(self.venv_play(change, one)[1])
        out["change_happened"] = self.venv_has(home, VENV_CHANGE[1]) and not self.venv_has(home, VENV_CHANGE[0])
        self.venv_wipe(home)
        try:
            out["check_fresh_changed"] = bool(self.venv_play(play, one, check=True)[1])
        except RuntimeError as exc:
            out["check_fresh_changed"] = "failed: %s" % str(exc).splitlines()[-1][:200]
        out["check_fresh_left_no_venv"] = not os.path.exists(os.path.join(home, "venv"))
        return out
