# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Speed, bytes and memory of uv_install against the alternatives, on one loopback mirror.

    python3 benchmarks/run.py                 # full run (see benchmarks/README.md)
    python3 benchmarks/run.py --quick         # a smoke run: 1 repetition, a 3-host fleet
    python3 benchmarks/run.py --official-installer /path/to/uv-installer.sh

Prints a table and writes it as JSON (benchmarks/results/latest.json by default).
A benchmark is not a test: it never fails on a figure, only on a broken setup.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hacking"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "utils"))
import suite  # noqa: E402  pylint: disable=wrong-import-position
import uvmirror  # noqa: E402  pylint: disable=wrong-import-position

VERSION = suite.UV_NEW
TARGET = "x86_64-unknown-linux-gnu"

MEMORY_WRAPPER = """#!{python}
# Runs the module's interpreter as a child and records the peak RSS of it (and of the
# processes it waited for) in KiB.
import resource, subprocess, sys
rc = subprocess.call([{python!r}] + sys.argv[1:])
with open({out!r}, "a") as handle:
    handle.write("%d\\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)
"""


class Bench:
    def __init__(self, args):
        self.args = args
        self.venv = suite.venv("newest")
        self.mirror = suite.build_mirror()
        self.tree = suite.collection_tree()
        self.env = suite.ansible_env(self.tree)
        self.env.pop("ANSIBLE_ROLES_PATH")
        self.work = tempfile.mkdtemp(prefix="uv-bench-")
        self.server = uvmirror.MirrorServer(self.mirror).start()
        self.results = {}

    def close(self):
        self.server.stop()
        subprocess.run(["rm", "-rf", self.work], check=False)

    def playbook(self, name, tasks, hosts="all"):
        path = os.path.join(self.work, name + ".yml")
        with open(path, "w") as handle:
            handle.write("- hosts: %s\n  gather_facts: false\n  tasks:\n%s" % (hosts, tasks))
        return path

    def inventory(self, count, interpreter=None):
        path = os.path.join(self.work, "hosts-%d.ini" % count)
        with open(path, "w") as handle:
            handle.write("[fleet]\n")
            for index in range(count):
                handle.write("h%02d ansible_connection=local ansible_python_interpreter=%s dir=%s/h%02d\n"
                             % (index, interpreter or sys.executable, self.work, index))
        return path

    def play(self, playbook, inventory, forks=5, extra=None):
        """Run a playbook; returns (seconds, mirror requests, mirror bytes)."""
        self.server.stats.reset()
        argv = [os.path.join(self.venv, "bin", "ansible-playbook"), "-i", inventory, "-f", str(forks), playbook]
        for key, value in (extra or {}).items():
            argv += ["-e", "%s=%s" % (key, value)]
        started = time.perf_counter()
        proc = subprocess.run(argv, env=self.env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError("playbook %s failed:\n%s" % (playbook, proc.stdout[-3000:]))
        return seconds, self.server.stats.requests, self.server.stats.bytes

    def uv_task(self, version=VERSION, layout="versioned/{version}/"):
        return ("    - pyfleet.uv.uv_install:\n        version: %s\n        mirror_url: %s/%s\n"
                "        install_dir: '{{ dir }}'\n" % (version, self.server.url, layout))

    def record(self, name, values, unit, target=None, note=None):
        entry = {"unit": unit, "median": statistics.median(values), "min": min(values), "max": max(values),
                 "n": len(values)}
        if target:
            entry["target"] = target
        if note:
            entry["note"] = note
        self.results[name] = entry

    def run(self):
        reps = self.args.reps
        one = self.inventory(1)
        install = self.playbook("install", self.uv_task())
        latest = self.playbook("latest", self.uv_task("latest", "flat/"))
        stat = self.playbook("stat", "    - ansible.builtin.stat:\n        path: '{{ dir }}/uv'\n")
        wipe = self.playbook("wipe", "    - ansible.builtin.file:\n        path: '{{ dir }}'\n        state: absent\n")
        getunarchive = self.playbook("get_url_unarchive", (
            "    - ansible.builtin.file:\n        path: '{{ dir }}'\n        state: directory\n"
            "    - ansible.builtin.get_url:\n        url: %s/versioned/%s/uv-%s.tar.gz\n"
            "        dest: '{{ dir }}/uv.tar.gz'\n        checksum: sha256:%s/versioned/%s/uv-%s.tar.gz.sha256\n"
            "    - ansible.builtin.unarchive:\n        src: '{{ dir }}/uv.tar.gz'\n        dest: '{{ dir }}'\n"
            "        remote_src: true\n        extra_opts: [--strip-components=1]\n"
            % (self.server.url, VERSION, TARGET, self.server.url, VERSION, TARGET)))

        # Pinned no-op versus a stat task on the same host.
        self.play(install, one)
        noop, stats, requests, sent = [], [], [], []
        for _rep in range(reps):
            seconds, count, size = self.play(install, one)
            noop.append(seconds)
            requests.append(count)
            sent.append(size)
            stats.append(self.play(stat, one)[0])
        self.record("pinned_noop_playbook_s", noop, "s")
        self.record("stat_playbook_s", stats, "s")
        self.record("pinned_noop_vs_stat_ratio", [a / b for a, b in zip(noop, stats)], "x", "close to 1")
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

        # Fresh installs.
        fresh, alt = [], []
        for _rep in range(reps):
            self.play(wipe, one)
            fresh.append(self.play(install, one)[0])
            self.play(wipe, one)
            alt.append(self.play(getunarchive, one)[0])
        self.record("fresh_install_uv_install_s", fresh, "s")
        self.record("fresh_install_get_url_unarchive_s", alt, "s")
        self.record("fresh_install_ratio_uv_install_vs_get_url", [a / b for a, b in zip(fresh, alt)], "x")
        if self.args.official_installer:
            official = self.playbook("official", (
                # cargo-dist installers read their download base from these variables
                # (newer and older names); the mirror's github/ tree has GitHub's layout.
                "    - ansible.builtin.shell: >-\n        env UV_INSTALL_DIR='{{ dir }}' UV_NO_MODIFY_PATH=1\n"
                "        UV_INSTALLER_GITHUB_BASE_URL=%s/github\n"
                "        INSTALLER_DOWNLOAD_URL=%s/github/astral-sh/uv/releases/download/%s sh %s\n"
                % (self.server.url, self.server.url, VERSION, self.args.official_installer)))
            times = []
            for _rep in range(reps):
                self.play(wipe, one)
                times.append(self.play(official, one)[0])
            self.record("fresh_install_official_installer_s", times, "s")
        else:
            self.results["fresh_install_official_installer_s"] = {
                "skipped": "no --official-installer PATH given; this machine cannot fetch uv's installer script"}

        # Peak memory of the module process during a fresh install.
        memfile = os.path.join(self.work, "maxrss.txt")
        wrapper = os.path.join(self.work, "python-maxrss")
        with open(wrapper, "w") as handle:
            handle.write(MEMORY_WRAPPER.format(python=sys.executable, out=memfile))
        os.chmod(wrapper, 0o755)
        peaks = []
        for _rep in range(reps):
            self.play(wipe, one)
            open(memfile, "w").close()
            self.play(install, self.inventory(1, wrapper))
            with open(memfile) as handle:
                peaks.append(max(int(line) for line in handle if line.strip()) / 1024.0)
        with open(os.path.join(self.mirror, "manifest.json")) as handle:
            manifest = json.load(handle)
        archive = manifest["archives"]["%s/%s" % (VERSION, TARGET)]["size"]
        self.record("fresh_install_peak_rss_mb", peaks, "MB", "< 60",
                    note="archive %.1f MB holding a %.1f MB uv" % (archive / 1e6, 38.0))

        # Fleet: many inventory hosts on this machine, separate install directories.
        hosts = self.args.fleet
        fleet = self.inventory(hosts)
        self.play(wipe, fleet, forks=10)
        seconds, count, size = self.play(install, fleet, forks=10)
        self.record("fleet_%d_hosts_fresh_s" % hosts, [seconds], "s")
        self.record("fleet_%d_hosts_fresh_mirror_mb" % hosts, [size / 1e6], "MB")
        self.record("fleet_%d_hosts_fresh_requests" % hosts, [count], "requests", "2 per host")
        seconds, count, size = self.play(install, fleet, forks=10)
        self.record("fleet_%d_hosts_noop_s" % hosts, [seconds], "s")
        self.record("fleet_%d_hosts_noop_requests" % hosts, [count], "requests", "0")
        return self.results


def main(argv=None):
    parser = argparse.ArgumentParser(description="pyfleet.uv benchmarks")
    parser.add_argument("--reps", type=int, default=5, help="repetitions per figure (default 5)")
    parser.add_argument("--fleet", type=int, default=20, help="inventory hosts in the fleet run (default 20)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 repetition, 3 hosts")
    parser.add_argument("--official-installer", help="path of uv's installer script (uv-installer.sh)")
    parser.add_argument("--json", default=os.path.join(HERE, "results", "latest.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.fleet = 1, 3
    bench = Bench(args)
    try:
        results = bench.run()
    finally:
        bench.close()
    print("\n%-48s %12s %10s %10s  %s" % ("figure", "median", "min", "max", "target"))
    for name, entry in results.items():
        if "skipped" in entry:
            print("%-48s %s" % (name, "skipped: " + entry["skipped"]))
            continue
        row = (name, entry["median"], entry["min"], entry["max"], entry.get("target", ""), entry.get("note", ""))
        print("%-48s %12.3f %10.3f %10.3f  %s %s" % row)
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump({"version": VERSION, "reps": args.reps, "results": results}, handle, indent=1)
    print("written: %s" % args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
