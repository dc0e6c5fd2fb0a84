# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""uv_install's row groups of benchmarks/run.py: the payload, the pinned and ``latest`` no-op, the fresh install
against ``get_url``/``unarchive`` and uv's official installer, the ad hoc call, the original failure (the
pre-fix installer on glibc 2.28), peak memory, a padded index, and fleets in host and controller mode."""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading

from bench_common import HERE, MB, ROOT, TARGET, VERSION, sha256_file
import make_padded  # pylint: disable=wrong-import-order  # tests/unit/.../fixtures/index, on sys.path by bench_common
import payload  # pylint: disable=wrong-import-order  # benchmarks/
import suite  # pylint: disable=wrong-import-order  # hacking/
import uvindex_front  # pylint: disable=wrong-import-order  # tests/utils
import uvindex_static  # pylint: disable=wrong-import-order
import uvindex_wheels  # pylint: disable=wrong-import-order

# uv's shell installers for comparison (see ../shared/anchors/README.md); never shipped.
ANCHORS = os.path.join(ROOT, "..", "shared", "anchors")
OFFICIAL = "uv-installer-0.10.8.sh"
PRE_FIX = "uv-installer-0.4.22.sh"
PADDED_RELEASES = 300

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


class InstallRowsMixin:
    """uv_install's row groups, mixed into run.py's ``Bench`` (its ``play``, ``adhoc``, ``playbook``,
    ``inventory``, ``record``, ``skip``, ``notes``, ``work``, ``server``, ``mirror``, ``venv``, ``tree``, ``args``,
    and the ``install``/``stat``/``wipe`` playbooks)."""

    def uv_task(self, version=VERSION, layout="versioned/{version}/", extra=""):
        return ("    - pyfleet.uv.uv_install:\n        version: %s\n        mirror_url: %s/%s\n"
                "        install_dir: '{{ dir }}'\n%s" % (version, self.server.url, layout, extra))

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
