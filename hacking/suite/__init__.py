# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Set up everything and run the demo or the whole test suite.

    python3 hacking/suite demo               # the main job: a real install from a local mirror
    python3 hacking/suite test               # every stage, both ansible-core tracks
    python3 hacking/suite test --list        # the stage names
    python3 hacking/suite test --stage units-newest --stage integration-newest

(``bash hacking/test.sh`` and ``bash hacking/demo.sh`` run the first two.) Everything it needs
is made here: virtual environments with each ansible-core (cached under ~/.cache/pyfleet-uv,
keyed by their requirements), the uv wheels and the loopback mirror built from them, a real
``ansible_collections/pyfleet/uv`` copy of the checkout for ansible-test, and ansible-test's pip
bootstrap (see ``common.seed_get_pip``). Servers listen on 127.0.0.1 only and are stopped on
every path.

This package: the entry point, the stage table, the set-up, the scheduler that runs two stages
at once and the summary are here; what the stages share is in ``common``; each stage family has
its own file (``sanity``, ``integration``, ``fleet``, ``config_fleet``, ``python_fleet``,
``controller``, ``adhoc``, ``adversarial``, ``bench``, ``lint``, ``ee``, ``docs``) and the demo
is in ``demo``. ``import suite`` (with hacking/ on sys.path) gives the shared names too
(``suite.venv``, ``suite.collection_tree``, ``suite.UV_NEW``, ...), as benchmarks/run.py uses them.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# The shared names, for the stages' callers outside (benchmarks/run.py: suite.venv, suite.UV_NEW, ...).
from .common import (CACHE, ROOT, UV_NEW, UV_OLD, TRACKS, StageSkipped, ansible_env, build_mirror,  # noqa: F401
                     build_too_new, collection_dir, collection_tree, ensure_apt, expected_vars, find_python, log,
                     mirror_server, tool_venv, venv)
from .adhoc import stage_adhoc
from .adversarial import stage_adversarial
from .bench import stage_bench_smoke
from .config_fleet import stage_config_fleet
from .controller import stage_controller
from .demo import cmd_demo
from .docs import stage_docs
from .ee import stage_ee
from .fleet import FLEET_STAGES, fleet_lock, prebuild_roots, stage_fleet, wait_for_roots
from .integration import stage_ansible_test_integration, stage_integration
from .lint import stage_lint
from .python_fleet import stage_python_fleet
from .sanity import stage_py36_static, stage_sanity, stage_units


STAGES = {
    "sanity": stage_sanity,
    "units": stage_units,
    "py36-static": stage_py36_static,
    "integration": stage_integration,
    "fleet": stage_fleet,
    "config-fleet": stage_config_fleet,
    "controller": stage_controller,
    "python-fleet": stage_python_fleet,
    "adhoc": stage_adhoc,
    "adversarial": stage_adversarial,
    "bench-smoke": stage_bench_smoke,
    "lint": stage_lint,
    "ansible-test-integration": stage_ansible_test_integration,
    "ee": stage_ee,
    "docs": stage_docs,
}


TRACK_STAGES = {
    "newest": ["sanity", "units", "py36-static", "integration", "fleet", "config-fleet", "controller", "python-fleet", "adhoc",
               "adversarial",
               "bench-smoke", "lint", "ansible-test-integration", "ee", "docs"],
    "2.16": ["sanity", "units", "integration", "fleet", "config-fleet", "controller", "adhoc", "python-fleet"],
}


def all_stage_names() -> list:
    return ["%s-%s" % (stage, track) for track in TRACKS for stage in TRACK_STAGES[track]]


# The order in which the scheduler starts stages when it has a free slot (``--jobs``, default 2):
# each track's sanity first (ansible-test --requirements may install into the track's venv, so
# no other stage of that track runs beside it), then the fleet stages, a chain that cannot
# overlap (one set of Debian 11 roots and sshd addresses) and so must start early, then the
# rest longest first. Stages left out of this list start last, in --list order. With the CPU
# times of a full run this order ends within seconds of the total CPU time over two (a plain
# longest-first order does no better): a run is bounded by that total and by the fleet chain,
# not by the order (README, "Where the time goes").
SCHEDULE_ORDER = [
    "sanity-newest", "sanity-2.16",
    "fleet-newest", "config-fleet-newest", "python-fleet-newest", "fleet-2.16", "config-fleet-2.16",
    "python-fleet-2.16",
    "adversarial-newest", "integration-newest", "ansible-test-integration-newest", "docs-newest",
    "integration-2.16", "bench-smoke-newest", "units-newest", "units-2.16", "lint-newest",
    "ee-newest", "controller-newest", "controller-2.16", "adhoc-newest", "adhoc-2.16", "py36-static-newest",
]


def split_name(name: str) -> tuple:
    """``(stage, track)`` of a stage name such as ``config-fleet-2.16``."""
    return (name[:-5], "2.16") if name.endswith("-2.16") else tuple(name.rsplit("-", 1))


def setup(names: list) -> tuple:
    """What every stage shares, made once: apt packages, the mirror, the collection tree, the venvs.

    Returns ``(ctx, seconds, error)``; the Debian 11 roots are built in the background
    (``ctx["roots_ready"]``, a future or None).
    """
    t0 = time.time()
    ctx = {}
    try:
        ctx["apt_missing"] = ensure_apt({"musl-gcc": "musl-tools", "gcc": "gcc"})
        ctx["mirror"] = build_mirror()
        if shutil.which("gcc"):
            ctx["too_new"] = build_too_new(ctx["mirror"])
        else:
            log("!!! no gcc: the too-new build scenario is SKIPPED in the integration stages")
        ctx["tree"] = collection_tree()
        ctx["roots_ready"] = prebuild_roots(names)
        for track in TRACKS:
            if any(n.endswith("-" + track) for n in names):
                venv(track)
    except Exception as exc:  # pylint: disable=broad-except
        return ctx, time.time() - t0, exc
    return ctx, time.time() - t0, None


def cpu_seconds() -> float:
    """User and system CPU time of this process and of every child process it has waited for."""
    import resource  # pylint: disable=import-outside-toplevel

    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def run_stage(name: str, ctx: dict) -> tuple:
    """Run one stage here; returns ``(name, status, seconds, cpu seconds)``.

    The CPU time (processes the stage waited for included) next to the wall time says how
    much of a core the stage keeps busy: about 1.0 of it leaves the other core to a stage beside it.
    """
    stage, track = split_name(name)
    t0, cpu0 = time.time(), cpu_seconds()
    log("=== stage %s" % name)
    try:
        with fleet_lock(stage):
            STAGES[stage](track, ctx)
        status = "passed"
    except StageSkipped as exc:
        log("!!! stage %s SKIPPED: %s" % (name, exc))
        status = "skipped: %s" % exc
    except (Exception, SystemExit) as exc:  # pylint: disable=broad-except
        log("!!! stage %s FAILED: %s" % (name, exc))
        status = "failed: %s" % exc
    return name, status, time.time() - t0, cpu_seconds() - cpu0


def child_tree(parent_top: str) -> str:
    """A stage process's own copy of the parent's collection tree (removed when the process ends).

    Stages that run at the same time must not share one tree: ansible-test writes
    tests/output, pytest and compileall write and remove __pycache__ in it.
    """
    top = os.path.join(CACHE, "tree-%d" % os.getpid())
    shutil.rmtree(top, ignore_errors=True)
    atexit.register(shutil.rmtree, top, True)
    shutil.copytree(os.path.join(parent_top, "ansible_collections"), os.path.join(top, "ansible_collections"),
                    ignore=shutil.ignore_patterns("output", "__pycache__"), symlinks=True)
    return top


def run_child(args) -> int:
    """``test --child-ctx FILE --result-file FILE --stage NAME``: one stage in its own process."""
    with open(args.child_ctx) as handle:
        ctx = json.load(handle)
    ctx["tree"] = child_tree(ctx["tree"])
    result = run_stage(args.stage[0], ctx)
    with open(args.result_file, "w") as handle:
        json.dump(list(result), handle)
    return 0


class Scheduler(object):
    """Runs stages ``jobs`` at a time, each in its own process with its own log.

    A stage's output goes to its own file and is printed whole when it ends, so the log
    reads stage after stage as before. What must not overlap never does: each track's
    sanity runs before the track's other stages, the fleet stages one at a time (they also
    take fleet.lock, against other suite runs) and only once the background build of the
    Debian 11 roots is over.
    """

    def __init__(self, names: list, ctx: dict, jobs: int, fail_fast: bool) -> None:
        order = [n for n in SCHEDULE_ORDER if n in names]
        self.pending = list(dict.fromkeys(order + list(names)))
        self.ctx, self.jobs, self.fail_fast = ctx, jobs, fail_fast
        self.running = {}  # name -> (Popen, log path, result path, started, log handle)
        self.results = {}
        self.scratch = tempfile.mkdtemp(prefix="uv-suite-")
        atexit.register(shutil.rmtree, self.scratch, True)
        self.ctx_file = os.path.join(self.scratch, "ctx.json")
        with open(self.ctx_file, "w") as handle:
            json.dump({k: v for k, v in ctx.items() if k != "roots_ready"}, handle)

    def ready(self, name: str) -> bool:
        stage, track = split_name(name)
        if stage != "sanity" and "sanity-" + track in self.pending + list(self.running):
            return False
        if stage in FLEET_STAGES:
            future = self.ctx.get("roots_ready")
            if future is not None and not future.done():
                return False
            if any(split_name(r)[0] in FLEET_STAGES for r in self.running):
                return False
        return True

    def start(self, name: str) -> None:
        if split_name(name)[0] in FLEET_STAGES:
            wait_for_roots(self.ctx)  # done by now: logs how the background build went
        log_path = os.path.join(self.scratch, name + ".log")
        result_path = os.path.join(self.scratch, name + ".json")
        handle = open(log_path, "w")
        argv = [sys.executable, os.path.dirname(os.path.abspath(__file__)), "test", "--stage", name,  # __main__.py
                "--child-ctx", self.ctx_file, "--result-file", result_path]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
                                cwd=ROOT, env=dict(os.environ, PYTHONUNBUFFERED="1"))
        log("started stage %s (pid %d; %d running)" % (name, proc.pid, len(self.running) + 1))
        self.running[name] = (proc, log_path, result_path, time.time(), handle)

    def finish(self, name: str) -> None:
        proc, log_path, result_path, started, handle = self.running.pop(name)
        handle.close()
        try:
            with open(result_path) as h:
                _name, status, seconds, cpu = json.load(h)
        except (OSError, ValueError):
            status, seconds, cpu = ("failed: its process exited %s without a result" % proc.returncode,
                                    time.time() - started, 0.0)
        self.results[name] = (name, status, seconds, cpu)
        sys.stdout.write("\n" + "=" * 30 + " stage %s: %s (%.1f s) " % (name, status.split(":")[0], seconds)
                         + "=" * 30 + "\n")
        with open(log_path, errors="replace") as h:
            shutil.copyfileobj(h, sys.stdout)
        sys.stdout.write("=" * 30 + " end of stage %s: %s " % (name, status.split(":")[0]) + "=" * 30 + "\n\n")
        sys.stdout.flush()
        if self.fail_fast and status.startswith("failed"):
            self.pending = []

    def run(self) -> list:
        try:
            while self.pending or self.running:
                for name in list(self.pending):
                    if len(self.running) >= self.jobs:
                        break
                    if self.ready(name):
                        self.pending.remove(name)
                        self.start(name)
                for name in [n for n, r in self.running.items() if r[0].poll() is not None]:
                    self.finish(name)
                if self.pending and not self.running and not any(self.ready(n) for n in self.pending):
                    time.sleep(0.5)  # only the roots are being built
                time.sleep(0.2)
        except BaseException:
            for proc, *_rest in self.running.values():
                if not isinstance(sys.exc_info()[1], KeyboardInterrupt):  # Ctrl-C reached them already
                    proc.send_signal(signal.SIGINT)  # the stages clean up (mounts, servers) on SIGINT
            for proc, *_rest in self.running.values():
                try:
                    proc.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    proc.kill()
            raise
        return [self.results[n] for n in self.results]


def cmd_test(args) -> int:
    if args.child_ctx:
        return run_child(args)
    names = args.stage or all_stage_names()
    if args.list:
        print("\n".join(all_stage_names()))
        return 0
    unknown = [n for n in names if n not in all_stage_names()]
    if unknown:
        raise SystemExit("unknown stage(s) %s; see --list" % ", ".join(unknown))
    started = time.time()
    cpu0 = cpu_seconds()
    ctx, seconds, error = setup(names)
    results = [("setup", "failed: %s" % error if error else "passed", seconds, cpu_seconds() - cpu0)]
    jobs = max(1, args.jobs)
    if error:
        names = []
    elif jobs > 1 and len(names) > 1:
        done = Scheduler(names, ctx, jobs, args.fail_fast).run()
        order = {n: i for i, n in enumerate(names)}
        results += sorted(done, key=lambda r: order[r[0]])  # the summary keeps the --list order
        names = []
    for name in names:
        results.append(run_stage(name, ctx))
        if args.fail_fast and results[-1][1].startswith("failed"):
            break
    elapsed = time.time() - started
    print("\nStage summary (wall time; cpu: user+system time of the stage's processes)")
    for name, status, seconds, cpu in results:
        print("  %-34s %-8s %7.1fs   cpu %7.1fs" % (name, status.split(":")[0], seconds, cpu))
        if status != "passed":
            print("      " + status[:2000])
    passed = sum(1 for r in results if r[1] == "passed")
    skipped = sum(1 for r in results if r[1].startswith("skipped"))
    failed = len(results) - passed - skipped
    print("elapsed %.1fs wall clock (%d min %02d s), %.1fs of stage time, up to %d stage(s) at once"
          % (elapsed, elapsed // 60, elapsed % 60, sum(r[2] for r in results), jobs))
    if skipped:
        print("!!! %d stage(s) SKIPPED, see above: they proved nothing" % skipped)
        print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    else:
        print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="pyfleet.uv: demo and test suite")
    sub = parser.add_subparsers(dest="command", required=True)
    test = sub.add_parser("test", help="run the test suite (all stages by default)")
    test.add_argument("--stage", action="append", help="run only this stage (repeatable); see --list")
    test.add_argument("--list", action="store_true", help="list the stages")
    test.add_argument("--fail-fast", action="store_true")
    test.add_argument("--jobs", type=int, default=int(os.environ.get("PYFLEET_UV_JOBS", "2")),
                      help="stages run at once, each in its own process with its own log printed whole when it "
                           "ends (default 2, or PYFLEET_UV_JOBS; 1 runs them one after the other, in this process)")
    test.add_argument("--child-ctx", help=argparse.SUPPRESS)
    test.add_argument("--result-file", help=argparse.SUPPRESS)
    sub.add_parser("demo", help="install uv from a local mirror with a playbook")
    args = parser.parse_args(argv)
    return cmd_test(args) if args.command == "test" else cmd_demo(args)
