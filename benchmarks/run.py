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
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from bench_common import HERE, VERSION, private_tree  # first: puts hacking/ and tests/utils/ on sys.path
from install_rows import OFFICIAL, InstallRowsMixin
from sync_rows import SYNC_TOOLS, SyncRowsMixin
from tool_rows import ToolRowsMixin
from venv_rows import MOREATI_ENV, VenvRowsMixin
import suite  # pylint: disable=wrong-import-order  # hacking/
import uvmirror  # pylint: disable=wrong-import-order  # tests/utils


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


class Bench(InstallRowsMixin, VenvRowsMixin, SyncRowsMixin, ToolRowsMixin):
    """One benchmark run: a private copy of the collection, the loopback mirror, the helpers every row group
    uses; the row groups live in install_rows.py, venv_rows.py, sync_rows.py and tool_rows.py."""

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

    def run_playbook(self, playbook, inventory, forks=5, extra=None, check=False, rss=False):
        """The one timed ``ansible-playbook`` run of every row group: returns (seconds, output, peaks), peaks
        being (main MB, [fork MB]) with ``rss`` (WorkerRss) and None otherwise; a failed run raises."""
        argv = [os.path.join(self.venv, "bin", "ansible-playbook"), "-i", inventory, "-f", str(forks), playbook]
        if extra:
            argv += ["-e", json.dumps(extra)]
        if check:
            argv.append("--check")
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sampler = WorkerRss(proc.pid) if rss else None
        output = proc.communicate()[0]
        seconds = time.perf_counter() - started
        peaks = sampler.finish() if sampler else None
        if proc.returncode != 0:
            raise RuntimeError("playbook %s failed:\n%s" % (playbook, output[-3000:]))
        return seconds, output, peaks

    def play(self, playbook, inventory, forks=5, extra=None, counter=None, rss=False):
        """Run a playbook; returns (seconds, requests, bytes[, (main MB, [fork MB])]) of ``counter``
        (the mirror by default)."""
        counter = counter or self.server
        counter.stats.reset()
        seconds, _output, peaks = self.run_playbook(playbook, inventory, forks=forks, extra=extra, rss=rss)
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
