# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An older-glibc managed host for the fleet stage: Debian 11 (bullseye) over real SSH.

``ensure_root`` makes a bullseye root with ``debootstrap`` (glibc 2.31, Python 3.9 and
bullseye's own OpenSSH server) from the Debian package mirror apt already uses, cached
outside the checkout as ``<cache>/bullseye-<key>`` (the key covers everything that
goes into it, so a change rebuilds it; delete the folder to rebuild by hand).

``ssh_host`` mounts ``/proc`` (and a private ``/dev/pts``) inside it, starts the root's own ``sshd`` in a chroot,
listening on 127.0.0.2 only and accepting one fresh key, and yields how to reach it.
On every way out (and before starting, for a run that was killed) it stops every
process whose root is that folder and unmounts everything below it.

Needs root (debootstrap, mount, chroot). Run alone, ``python3 hacking/bullseye.py
cleanup`` stops and unmounts what a killed run left behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

SUITE = "bullseye"
VARIANT = "minbase"
INCLUDE = ("python3", "openssh-server")
LAYOUT = 1  # bump when the way the root is made changes
SSHD_CONFIG = "/etc/ssh/pyfleet_sshd_config"
PYTHON = "/usr/bin/python3"
ADDRESS = "127.0.0.2"


def default_cache() -> str:
    """``$XDG_CACHE_HOME/pyfleet-uv`` (``~/.cache/pyfleet-uv``): the suite's caches, outside the checkout."""
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pyfleet-uv")


def debian_mirror() -> str:
    """The Debian package mirror apt uses here (``PYFLEET_UV_DEBIAN_MIRROR`` overrides it)."""
    override = os.environ.get("PYFLEET_UV_DEBIAN_MIRROR")
    if override:
        return override
    found = []
    for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
        with contextlib.suppress(OSError), open(path) as handle:
            for line in handle:
                words = [w for w in line.split("#", 1)[0].split() if not w.startswith("[")]
                if len(words) >= 3 and words[0] == "deb":
                    found.append((words[1], words[2]))
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        with contextlib.suppress(OSError), open(path) as handle:
            for stanza in handle.read().split("\n\n"):
                fields = {}
                for line in stanza.splitlines():
                    if ":" in line and not line.startswith(("#", " ")):
                        name, value = line.split(":", 1)
                        fields[name.strip().lower()] = value.split()
                if "deb" in fields.get("types", []):
                    found.extend((uri, suite) for uri in fields.get("uris", []) for suite in fields.get("suites", []))
    for uri, suite in found:
        if uri.rstrip("/").endswith("/debian") and "security" not in suite:
            return uri
    raise RuntimeError("no Debian package mirror found in apt's sources; set PYFLEET_UV_DEBIAN_MIRROR to one")


def root_key() -> str:
    return hashlib.sha256(json.dumps([SUITE, VARIANT, list(INCLUDE), LAYOUT]).encode()).hexdigest()[:12]


def _unescape(field: str) -> str:
    return field.encode().decode("unicode_escape") if "\\" in field else field


def mounts_below(path: str) -> list:
    """Mount points at or below ``path``, deepest first."""
    base = os.path.realpath(path)
    points = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            point = _unescape(line.split()[4])
            if point == base or point.startswith(base + "/"):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def processes_in(path: str) -> list:
    """PIDs of the processes whose root directory is ``path`` (chrooted there)."""
    base = os.path.realpath(path)
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.readlink("/proc/%s/root" % entry) == base:
                    pids.append(int(entry))
    return pids


def cleanup(path: str, log=print) -> None:
    """Stop every process chrooted in ``path`` and unmount everything below it."""
    pids = processes_in(path)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.time() + 5
        while pids and time.time() < deadline:
            pids = processes_in(path)
            time.sleep(0.1)
        if not pids:
            break
    if pids:
        raise RuntimeError("processes %s in %s would not stop" % (pids, path))
    for point in mounts_below(path):
        if subprocess.run(["umount", point], check=False).returncode != 0:
            log("umount %s failed; detaching it lazily" % point)
            subprocess.run(["umount", "-l", point], check=False)
    left = mounts_below(path)
    if left:
        raise RuntimeError("still mounted below %s: %s" % (path, ", ".join(left)))


@contextlib.contextmanager
def _lock(path: str):
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_root(cache: str, log=print) -> str:
    """The cached bullseye root, made with debootstrap when missing; returns its path."""
    path = os.path.join(cache, "%s-%s" % (SUITE, root_key()))
    os.makedirs(cache, exist_ok=True)
    with _lock(os.path.join(cache, ".%s.lock" % SUITE)):
        if os.path.exists(os.path.join(path, ".complete")):
            return path
        partial = path + ".partial"
        for stale in (partial, path):
            if os.path.exists(stale):
                cleanup(stale, log)  # never remove a tree that still has /proc or /dev mounted
                shutil.rmtree(stale)
        mirror = debian_mirror()
        logfile = os.path.join(cache, "%s-debootstrap.log" % SUITE)
        log("debootstrap %s into %s (about 45 s and 250 MB; log: %s)" % (SUITE, path, logfile))
        started = time.time()
        argv = ["debootstrap", "--variant=" + VARIANT, "--include=" + ",".join(INCLUDE), SUITE, partial, mirror]
        with open(logfile, "w") as out:
            code = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
        if code != 0:
            cleanup(partial, log)
            with open(logfile) as handle:
                tail = handle.read()[-2000:]
            raise RuntimeError("debootstrap %s from %s failed (exit %s); set PYFLEET_UV_DEBIAN_MIRROR if that mirror "
                               "no longer carries %s. Last lines:\n%s" % (SUITE, mirror, code, SUITE, tail))
        cleanup(partial, log)
        open(os.path.join(partial, ".complete"), "w").close()
        os.rename(partial, path)
        log("debootstrap took %.0f s" % (time.time() - started))
    return path


def free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def ssh_host(root: str, scratch: str, address: str = ADDRESS, log=print):
    """Run the root's sshd on ``address`` (127.x only); yields connection facts."""
    if not address.startswith("127."):
        raise ValueError("the test host must listen on loopback (127.0.0.0/8), not %s" % address)
    cleanup(root, log)  # what a killed run may have left
    proc = None
    try:
        subprocess.run(["mount", "-t", "proc", "proc", os.path.join(root, "proc")], check=True)
        # A private devpts for the ptys that ssh sessions ask for (ansible's ssh uses -tt).
        subprocess.run(["mount", "-t", "devpts", "-o", "newinstance,ptmxmode=0666,mode=0620", "devpts",
                        os.path.join(root, "dev", "pts")], check=True)
        key = os.path.join(scratch, "id_ed25519")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "pyfleet-uv-fleet", "-f", key],
                       check=True)
        ssh_dir = os.path.join(root, "root", ".ssh")
        os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
        os.chmod(ssh_dir, 0o700)
        shutil.copyfile(key + ".pub", os.path.join(ssh_dir, "authorized_keys"))
        os.chmod(os.path.join(ssh_dir, "authorized_keys"), 0o600)
        subprocess.run(["chroot", root, "ssh-keygen", "-A"], check=True, stdout=subprocess.DEVNULL)
        os.makedirs(os.path.join(root, "run", "sshd"), mode=0o755, exist_ok=True)
        port = free_port(address)
        with open(os.path.join(root, SSHD_CONFIG.lstrip("/")), "w") as handle:
            handle.write("\n".join([
                "# written by pyfleet.uv hacking/bullseye.py for the fleet tests",
                "ListenAddress %s:%d" % (address, port),
                "HostKey /etc/ssh/ssh_host_ed25519_key",
                "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "ChallengeResponseAuthentication no",
                "UsePAM no",
                "PidFile none",
                "Subsystem sftp /usr/lib/openssh/sftp-server",
                "",
            ]))
        sshd_log = os.path.join(scratch, "sshd.log")
        with open(sshd_log, "w") as out:
            proc = subprocess.Popen(["chroot", root, "/usr/sbin/sshd", "-D", "-e", "-f", SSHD_CONFIG],
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 20
        while True:
            with socket.socket() as sock:
                if sock.connect_ex((address, port)) == 0:
                    break
            if proc.poll() is not None or time.time() > deadline:
                with open(sshd_log) as handle:
                    raise RuntimeError("bullseye's sshd did not start on %s:%d: %s" % (address, port, handle.read()))
            time.sleep(0.1)
        log("bullseye sshd listening on %s:%d (chroot %s)" % (address, port, root))
        yield {"host": address, "port": port, "key": key, "python": PYTHON, "sshd_log": sshd_log}
    finally:
        cleanup(root, log)
        if proc is not None:
            proc.wait()


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    cache = default_cache()
    if argv == ["cleanup"]:
        for path in glob.glob(os.path.join(cache, SUITE + "-*")):
            if os.path.isdir(path):
                cleanup(path)
        return 0
    if argv == ["build"]:
        print(ensure_root(cache))
        return 0
    print("usage: %s build|cleanup" % sys.argv[0], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
