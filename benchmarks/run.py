# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Speed, bytes and memory of uv_install against the alternatives, on one loopback mirror.

    python3 benchmarks/run.py                 # full run (see benchmarks/README.md)
    python3 benchmarks/run.py --quick         # a smoke run: 1 repetition, fleets of 2 and 4 hosts
    python3 benchmarks/run.py --official-installer /path/to/uv-installer.sh

Prints a table and writes it as JSON (benchmarks/results/latest.json by default).
A benchmark is not a test: it never fails on a figure, only on a broken setup. Rows
that cannot run here are printed as skipped, with the reason.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "hacking"))
sys.path.insert(0, os.path.join(ROOT, "tests", "utils"))
sys.path.insert(0, os.path.join(ROOT, "tests", "unit", "plugins", "module_utils", "fixtures", "index"))
import make_padded  # noqa: E402  pylint: disable=wrong-import-position
import payload  # noqa: E402  pylint: disable=wrong-import-position
import suite  # noqa: E402  pylint: disable=wrong-import-position
import uvindex_front  # noqa: E402  pylint: disable=wrong-import-position
import uvindex_static  # noqa: E402  pylint: disable=wrong-import-position
import uvindex_wheels  # noqa: E402  pylint: disable=wrong-import-position
import uvmirror  # noqa: E402  pylint: disable=wrong-import-position
import venvindex  # noqa: E402  pylint: disable=wrong-import-position
from tool_rows import ToolRowsMixin, quiet_disconnects  # noqa: E402  pylint: disable=wrong-import-position

VERSION = suite.UV_NEW
TARGET = "x86_64-unknown-linux-gnu"
# uv's shell installers for comparison (see ../shared/anchors/README.md); never shipped.
ANCHORS = os.path.join(ROOT, "..", "shared", "anchors")
OFFICIAL = "uv-installer-0.10.8.sh"
PRE_FIX = "uv-installer-0.4.22.sh"
PADDED_RELEASES = 300
MB = 1e6

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
# The sync rows (uv_sync against ansible.builtin.pip with the lock's hashed requirements): the same 12 pinned
# distributions, as an application's dependencies locked by the real uv, deployed to a fleet of local hosts.
SYNC_TOOLS = ("ansible_builtin_pip", "uv_sync_host", "uv_sync_controller")
SYNC_HOSTS = 4
# moreati.uv (Galaxy, github:moreati/ansible-uv) is never vendored nor built here: give an installed copy.
MOREATI_ENV = "PYFLEET_BENCH_MOREATI_UV"

MEMORY_WRAPPER = """#!{python}
# Runs the module's interpreter as a child and records the peak RSS of it (and of the
# processes it waited for) in KiB.
import resource, subprocess, sys
rc = subprocess.call([{python!r}] + sys.argv[1:])
with open({out!r}, "a") as handle:
    handle.write("%d\\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)
"""

# What `ldd --version` prints on RHEL 8 (glibc 2.28): the pre-fix installer reads the
# last word of its first line.
FAKE_LDD = """#!/bin/sh
echo "ldd (GNU libc) 2.28"
echo "Copyright (C) 2018 Free Software Foundation, Inc."
"""


def private_tree(top):
    """A real ``ansible_collections/pyfleet/uv`` copy of the work tree under ``top`` (not the suite's
    shared copy, which other runs rebuild while this one works)."""
    dest = os.path.join(top, "ansible_collections", "pyfleet", "uv")
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = os.path.join(ROOT, name)
        if os.path.isfile(source):
            target = os.path.join(dest, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(source, target)
    return top


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build_padded_index(out, wheels, releases=PADDED_RELEASES):
    """Static index trees ``out/<dialect>/simple/uv/`` listing uv as a real index does:
    ``releases`` older releases with every platform's wheel, an sdist and another project's
    wheel (from make_padded; made-up hashes, never downloaded), then the real wheels of
    VERSION (served from ``out/<dialect>/packages/``). ``json/`` has ``index.json`` (PEP 691,
    chosen by uv's Accept) beside ``index.html``; ``html/`` has only the PEP 503 page, as
    pypiserver and Nexus answer. Returns ``{dialect: page size in bytes}``."""
    files = []
    # 0.0.0 ... 0.9.29: all older than VERSION, so `latest` is VERSION.
    for index in range(releases):
        version = "0.%d.%d" % divmod(index, releases // 10)
        for name in make_padded.release_files(version):
            files.append({"filename": name, "sha256": hashlib.sha256(name.encode()).hexdigest(),
                          "url": "../../packages/padding/%s" % name})
    real = [p for p in sorted(wheels.values()) if os.path.basename(p).startswith("uv-%s-" % VERSION)]
    for path in real:
        name = os.path.basename(path)
        files.append({"filename": name, "sha256": sha256_file(path), "url": "../../packages/%s" % name})
    sizes = {}
    for dialect in ("json", "html"):
        os.makedirs(os.path.join(out, dialect, "packages"))
        for path in real:
            os.link(path, os.path.join(out, dialect, "packages", os.path.basename(path)))
        page = os.path.join(out, dialect, "simple", "uv")
        os.makedirs(page)
        with open(os.path.join(page, "index.html"), "w") as handle:
            handle.write(uvindex_static._html_page(files))  # pylint: disable=protected-access
        if dialect == "json":
            with open(os.path.join(page, "index.json"), "w") as handle:
                handle.write(uvindex_static._json_page(files))  # pylint: disable=protected-access
        sizes[dialect] = os.path.getsize(os.path.join(page, "index.%s" % dialect))
    return sizes


def venv_wheels(packages=VENV_PACKAGES + VENV_CHANGE[1:]):
    """Paths of the wheels of ``packages`` for this interpreter, each downloaded once with pip into
    the suite's wheel cache (pure wheels, or compiled ones tagged for this Python)."""
    wheels = os.path.join(venvindex.cache_dir(), "wheels")
    os.makedirs(wheels, exist_ok=True)
    tag = "-cp%d%d-" % sys.version_info[:2]
    out = []
    for requirement in packages:
        prefix = venvindex._prefix(requirement)  # pylint: disable=protected-access

        def usable(names, prefix=prefix):
            return [n for n in sorted(names) if n.lower().startswith(prefix) and n.endswith(".whl")
                    and (n.endswith("-none-any.whl") or (tag in n and platform.machine() in n))]

        found = usable(os.listdir(wheels))
        if not found:
            staging = tempfile.mkdtemp(prefix=".bench-", dir=wheels)
            try:
                subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                                "--no-deps", "--only-binary=:all:", "--dest", staging, requirement], check=True)
                found = usable(os.listdir(staging))
                if len(found) != 1:
                    raise RuntimeError("pip download %s gave %r" % (requirement, os.listdir(staging)))
                os.replace(os.path.join(staging, found[0]), os.path.join(wheels, found[0]))
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        out.append(os.path.join(wheels, found[0]))
    return out


def recap_changed(output, host="h000"):
    """The ``changed=N`` count of ``host`` in a playbook's recap."""
    for line in output.splitlines():
        if line.startswith(host + " ") and "changed=" in line:
            return int(line.split("changed=")[1].split()[0])
    raise RuntimeError("no recap line for %s in:\n%s" % (host, output[-2000:]))


class WorkerRss:
    """Samples the peak RSS (VmHWM) of ansible-playbook and of each of its worker forks."""

    def __init__(self, pid):
        self.pid = pid
        self.peaks = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    @staticmethod
    def hwm(pid):
        try:
            with open("/proc/%d/status" % pid) as handle:
                for line in handle:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            return None
        return None

    def children(self):
        try:
            with open("/proc/%d/task/%d/children" % (self.pid, self.pid)) as handle:
                return [int(p) for p in handle.read().split()]
        except (OSError, ValueError):
            return []

    def loop(self):
        while not self.stop.is_set():
            for pid in [self.pid] + self.children():
                value = self.hwm(pid)
                if value:
                    self.peaks[pid] = max(self.peaks.get(pid, 0), value)
            time.sleep(0.02)

    def finish(self):
        self.stop.set()
        self.thread.join()
        main = self.peaks.pop(self.pid, 0) / 1024.0
        return main, [v / 1024.0 for v in self.peaks.values()]


class Bench(ToolRowsMixin):  # the tools rows: benchmarks/tool_rows.py
    def __init__(self, args):
        self.args = args
        self.venv = suite.venv("newest")
        self.mirror = suite.build_mirror()
        self.work = tempfile.mkdtemp(prefix="uv-bench-")
        self.tree = private_tree(os.path.join(self.work, "tree"))
        self.env = suite.ansible_env(self.tree, {
            "ANSIBLE_LOCAL_TEMP": os.path.join(self.work, "local-tmp"),
            "ANSIBLE_REMOTE_TMP": os.path.join(self.work, "remote-tmp"),
        })
        self.env.pop("ANSIBLE_ROLES_PATH")
        self.server = uvmirror.MirrorServer(self.mirror).start()
        self.results = {}
        self.notes = {}
        self.moreati = None

    def close(self):
        self.server.stop()
        subprocess.run(["rm", "-rf", self.work], check=False)

    # -- helpers -----------------------------------------------------------

    def playbook(self, name, tasks, hosts="all"):
        path = os.path.join(self.work, name + ".yml")
        with open(path, "w") as handle:
            handle.write("- hosts: %s\n  gather_facts: false\n  tasks:\n%s" % (hosts, tasks))
        return path

    def inventory(self, count, interpreter=None, name=None):
        path = os.path.join(self.work, "%s.ini" % (name or "hosts-%d" % count))
        with open(path, "w") as handle:
            handle.write("[fleet]\n")
            for index in range(count):
                handle.write("h%03d ansible_connection=local ansible_python_interpreter=%s dir=%s/h%03d\n"
                             % (index, interpreter or sys.executable, self.work, index))
        return path

    def play(self, playbook, inventory, forks=5, extra=None, counter=None, rss=False):
        """Run a playbook; returns (seconds, requests, bytes[, (main MB, [fork MB])]) of ``counter``
        (the mirror by default)."""
        counter = counter or self.server
        counter.stats.reset()
        argv = [os.path.join(self.venv, "bin", "ansible-playbook"), "-i", inventory, "-f", str(forks), playbook]
        if extra:
            argv += ["-e", json.dumps(extra)]
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sampler = WorkerRss(proc.pid) if rss else None
        output = proc.communicate()[0]
        seconds = time.perf_counter() - started
        peaks = sampler.finish() if sampler else None
        if proc.returncode != 0:
            raise RuntimeError("playbook %s failed:\n%s" % (playbook, output[-3000:]))
        result = (seconds, counter.stats.requests, counter.stats.bytes)
        return result + (peaks,) if rss else result

    def adhoc(self, inventory, module, args):
        """Run one ad hoc task (``ansible h000 -m MODULE -a ARGS``) on the one-host inventory; returns seconds."""
        argv = [os.path.join(self.venv, "bin", "ansible"), "h000", "-i", inventory, "-m", module, "-a", args]
        started = time.perf_counter()
        proc = subprocess.run(argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              check=False)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError("ad hoc %s %s failed:\n%s" % (module, args, proc.stdout[-3000:]))
        return seconds

    def uv_task(self, version=VERSION, layout="versioned/{version}/", extra=""):
        return ("    - pyfleet.uv.uv_install:\n        version: %s\n        mirror_url: %s/%s\n"
                "        install_dir: '{{ dir }}'\n%s" % (version, self.server.url, layout, extra))

    def record(self, name, values, unit, target=None, note=None):
        entry = {"unit": unit, "median": statistics.median(values), "min": min(values), "max": max(values),
                 "n": len(values)}
        if target:
            entry["target"] = target
        if note:
            entry["note"] = note
        self.results[name] = entry

    def skip(self, name, reason):
        self.results[name] = {"skipped": reason}

    def peak_rss(self, playbook, wipe=None, reps=None, extra=None, counter=None):
        """Peak RSS (MB) of the module's interpreter over ``reps`` runs of ``playbook`` on one host."""
        memfile = os.path.join(self.work, "maxrss.txt")
        wrapper = os.path.join(self.work, "python-maxrss")
        if not os.path.exists(wrapper):
            with open(wrapper, "w") as handle:
                handle.write(MEMORY_WRAPPER.format(python=sys.executable, out=memfile))
            os.chmod(wrapper, 0o755)
        inventory = self.inventory(1, wrapper, name="memory")
        peaks = []
        for _rep in range(reps or self.args.reps):
            if wipe:
                self.play(wipe, inventory)
            open(memfile, "w").close()
            self.play(playbook, inventory, extra=extra, counter=counter)
            with open(memfile) as handle:
                peaks.append(max(int(line) for line in handle if line.strip()) / 1024.0)
        return peaks

    def installer(self, script):
        """uv's own installer script, or None: --official-installer, else ../shared/anchors."""
        if script == OFFICIAL and self.args.official_installer:
            return self.args.official_installer
        path = os.path.join(ANCHORS, script)
        return path if os.path.isfile(path) else None

    # -- the rows ----------------------------------------------------------

    def run(self):
        one = self.inventory(1)
        self.install = self.playbook("install", self.uv_task())
        self.stat = self.playbook("stat", "    - ansible.builtin.stat:\n        path: '{{ dir }}/uv'\n")
        self.wipe = self.playbook("wipe", "    - ansible.builtin.file:\n        path: '{{ dir }}'\n"
                                          "        state: absent\n")
        self.payload_rows()
        self.noop_rows(one)
        self.fresh_rows(one)
        self.adhoc_rows(one)
        self.pre_fix_rows(one)
        self.memory_rows()
        self.index_rows()
        self.venv_rows()
        self.sync_rows()
        self.fleet_rows()
        return self.results

    def payload_rows(self):
        """Each module's AnsiballZ payload, built by ansible's own dependency finder (benchmarks/payload.py,
        run by the venv's interpreter): files and KB of this collection's module_utils against the budget
        (benchmarks/payload_budget.json, which the unit tests judge), ansible's module_utils, the zip."""
        out = subprocess.run([os.path.join(self.venv, "bin", "python"), os.path.join(HERE, "payload.py"), "--json",
                              "--root", suite.collection_dir(self.tree)], capture_output=True, text=True, check=True)
        measured = json.loads(out.stdout)
        budgets = payload.load_budget()
        for module, row in measured["modules"].items():
            budget = budgets.get(module, {})
            key = "payload_%s_" % module
            self.record(key + "collection_mu_files", [row["collection_mu_files"]], "files",
                        "<= %s" % budget.get("collection_mu_files", "(no budget)"))
            self.record(key + "collection_mu_kb", [row["collection_mu_kb"]], "KB",
                        "<= %s" % budget.get("collection_mu_kb", "(no budget)"))
            self.record(key + "ansible_mu_kb", [row["ansible_mu_kb"]], "KB",
                        note="%d files, ansible-core %s" % (row["ansible_mu_files"], measured["ansible_core"]))
            self.record(key + "zip_kb", [row["zip_kb"]], "KB", note="the whole zip, before base64")

    def noop_rows(self, one):
        reps = self.args.reps
        latest = self.playbook("latest", self.uv_task("latest", "flat/"))
        # Pinned no-op versus a stat task on the same host.
        self.play(self.install, one)
        noop, stats, requests, sent = [], [], [], []
        for _rep in range(reps):
            seconds, count, size = self.play(self.install, one)
            noop.append(seconds)
            requests.append(count)
            sent.append(size)
            stats.append(self.play(self.stat, one)[0])
        self.record("pinned_noop_playbook_s", noop, "s")
        self.record("stat_playbook_s", stats, "s")
        self.record("pinned_noop_vs_stat_ratio", [a / b for a, b in zip(noop, stats)], "x", "<= 1.15")
        self.record("pinned_noop_requests", requests, "requests", "0")
        self.record("pinned_noop_bytes", sent, "bytes", "0")
        # latest no-op (the flat mirror holds the same archive).
        self.play(latest, one)
        counts, sizes = [], []
        for _rep in range(reps):
            _seconds, count, size = self.play(latest, one)
            counts.append(count)
            sizes.append(size)
        self.record("latest_noop_requests", counts, "requests", "<= 1")
        self.record("latest_noop_bytes", sizes, "bytes", "one small sidecar (< 200 bytes)")

    def fresh_rows(self, one):
        reps = self.args.reps
        getunarchive = self.playbook("get_url_unarchive", (
            "    - ansible.builtin.file:\n        path: '{{ dir }}'\n        state: directory\n"
            "    - ansible.builtin.get_url:\n        url: %s/versioned/%s/uv-%s.tar.gz\n"
            "        dest: '{{ dir }}/uv.tar.gz'\n        checksum: sha256:%s/versioned/%s/uv-%s.tar.gz.sha256\n"
            "    - ansible.builtin.unarchive:\n        src: '{{ dir }}/uv.tar.gz'\n        dest: '{{ dir }}'\n"
            "        remote_src: true\n        extra_opts: [--strip-components=1]\n"
            % (self.server.url, VERSION, TARGET, self.server.url, VERSION, TARGET)))
        official_script = self.installer(OFFICIAL)
        official = None
        if official_script:
            official = self.playbook("official", (
                # cargo-dist installers read their download base from these variables
                # (newer and older names); the mirror's github/ tree has GitHub's layout.
                # HOME keeps its receipt out of the real home.
                "    - ansible.builtin.shell: >-\n        env HOME='{{ dir }}/home' UV_INSTALL_DIR='{{ dir }}'"
                " UV_NO_MODIFY_PATH=1\n        UV_INSTALLER_GITHUB_BASE_URL=%s/github\n"
                "        INSTALLER_DOWNLOAD_URL=%s/github/astral-sh/uv/releases/download/%s sh %s\n"
                % (self.server.url, self.server.url, VERSION, official_script)))
        # Interleaved, so that a change in the machine's load hits every column alike.
        fresh, alt, times = [], [], []
        for _rep in range(reps):
            self.play(self.wipe, one)
            fresh.append(self.play(self.install, one)[0])
            self.play(self.wipe, one)
            alt.append(self.play(getunarchive, one)[0])
            if official:
                self.play(self.wipe, one)
                times.append(self.play(official, one)[0])
        self.record("fresh_install_uv_install_s", fresh, "s")
        self.record("fresh_install_get_url_unarchive_s", alt, "s")
        self.record("fresh_install_ratio_uv_install_vs_get_url", [a / b for a, b in zip(fresh, alt)], "x")
        if official:
            self.record("fresh_install_official_installer_s", times, "s", note=os.path.basename(official_script))
            self.record("fresh_install_ratio_uv_install_vs_official", [a / b for a, b in zip(fresh, times)], "x",
                        "<= 1.0")
        else:
            for name in ("fresh_install_official_installer_s", "fresh_install_ratio_uv_install_vs_official"):
                self.skip(name, "no copy of %s (--official-installer PATH or ../shared/anchors/); this machine "
                                "cannot fetch uv's installer script" % OFFICIAL)

    def adhoc_rows(self, one):
        """The ad hoc call (``ansible -m``), the other main way in: its fixed cost per call is the whole
        difference (the action plugin, the module's AnsiballZ payload, its imports on the host).

        Fresh install: ``uv_install`` against uv's official installer through ``-m shell``; no-op:
        ``state=absent`` with nothing installed, and the pinned no-op, against ``-m stat``. Each
        pair runs interleaved and the ratio is the median of the per-pair ratios.
        """
        reps = self.args.reps
        home = os.path.join(self.work, "h000")
        install = "version=%s mirror_url=%s/versioned/{version}/ install_dir=%s" % (VERSION, self.server.url, home)
        official_script = self.installer(OFFICIAL)
        official = None
        if official_script:
            official = ("env HOME=%s/home UV_INSTALL_DIR=%s UV_NO_MODIFY_PATH=1 UV_INSTALLER_GITHUB_BASE_URL=%s/github "
                        "INSTALLER_DOWNLOAD_URL=%s/github/astral-sh/uv/releases/download/%s sh %s"
                        % (home, home, self.server.url, self.server.url, VERSION, official_script))
        stat = "path=%s/uv" % home
        fresh, times = [], []
        for _rep in range(reps):
            self.play(self.wipe, one)
            fresh.append(self.adhoc(one, "pyfleet.uv.uv_install", install))
            if official:
                self.play(self.wipe, one)
                times.append(self.adhoc(one, "ansible.builtin.shell", official))
        self.record("adhoc_fresh_install_uv_install_s", fresh, "s")
        if official:
            self.record("adhoc_fresh_install_official_installer_s", times, "s", note=os.path.basename(official_script))
            self.record("adhoc_fresh_install_ratio_uv_install_vs_official", [a / b for a, b in zip(fresh, times)],
                        "x", "<= 1.0")
        else:
            for name in ("adhoc_fresh_install_official_installer_s", "adhoc_fresh_install_ratio_uv_install_vs_official"):
                self.skip(name, "no copy of %s (--official-installer PATH or ../shared/anchors/)" % OFFICIAL)
        # Pinned no-op (uv installed by the last fresh run) and stat, then state=absent with nothing there.
        self.adhoc(one, "pyfleet.uv.uv_install", install)
        noop, absent, stats = [], [], []
        for _rep in range(reps):
            noop.append(self.adhoc(one, "pyfleet.uv.uv_install", install))
            stats.append(self.adhoc(one, "ansible.builtin.stat", stat))
        self.play(self.wipe, one)
        for _rep in range(reps):
            absent.append(self.adhoc(one, "pyfleet.uv.uv_install", "state=absent install_dir=%s" % home))
            stats.append(self.adhoc(one, "ansible.builtin.stat", stat))
        self.record("adhoc_stat_s", stats, "s")
        self.record("adhoc_pinned_noop_s", noop, "s")
        self.record("adhoc_pinned_noop_vs_stat_ratio", [a / b for a, b in zip(noop, stats[:reps])], "x")
        self.record("adhoc_absent_noop_s", absent, "s")
        self.record("adhoc_absent_noop_vs_stat_ratio", [a / b for a, b in zip(absent, stats[reps:])], "x", "<= 1.15")

    def pre_fix_rows(self, one):
        """The original failure: the pre-fix installer on a glibc 2.28 host and a gnu-only mirror."""
        script = self.installer(PRE_FIX)
        fakebin = os.path.join(self.work, "fake-ldd")
        os.makedirs(fakebin, exist_ok=True)
        with open(os.path.join(fakebin, "ldd"), "w") as handle:
            handle.write(FAKE_LDD)
        os.chmod(os.path.join(fakebin, "ldd"), 0o755)
        path = "%s:%s" % (fakebin, os.environ.get("PATH", "/usr/bin:/bin"))
        # Both get the same PATH: the fake ldd is the first one either could find.
        uv_task = self.playbook("gnu_only_uv_install", self.uv_task(VERSION, "flat-gnu/", (
            "      environment:\n        PATH: %s\n      register: r\n"
            "    - ansible.builtin.copy:\n        content: '{{ r | to_json }}'\n        dest: '{{ dir }}.json'\n"
            % path)))
        self.play(self.wipe, one)
        seconds, count, size = self.play(uv_task, one)
        with open(os.path.join(self.work, "h000.json")) as handle:
            result = json.load(handle)
        self.record("gnu_only_glibc228_uv_install_s", [seconds], "s", note="installed %s; libc %s %s by %s" % (
            result.get("target"), result["libc"]["family"], result["libc"]["version"], result["libc"]["detected_by"]))
        self.notes["gnu_only_uv_install"] = {"target": result.get("target"), "libc": result["libc"],
                                             "requests": count, "bytes": size}
        if not script:
            self.skip("gnu_only_glibc228_installer_0_4_22", "no copy of %s in ../shared/anchors/" % PRE_FIX)
            return
        shell = self.playbook("gnu_only_installer", (
            "    - ansible.builtin.shell: >-\n        env HOME='{{ dir }}/home' UV_INSTALL_DIR='{{ dir }}'"
            " CARGO_HOME='{{ dir }}/cargo' INSTALLER_NO_MODIFY_PATH=1 UV_NO_MODIFY_PATH=1\n"
            "        INSTALLER_DOWNLOAD_URL=%s/flat-gnu sh %s\n"
            "      environment:\n        PATH: %s\n      register: r\n      ignore_errors: true\n"
            "    - ansible.builtin.copy:\n        content: '{{ r | to_json }}'\n        dest: '{{ dir }}.json'\n"
            % (self.server.url, script, path)))
        self.play(self.wipe, one)
        seconds, count, size = self.play(shell, one)
        with open(os.path.join(self.work, "h000.json")) as handle:
            result = json.load(handle)
        text = (result.get("stdout", "") + "\n" + result.get("stderr", "")).strip()
        asked = [p for p in self.server.stats.paths if p.endswith(".tar.gz")]
        outcome = "failed (rc %s)" % result.get("rc") if result.get("rc") else "installed"
        self.record("gnu_only_glibc228_installer_0_4_22_s", [seconds], "s", note="%s; asked for %s" % (
            outcome, ", ".join(os.path.basename(p) for p in asked) or "nothing"))
        self.notes["gnu_only_installer_0_4_22"] = {"rc": result.get("rc"), "asked": asked,
                                                   "output_tail": text.splitlines()[-6:]}

    def memory_rows(self):
        peaks = self.peak_rss(self.install, wipe=self.wipe)
        with open(os.path.join(self.mirror, "manifest.json")) as handle:
            manifest = json.load(handle)
        archive = manifest["archives"]["%s/%s" % (VERSION, TARGET)]["size"]
        self.record("fresh_install_peak_rss_mb", peaks, "MB", "< 60",
                    note="archive %.1f MB holding a %.1f MB uv" % (archive / MB, 38.0))

    def index_rows(self):
        """A static index whose uv page lists ~300 releases (thousands of files), behind a counting front."""
        try:
            wheels = uvindex_wheels.fetch_wheels()
        except Exception as exc:  # pylint: disable=broad-except
            for name in ("index_fresh_install_peak_rss_mb", "index_latest_noop_peak_rss_mb",
                         "index_latest_noop_requests"):
                self.skip(name, "the uv wheels cannot be had here: %s" % exc)
            return
        root = os.path.join(self.work, "index")
        sizes = build_padded_index(root, wheels)
        static = uvindex_static.StaticServer(root)
        threading.Thread(target=static.serve_forever, daemon=True).start()
        try:
            with uvindex_front.front(static.server_address[:2]) as front:
                for dialect in ("json", "html"):
                    self.index_dialect(front, dialect, sizes[dialect])
        finally:
            static.shutdown()
            static.server_close()

    def index_dialect(self, front, dialect, page_size):
        task = ("    - pyfleet.uv.uv_install:\n        version: '{{ want }}'\n        index_url: %s/%s/simple/\n"
                "        install_dir: '{{ dir }}'\n" % (front.url, dialect))
        play = self.playbook("index_" + dialect, task)
        label = "%d releases, %s page %.2f MB" % (PADDED_RELEASES, dialect.upper(), page_size / MB)
        peaks = self.peak_rss(play, wipe=self.wipe, extra={"want": VERSION}, counter=front)
        self.record("index_%s_fresh_install_peak_rss_mb" % dialect, peaks, "MB", "< 60", note=label)
        peaks = self.peak_rss(play, extra={"want": "latest"}, counter=front)
        self.record("index_%s_latest_noop_peak_rss_mb" % dialect, peaks, "MB", "< 60", note=label)
        counts, sizes = [], []
        for _rep in range(self.args.reps):
            _seconds, count, size = self.play(play, self.inventory(1), extra={"want": "latest"}, counter=front)
            counts.append(count)
            sizes.append(size)
        self.record("index_%s_latest_noop_requests" % dialect, counts, "requests", "1", note=label)
        self.record("index_%s_latest_noop_bytes" % dialect, sizes, "bytes", "the project page only")

    # -- virtual environments: ansible.builtin.pip, moreati.uv.pip, uv_venv -----------------

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
        argv = [os.path.join(self.venv, "bin", "ansible-playbook"), "-i", inventory, playbook]
        if check:
            argv.append("--check")
        started = time.perf_counter()
        proc = subprocess.run(argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              check=False)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError("playbook %s failed:\n%s" % (playbook, proc.stdout[-3000:]))
        return seconds, recap_changed(proc.stdout), len(counter.paths) if counter else 0

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
        with venvindex.static_index(wheels) as (url, counter):
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

    # -- an application from its uv.lock: ansible.builtin.pip against uv_sync, host and controller mode --

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
        argv = [os.path.join(self.venv, "bin", "ansible-playbook"), "-i", inventory, "-f", "5", playbook]
        if extra:
            argv += ["-e", json.dumps(extra)]
        started = time.perf_counter()
        proc = subprocess.run(argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              check=False)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError("playbook %s failed:\n%s" % (playbook, proc.stdout[-3000:]))
        seen = uvindex_front.stats(stats_url)
        return seconds, recap_changed(proc.stdout), seen["requests"], seen["bytes"]

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

    def fleet_rows(self):
        sizes = self.args.fleet
        forks = 10
        controller = "        download_on: controller\n        controller_cache_dir: '{{ cache }}'\n"
        host_play = self.install
        ctl_play = self.playbook("install_controller", self.uv_task(extra=controller))
        growth = {"host": [], "controller": []}
        for hosts in sizes:
            inventory = self.inventory(hosts)
            stat_s = self.play(self.stat, inventory, forks=forks)[0]
            self.record("fleet_%d_stat_play_s" % hosts, [stat_s], "s")
            for mode, play in (("host", host_play), ("controller", ctl_play)):
                key = "fleet_%d_%s" % (hosts, mode)
                cache = tempfile.mkdtemp(prefix="cache-", dir=self.work)
                self.play(self.wipe, inventory, forks=forks)
                seconds, count, size, (main, workers) = self.play(
                    play, inventory, forks=forks, extra={"cache": cache}, rss=True)
                archives = sum(1 for p in self.server.stats.paths if p.endswith(".tar.gz"))
                self.record(key + "_fresh_s", [seconds], "s")
                self.record(key + "_fresh_mirror_mb", [size / MB], "MB",
                            "one archive" if mode == "controller" else "one archive per host")
                self.record(key + "_fresh_requests", [count], "requests",
                            note="%d archive downloads" % archives)
                growth[mode].append((hosts, seconds))
                if mode == "controller":
                    self.record(key + "_controller_rss_mb", [main], "MB", note="ansible-playbook main process")
                    self.record(key + "_fork_rss_mb", workers or [0.0], "MB",
                                note="peak RSS of each worker fork (median, min, max over %d forks; shared pages "
                                     "counted)" % len(workers))
                seconds, count, size = self.play(play, inventory, forks=forks, extra={"cache": cache})
                self.record(key + "_noop_s", [seconds], "s")
                self.record(key + "_noop_requests", [count], "requests", "0")
                self.record(key + "_noop_vs_stat_ratio", [seconds / stat_s], "x")
            self.play(self.wipe, inventory, forks=forks)
        for mode, points in growth.items():
            if len(points) < 2:
                self.skip("fleet_%s_fresh_s_per_host" % mode, "needs two fleet sizes")
                continue
            # Least-squares slope of wall time over fleet size.
            mean_x = statistics.mean(x for x, _y in points)
            mean_y = statistics.mean(y for _x, y in points)
            slope = (sum((x - mean_x) * (y - mean_y) for x, y in points)
                     / sum((x - mean_x) ** 2 for x, _y in points))
            self.record("fleet_%s_fresh_s_per_host" % mode, [slope], "s/host",
                        note="slope over %s hosts, forks %d" % ("/".join(str(x) for x, _y in points), forks))


def main(argv=None):
    parser = argparse.ArgumentParser(description="pyfleet.uv benchmarks")
    parser.add_argument("--reps", type=int, default=5, help="repetitions per figure (default 5)")
    parser.add_argument("--fleet", default="20,50,100", help="fleet sizes, comma-separated (default 20,50,100)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 repetition, fleets of 2 and 4 hosts")
    parser.add_argument("--official-installer", help="path of uv's installer script (default: ../shared/anchors/%s)"
                        % OFFICIAL)
    parser.add_argument("--only", help="run only these row groups, comma-separated "
                                       "(payload, noop, fresh, adhoc, prefix, memory, index, venv, sync, tools, fleet)")
    parser.add_argument("--moreati-uv", help="moreati.uv for the venv rows: a collections path holding "
                                             "ansible_collections/moreati/uv, or its built tarball (default: $%s; "
                                             "without it those rows are skipped)" % MOREATI_ENV)
    parser.add_argument("--sync-tools", type=lambda v: [t for t in v.split(",") if t],
                        help="the sync rows' tools, comma-separated (default all: %s)" % ",".join(SYNC_TOOLS))
    parser.add_argument("--json", default=os.path.join(HERE, "results", "latest.json"))
    args = parser.parse_args(argv)
    args.fleet = [int(n) for n in args.fleet.split(",") if n.strip()]
    if args.quick:
        args.reps, args.fleet = 1, [2, 4]
    bench = Bench(args)
    started = time.time()
    load_before = os.getloadavg()
    try:
        if args.only:
            groups = {"payload": "payload_rows", "noop": "noop_rows", "fresh": "fresh_rows", "adhoc": "adhoc_rows", "prefix": "pre_fix_rows",
                      "memory": "memory_rows",
                      "index": "index_rows", "venv": "venv_rows", "sync": "sync_rows", "fleet": "fleet_rows"}
            groups["tools"] = "tool_rows"  # benchmarks/tool_rows.py
            one = bench.inventory(1)
            bench.install = bench.playbook("install", bench.uv_task())
            bench.stat = bench.playbook("stat", "    - ansible.builtin.stat:\n        path: '{{ dir }}/uv'\n")
            bench.wipe = bench.playbook("wipe", "    - ansible.builtin.file:\n        path: '{{ dir }}'\n"
                                                "        state: absent\n")
            for group in args.only.split(","):
                method = getattr(bench, groups[group])
                method(one) if group in ("noop", "fresh", "adhoc", "prefix") else method()  # pylint: disable=expression-not-assigned
            results = bench.results
        else:
            results = bench.run()
    finally:
        bench.close()
    print("\n%-52s %12s %10s %10s  %s" % ("figure", "median", "min", "max", "target"))
    for name, entry in results.items():
        if "skipped" in entry:
            print("%-52s %s" % (name, "skipped: " + entry["skipped"]))
            continue
        row = (name, entry["median"], entry["min"], entry["max"], entry.get("target", ""), entry.get("note", ""))
        print("%-52s %12.3f %10.3f %10.3f  %s %s" % row)
    for name, note in bench.notes.items():
        print("%s: %s" % (name, json.dumps(note)))
    load_after = os.getloadavg()
    print("wall %.0f s; load average before %.2f, after %.2f (1 min)" % (
        time.time() - started, load_before[0], load_after[0]))
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump({"version": VERSION, "reps": args.reps, "fleet": args.fleet, "results": results,
                   "notes": bench.notes, "load": [load_before, load_after]}, handle, indent=1)
    print("written: %s" % args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
