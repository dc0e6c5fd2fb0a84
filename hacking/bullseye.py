# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Older-glibc managed hosts for the fleet stage: Debian 11 (bullseye) roots over real SSH.

One root per Debian architecture (``ARCHES``): ``amd64`` (glibc 2.31, Python 3.9),
``arm64`` (a real aarch64 userland run under qemu-user through binfmt_misc) and
``i386`` (a 32-bit userland on this 64-bit kernel, where ``uname -m`` still says
x86_64). ``ensure_root`` makes a root with ``debootstrap`` (bullseye's glibc, Python
and OpenSSH server) from the Debian package mirror apt already uses, cached outside
the checkout as ``<cache>/bullseye-<key>`` (amd64) or ``<cache>/bullseye-<arch>-<key>``
(the key covers everything that goes into it, so a change rebuilds it; delete the
folder to rebuild by hand). A foreign root (arm64) is made in two stages: ``--foreign``
on this machine, then ``/debootstrap/debootstrap --second-stage`` inside it under qemu.

``ssh_host`` mounts ``/proc`` (and a private ``/dev/pts``) inside a root, starts the
root's own ``sshd`` in a chroot, listening on that root's own loopback address only
(127.0.0.2 amd64, 127.0.0.3 arm64, 127.0.0.4 i386) and accepting one fresh key, and
yields how to reach it. On every way out (and before starting, for a run that was
killed) it stops every process whose root is that folder and unmounts everything
below it.

``unusable(arch)`` says why an architecture cannot run here (no debootstrap, no
binfmt_misc, no qemu handler, a kernel without 32-bit support), or ``None``: it runs a
tiny static program of that architecture, so "works" means really executed.

Needs root (debootstrap, mount, chroot). Run alone, ``python3 hacking/bullseye.py
cleanup`` stops and unmounts what a killed run left behind (every architecture);
``python3 hacking/bullseye.py build [ARCH]`` builds one root.
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
import struct
import subprocess
import sys
import tempfile
import time

SUITE = "bullseye"
VARIANT = "minbase"
INCLUDE = ("python3", "openssh-server")
LAYOUT = 1  # bump when the way the root is made changes
SSHD_CONFIG = "/etc/ssh/pyfleet_sshd_config"
PYTHON = "/usr/bin/python3"
ADDRESS = "127.0.0.2"

# One row per Debian architecture the fleet can run: its own loopback address, the
# binfmt_misc handler that runs its programs here (None: this kernel runs them
# natively) and what ``uname -m`` prints inside it. The i386 root runs on the 64-bit
# kernel, so uname says x86_64 there although every program is 32-bit.
ARCHES = {
    "amd64": {"address": "127.0.0.2", "binfmt": None, "uname": "x86_64"},
    "arm64": {"address": "127.0.0.3", "binfmt": "qemu-aarch64", "uname": "aarch64"},
    "i386": {"address": "127.0.0.4", "binfmt": None, "uname": "x86_64"},
}
BINFMT_DIR = "/proc/sys/fs/binfmt_misc"


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


def root_key(arch: str = "amd64") -> str:
    """The cache key of a root: everything that goes into it (amd64 keeps its first key)."""
    parts = [SUITE, VARIANT, list(INCLUDE), LAYOUT] + ([] if arch == "amd64" else [arch])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:12]


def root_path(cache: str, arch: str = "amd64") -> str:
    """Where the root of ``arch`` is cached."""
    name = SUITE if arch == "amd64" else "%s-%s" % (SUITE, arch)
    return os.path.join(cache, "%s-%s" % (name, root_key(arch)))


def tiny_elf(arch: str) -> bytes:
    """A minimal static program of ``arch`` that only exits with status 42.

    Running it proves that this kernel (natively or through a binfmt_misc handler)
    really executes that architecture's programs, which a look at the binfmt
    registry alone would not prove.
    """
    if arch == "i386":
        # mov eax, 1 (exit); mov ebx, 42; int 0x80
        code = bytes.fromhex("b801000000bb2a000000cd80")
        base, header, phdr = 0x08048000, 52, 32
        size = header + phdr + len(code)
        ehdr = b"\x7fELF\x01\x01\x01" + bytes(9) + struct.pack(
            "<HHIIIIIHHHHHH", 2, 3, 1, base + header + phdr, header, 0, 0, header, phdr, 1, 0, 0, 0)
        prog = struct.pack("<IIIIIIII", 1, 0, base, base, size, size, 5, 0x1000)
        return ehdr + prog + code
    if arch == "arm64":
        # movz x0, #42; movz x8, #93 (exit); svc #0
        code = struct.pack("<III", 0xD2800540, 0xD2800BA8, 0xD4000001)
        base, header, phdr = 0x400000, 64, 56
        size = header + phdr + len(code)
        ehdr = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack(
            "<HHIQQQIHHHHHH", 2, 183, 1, base + header + phdr, header, 0, 0, header, phdr, 1, 0, 0, 0)
        prog = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x10000)
        return ehdr + prog + code
    raise ValueError("no tiny program for %s" % arch)


def enable_binfmt(handler: str, log=print) -> None:
    """Mount binfmt_misc when it is not mounted and enable ``handler`` (root only; best effort).

    binfmt_misc stays mounted afterwards, as binfmt-support leaves it at boot: it is
    this machine's setting, not a test's leftover.
    """
    if not os.path.exists(os.path.join(BINFMT_DIR, "register")):
        log("mounting binfmt_misc on %s" % BINFMT_DIR)
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", BINFMT_DIR], check=False)
    entry = os.path.join(BINFMT_DIR, handler)
    state = ""
    with contextlib.suppress(OSError), open(entry) as handle:
        state = handle.readline().strip()
    if state != "enabled" and shutil.which("update-binfmts"):
        log("update-binfmts --enable %s" % handler)
        subprocess.run(["update-binfmts", "--enable", handler], check=False)


def unusable(arch: str, cache: str) -> str | None:
    """Why the root of ``arch`` cannot be built or run here, or ``None`` when it can."""
    if arch not in ARCHES:
        return "unknown architecture %r (known: %s)" % (arch, ", ".join(sorted(ARCHES)))
    if os.geteuid() != 0:
        return "needs root (debootstrap, mount, chroot)"
    if not shutil.which("debootstrap"):
        return "debootstrap is not installed"
    handler = ARCHES[arch]["binfmt"]
    if handler:
        entry = os.path.join(BINFMT_DIR, handler)
        if not os.path.exists(os.path.join(BINFMT_DIR, "register")):
            return "binfmt_misc is not mounted on %s (and could not be mounted)" % BINFMT_DIR
        if not os.path.exists(entry):
            return "no %s handler in %s (install qemu-user-static and binfmt-support)" % (handler, BINFMT_DIR)
        with open(entry) as handle:
            text = handle.read()
        if not text.startswith("enabled"):
            return "the %s handler is disabled (update-binfmts --enable %s)" % (handler, handler)
        # The F flag makes the kernel open the interpreter when it is registered, so
        # it also works inside a chroot that does not contain qemu.
        flags = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("flags:")), "")
        if "F" not in flags:
            return "the %s handler lacks the F flag (flags %r): it would not run inside a chroot" % (handler, flags)
    if arch == "amd64":
        return None
    os.makedirs(cache, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tiny-%s-" % arch, dir=cache) as scratch:
        program = os.path.join(scratch, "exit42")
        with open(program, "wb") as handle:
            handle.write(tiny_elf(arch))
        os.chmod(program, 0o755)
        try:
            code = subprocess.run([program], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  timeout=30).returncode
        except OSError as exc:
            return "this kernel cannot run %s programs: %s" % (arch, exc)
        if code != 42:
            return "a tiny %s program exited %s instead of 42" % (arch, code)
    return None


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


def _debootstrap(argv: list, logfile: str, mode: str = "w") -> int:
    with open(logfile, mode) as out:
        out.write("$ %s\n" % " ".join(argv))
        out.flush()
        return subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, check=False).returncode


def ensure_root(cache: str, log=print, arch: str = "amd64") -> str:
    """The cached bullseye root of ``arch``, made with debootstrap when missing; returns its path.

    Built as ``<path>.partial`` under a lock, marked ``.complete`` and renamed, so a
    killed build never looks finished. arm64 is a foreign root: the first stage runs
    here, the second inside the root under qemu (binfmt_misc with the F flag, so
    nothing of qemu is copied into the root).
    """
    if arch not in ARCHES:
        raise ValueError("unknown architecture %r (known: %s)" % (arch, ", ".join(sorted(ARCHES))))
    path = root_path(cache, arch)
    name = SUITE if arch == "amd64" else "%s-%s" % (SUITE, arch)
    foreign = ARCHES[arch]["binfmt"] is not None
    os.makedirs(cache, exist_ok=True)
    with _lock(os.path.join(cache, ".%s.lock" % name)):
        if os.path.exists(os.path.join(path, ".complete")):
            return path
        partial = path + ".partial"
        for stale in (partial, path):
            if os.path.exists(stale):
                cleanup(stale, log)  # never remove a tree that still has /proc or /dev mounted
                shutil.rmtree(stale)
        mirror = debian_mirror()
        logfile = os.path.join(cache, "%s-debootstrap.log" % name)
        log("debootstrap %s %s into %s (%s and 250 MB; log: %s)"
            % (SUITE, arch, path, "about 4 min under qemu" if foreign else "about 45 s", logfile))
        started = time.time()
        argv = ["debootstrap", "--arch=" + arch, "--variant=" + VARIANT, "--include=" + ",".join(INCLUDE)]
        argv += ["--foreign"] if foreign else []
        code = _debootstrap(argv + [SUITE, partial, mirror], logfile)
        if code == 0 and foreign:
            log("debootstrap first stage took %.0f s; second stage inside the root under qemu"
                % (time.time() - started))
            code = _debootstrap(["chroot", partial, "/debootstrap/debootstrap", "--second-stage"], logfile, "a")
        if code != 0:
            cleanup(partial, log)
            with open(logfile) as handle:
                tail = handle.read()[-2000:]
            raise RuntimeError("debootstrap %s %s from %s failed (exit %s); set PYFLEET_UV_DEBIAN_MIRROR if that "
                               "mirror no longer carries %s. Last lines:\n%s" % (SUITE, arch, mirror, code, SUITE, tail))
        cleanup(partial, log)
        open(os.path.join(partial, ".complete"), "w").close()
        os.rename(partial, path)
        log("debootstrap %s %s took %.0f s" % (SUITE, arch, time.time() - started))
    return path


def free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def ssh_host(root: str, scratch: str, address: str = ADDRESS, log=print, name: str = "bullseye"):
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
        if not os.path.exists(key):  # one key for every host of the run
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
        sshd_log = os.path.join(scratch, "sshd-%s.log" % name)
        with open(sshd_log, "w") as out:
            proc = subprocess.Popen(["chroot", root, "/usr/sbin/sshd", "-D", "-e", "-f", SSHD_CONFIG],
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 60  # sshd under qemu takes a few seconds to come up
        while True:
            with socket.socket() as sock:
                if sock.connect_ex((address, port)) == 0:
                    break
            if proc.poll() is not None or time.time() > deadline:
                with open(sshd_log) as handle:
                    raise RuntimeError("%s's sshd did not start on %s:%d: %s" % (name, address, port, handle.read()))
            time.sleep(0.1)
        log("%s sshd listening on %s:%d (chroot %s)" % (name, address, port, root))
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
    if argv[:1] == ["build"] and len(argv) <= 2:
        arch = argv[1] if len(argv) == 2 else "amd64"
        reason = unusable(arch, cache)
        if reason:
            print("cannot build the %s root here: %s" % (arch, reason), file=sys.stderr)
            return 1
        print(ensure_root(cache, arch=arch))
        return 0
    print("usage: %s build [%s]|cleanup" % (sys.argv[0], "|".join(sorted(ARCHES))), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
