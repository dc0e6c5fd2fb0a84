# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet stage and what the three fleet stages share: the Debian 11 roots (built in the
background while the first stages run), their hosts' inventory variables, the fleet lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time

from .common import (CACHE, ROOT, StageSkipped, TRACKS, ansible_env, ensure_apt, expected_vars, find_python, log,
                     mirror_server, run, venv)
import bullseye  # on sys.path through .common
import uvindex  # on sys.path through .common


# The fleet's Debian 11 hosts besides the amd64 one: inventory name -> Debian architecture.
# Each is its own debootstrap root with its own sshd on its own loopback address (see
# bullseye.ARCHES); arm64 runs under qemu-user, i386 natively on this 64-bit kernel.
PLATFORM_HOSTS = {"bullseye-arm64": "arm64", "bullseye-i386": "i386"}


def fleet_expectations(arch: str, libc_version: str) -> dict:
    """What one fleet host must report and get (the ``uv_expect`` inventory variable).

    ``arch`` is the Debian architecture of the host's userland (``amd64`` for this
    machine too). The playbook asserts every key; later cases (an index source,
    ``download_on: controller``) add their keys here and their checks in fleet.yml.
    """
    machine = {"amd64": "x86_64", "arm64": "aarch64", "i386": "i686"}[arch]
    gnu, musl = "%s-unknown-linux-gnu" % machine, "%s-unknown-linux-musl" % machine
    expect = {
        "arch": machine,
        # i386 on the x86_64 kernel: uname -m says x86_64, the interpreter's ELF header says i386.
        "arch_detected_by": "uname+elf:/usr/bin/python3" if arch == "i386" else "uname",
        "libc_family": "glibc", "libc_version": libc_version,
        "targets": [gnu, musl],
        "install_target": gnu,
        # From the mirror's no-aarch64-gnu/ layout: only aarch64 hosts fall back to musl.
        "fallback_target": musl if machine == "aarch64" else gnu,
    }
    if arch == "i386":
        # What an installer that trusts uname -m would pick: the x86_64 gnu build, which
        # cannot load on a 32-bit userland (no /lib64/ld-linux-x86-64.so.2), so it must be
        # passed over for the static x86_64 musl build, which this 64-bit kernel runs.
        expect["naive"] = {"arch": "x86_64", "passed_over": "x86_64-unknown-linux-gnu",
                           "target": "x86_64-unknown-linux-musl"}
    return expect


def remote_host(remote: dict, url: str, expect: dict) -> dict:
    """Inventory variables of a debootstrap host reached over SSH (see bullseye.ssh_host).

    A host under qemu-user (``remote["emulated"]``, set by Fleet.ssh_hosts) gets
    ``ansible_pipelining``: without it every task also runs ``sh`` to make, chmod and remove
    its temporary folder and ``sftp-server`` to put the module there, each one more emulated
    process (8 small tasks on the arm64 root: 26-29 s without, 17-21 s with). The playbooks
    wait for that host at every task, so it bounds the fleet stages. The amd64 and i386 hosts
    keep ansible's default, so the fleet still runs every module both ways over SSH.
    """
    found = {
        "ansible_host": remote["host"], "ansible_port": remote["port"], "ansible_user": "root",
        "ansible_ssh_private_key_file": remote["key"],
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
        "ansible_ssh_timeout": 60,  # sshd under qemu is slow to answer on a busy machine
        "ansible_python_interpreter": remote["python"],
        "uv_mirror": url, "uv_test_root": "/tmp/pyfleet-uv-fleet",
        "uv_expected_libc_family": expect["libc_family"], "uv_expected_libc_version": expect["libc_version"],
        "uv_expect": expect,
    }
    if remote.get("emulated"):
        found["ansible_pipelining"] = True
    return found


def platform_roots(skipped: dict) -> dict:
    """Build (or reuse) the roots of PLATFORM_HOSTS that can work here, in parallel.

    Returns ``{host: root}``; a host whose architecture cannot run here (no binfmt_misc,
    no qemu handler, no debootstrap, a failed debootstrap) is put in ``skipped`` with why.
    """
    import concurrent.futures

    if "arm64" in PLATFORM_HOSTS.values():
        missing = ensure_apt({"qemu-aarch64-static": "qemu-user-static", "update-binfmts": "binfmt-support"})
        if not missing:
            bullseye.enable_binfmt("qemu-aarch64", log=log)
    usable = {}
    for host, arch in PLATFORM_HOSTS.items():
        reason = bullseye.unusable(arch, CACHE)
        if reason:
            skipped[host] = reason
        else:
            usable[host] = arch
    roots = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(usable) or 1) as pool:
        futures = {host: pool.submit(bullseye.ensure_root, CACHE, log, arch) for host, arch in usable.items()}
        for host, future in futures.items():
            try:
                roots[host] = future.result()
            except RuntimeError as exc:
                skipped[host] = "its debootstrap root could not be built: %s" % exc
    return roots


@contextlib.contextmanager
def debian_distutils(root: str):
    """Debian 11's distutils in a fleet root while the stage runs, purged again afterwards.

    Debian ships distutils apart from its python3.9, and uv cannot use a Python older than
    3.10 without it ("missing `distutils`"), so ``uv venv`` (config-fleet) and ``uv tool install``
    (python-fleet's uv_tool proof) on the roots' own Python need it, as on a real Debian 11 host. The
    packages are the root's own (tests/utils/pbs.py takes them once with the root's apt and
    keeps them in the cache); they are installed with dpkg from outside the playbook, so the
    shared roots stay as they were built.
    """
    import pbs_sources  # pylint: disable=import-outside-toplevel  # tests/utils/pbs_sources.py

    source = pbs_sources.debian_source(root, os.path.basename(root))
    debs = pbs_sources.debian_addons(source, CACHE) if source else []
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    if debs:
        inside = tempfile.mkdtemp(prefix="distutils-", dir=os.path.join(root, "tmp"))
        try:
            for deb in debs:
                shutil.copy(deb, inside)
            run([chroot, root, "sh", "-c", "dpkg -i /%s/*.deb" % os.path.relpath(inside, root)],
                stdout=subprocess.DEVNULL)
        finally:
            shutil.rmtree(inside, ignore_errors=True)
    try:
        yield
    finally:
        if debs:
            run([chroot, root, "dpkg", "--purge"] + list(pbs_sources.DEBIAN_ADDONS), stdout=subprocess.DEVNULL)


def prebuild_roots(names: list):
    """On a cold machine, build the Debian 11 roots in the background while the first stages run.

    The roots take about 45 s (amd64) and 270-350 s (arm64 under qemu-user, i386 beside it) to
    build once; the early stages (sanity, units) keep one core busy, so building the roots beside
    them takes that time off the run. Returns a future (or None); the fleet stages wait on it and
    then build anything still missing themselves, so a failure here only costs time.
    """
    import concurrent.futures  # pylint: disable=import-outside-toplevel

    if os.geteuid() != 0 or not any(n.startswith(FLEET_STAGES) for n in names):
        return None

    def build():
        started = time.time()
        if ensure_apt({"debootstrap": "debootstrap", "ssh": "openssh-client", "ssh-keygen": "openssh-client"}):
            return
        bullseye.ensure_root(CACHE, log=log)
        platform_roots({})
        log("Debian 11 roots ready in the background after %.1f s" % (time.time() - started))

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    future = pool.submit(build)
    pool.shutdown(wait=False)
    return future


def wait_for_roots(ctx: dict) -> None:
    """Wait for prebuild_roots's work, if any; its failure is logged, the stage builds what is missing."""
    future = ctx.pop("roots_ready", None)
    if future is None:
        return
    started = time.time()
    try:
        future.result()
    except Exception as exc:  # pylint: disable=broad-except
        log("the background build of the Debian 11 roots failed (%s); the stage builds them itself" % exc)
    log("waited %.1f s for the background build of the Debian 11 roots" % (time.time() - started))


@contextlib.contextmanager
def sshd_logs_on_failure(remotes: dict):
    """Print the last lines of each fleet host's sshd log when the playbook in the block fails."""
    try:
        yield
    except subprocess.CalledProcessError:
        for host, remote in remotes.items():
            with open(remote["sshd_log"]) as handle:
                log("%s sshd log (last lines):\n%s" % (host, "".join(handle.readlines()[-20:])))
        raise


def check_roots_released(what: str, roots, finished: bool) -> None:
    """Every ssh_host has stopped its chroot's processes and unmounted its root by now, on
    every path: check it, so that a leak fails the stage (``finished``: the stage's own work
    passed; otherwise its error is the one to see, and the leak is only logged)."""
    left = {r: (bullseye.mounts_below(r), bullseye.processes_in(r)) for r in roots}
    left = {r: v for r, v in left.items() if v[0] or v[1]}
    if not left:
        log("%s cleaned up: no mount and no process left in %s" % (what, ", ".join(roots)))
        return
    log("!!! %s left mounts or processes behind: %s" % (what, left))
    if finished:
        raise RuntimeError("%s left mounts or processes behind: %s" % (what, left))


class Fleet:
    """The Debian 11 roots of a fleet stage, ready (see prepare_fleet).

    ``root``: the amd64 host's root (inventory name ``bullseye``); ``roots``: ``{platform host:
    root}`` for the PLATFORM_HOSTS that work here; ``skipped``: ``{platform host: why not}``.
    """

    def __init__(self, root: str, roots: dict, skipped: dict):
        self.root, self.roots, self.skipped = root, roots, skipped

    @property
    def all_roots(self) -> list:
        return [self.root] + list(self.roots.values())

    def ssh_hosts(self, stack: contextlib.ExitStack, scratch: str) -> dict:
        """Start each root's sshd (bullseye.ssh_host) for as long as ``stack`` lives: ``{host: remote}``
        (``emulated``: the root runs under qemu-user, see remote_host)."""
        remotes = {"bullseye": stack.enter_context(bullseye.ssh_host(self.root, scratch, log=log))}
        for host, host_root in self.roots.items():
            arch = bullseye.ARCHES[PLATFORM_HOSTS[host]]
            remote = stack.enter_context(bullseye.ssh_host(host_root, scratch, arch["address"], log=log, name=host))
            remotes[host] = dict(remote, emulated=bool(arch["binfmt"]))
        return remotes

    @contextlib.contextmanager
    def running(self, what: str):
        """Around a stage's work: check_roots_released on every path; then, if a platform host
        was left out, StageSkipped naming it and why (``what``: "the fleet", "the config fleet")."""
        finished = False
        try:
            yield
            finished = True
        finally:
            check_roots_released(what, self.all_roots, finished)
        if self.skipped:
            raise StageSkipped("%s ran without %s" % (what, "; ".join(
                "%s (%s)" % (host, reason) for host, reason in sorted(self.skipped.items()))))


def prepare_fleet(ctx: dict, why: str, apt: dict = None) -> Fleet:
    """The prelude of every fleet stage: root, the background roots, Debian packages, the roots.

    SKIPPED unless the suite runs as root (``why``: what needs it, for the message); waits
    for prebuild_roots's work, installs debootstrap and ssh (and ``apt``, ``{command:
    package}``), then builds or reuses the amd64 root and the platform roots (platform_roots).
    """
    if os.geteuid() != 0:
        raise StageSkipped("needs root (%s): run the suite as root" % why)
    wait_for_roots(ctx)
    missing = ensure_apt(dict({"debootstrap": "debootstrap", "ssh": "openssh-client", "ssh-keygen": "openssh-client"},
                              **(apt or {})))
    if missing:
        raise RuntimeError("missing Debian packages: %s" % ", ".join(missing))
    started = time.time()
    root = bullseye.ensure_root(CACHE, log=log)
    skipped = {}
    roots = platform_roots(skipped)
    log("fleet roots ready in %.1f s" % (time.time() - started))
    return Fleet(root, roots, skipped)


def remote_connection(remote: dict) -> dict:
    """The ``ansible_*`` variables of remote_host alone: how to reach a root, without the fleet stage's expectations."""
    return {k: v for k, v in remote_host(remote, "", {"libc_family": None, "libc_version": None}).items()
            if k.startswith("ansible_")}


def stage_fleet(track: str, ctx: dict) -> None:
    """A four-host fleet: this machine and Debian 11 hosts (amd64, arm64, i386) over real SSH.

    One playbook (hacking/fleet.yml) runs the integration targets on the amd64 host (this
    machine runs them in the integration stage), with its expectations, including the gnu
    build that needs GLIBC_2.34 (refused on bullseye at its pre-swap run), then installs
    uv across the whole fleet and asserts each host's facts and result (``uv_expect``,
    from ``fleet_expectations``): a real aarch64 userland under qemu-user (glibc 2.31:
    the aarch64 gnu build, or musl when the mirror lacks it) and a 32-bit i386 userland
    on this x86_64 kernel (i686 builds). Each host gets its own mirror server so that
    request counts stay per host. A platform host that cannot work here (no binfmt,
    qemu or debootstrap) is left out and the stage ends SKIPPED, naming it and why.
    """
    fleet = prepare_fleet(ctx, "debootstrap, mount, chroot", {"gcc": "gcc"})
    if not ctx.get("too_new"):
        raise RuntimeError("the mirror's too-new/ layout was not built (it needs gcc on a glibc >= 2.34 machine)")
    path = venv(track)
    with fleet.running("the fleet"):
        with tempfile.TemporaryDirectory(prefix="uv-fleet-") as scratch, contextlib.ExitStack() as stack:
            remotes = fleet.ssh_hosts(stack, scratch)
            here_url = stack.enter_context(mirror_server(ctx["mirror"]))
            here = expected_vars(ctx)
            hosts = {"localhost": {
                "ansible_connection": "local",
                "ansible_python_interpreter": find_python(TRACKS[track]["managed"][-1]),
                "uv_mirror": here_url, "uv_test_root": os.path.join(scratch, "root"),
                "uv_expect": fleet_expectations("amd64", here["uv_expected_libc_version"]),
            }}
            for host, remote in remotes.items():
                arch = PLATFORM_HOSTS.get(host, "amd64")
                url = stack.enter_context(mirror_server(ctx["mirror"]))
                hosts[host] = remote_host(remote, url, fleet_expectations(arch, "2.31"))  # Debian 11's glibc
            # One mirror and one index for the whole fleet: their counters are the fleet's egress.
            fleet_index = stack.enter_context(uvindex.indexes(("pypiserver",)))["pypiserver"]
            here = dict(here, uv_fleet_mirror=stack.enter_context(mirror_server(ctx["mirror"])),
                        uv_fleet_index=fleet_index.url, uv_fleet_cache=os.path.join(scratch, "controller-cache"))
            inventory = {"all": {"vars": here, "hosts": hosts, "children": {
                # The integration targets assume an x86_64 host; the platform hosts get the fleet's own
                # checks. This machine runs the same targets (the too-new case included) in the
                # integration stage, on every managed Python of the track: here only the Debian host.
                "integration": {"hosts": {"bullseye": {}}},
            }}}
            inventory_file = os.path.join(scratch, "inventory.json")
            with open(inventory_file, "w") as handle:
                json.dump(inventory, handle, indent=1)
            env = ansible_env(ctx["tree"], {"ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(scratch, "cp")})
            with sshd_logs_on_failure(remotes):
                run([os.path.join(path, "bin", "ansible-playbook"), "-i", inventory_file,
                     os.path.join(ROOT, "hacking", "fleet.yml")], env=env)


# Stages that start the Debian 11 roots' sshd on fixed loopback addresses (127.0.0.2-4): two
# suite runs on one machine (two checkouts, a developer beside CI) take turns on them.
FLEET_STAGES = ("fleet", "config-fleet", "python-fleet")


@contextlib.contextmanager
def fleet_lock(stage: str):
    """Hold ``<cache>/fleet.lock`` while a fleet stage runs; other stages run unlocked."""
    if stage not in FLEET_STAGES:
        yield
        return
    import fcntl  # pylint: disable=import-outside-toplevel

    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, "fleet.lock"), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            log("waiting for another suite run's fleet stage (%s)" % os.path.join(CACHE, "fleet.lock"))
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
