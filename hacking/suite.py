# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Set up everything and run the demo or the whole test suite.

    python3 hacking/suite.py demo               # the main job: a real install from a local mirror
    python3 hacking/suite.py test               # every stage, both ansible-core tracks
    python3 hacking/suite.py test --list        # the stage names
    python3 hacking/suite.py test --stage units-newest --stage integration-newest

Everything it needs is made here: virtual environments with each ansible-core
(cached under ~/.cache/pyfleet-uv, keyed by their requirements), the uv wheels and
the loopback mirror built from them, a real ``ansible_collections/pyfleet/uv`` copy
of the checkout for ansible-test, and ansible-test's pip bootstrap (see
``seed_get_pip``). Servers listen on 127.0.0.1 only and are stopped on every path.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import shlex
import tempfile
import threading
import time

import bullseye  # hacking/bullseye.py: the Debian 11 managed host of the fleet stage
import lint_output  # hacking/lint_output.py: what a tool printed, findings apart from dependency warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "utils"))
import uvindex  # noqa: E402  tests/utils/uvindex.py: real package indexes on loopback
import uvmirror  # noqa: E402  tests/utils/uvmirror.py: the loopback mirror (its TOOLS: ruff's and ty's versions)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = bullseye.default_cache()
UVMIRROR = os.path.join(ROOT, "tests", "utils", "uvmirror.py")
UV_OLD, UV_NEW = "0.5.11", "0.13.8"

# Two ansible-core tracks: the newest core (Python 3.12+ controller) and the oldest
# supported one, 2.16 (the last that manages Python 3.6 hosts such as RHEL 8's
# platform-python).
TRACKS = {
    "newest": {
        "python": "3.12",
        # requests: the controller side of download_on=controller (see requirements.txt).
        # pytest-xdist: the adversarial stage runs its isolated cases on two workers.
        "requirements": ["ansible-core", "pytest", "pytest-xdist", "vermin", "antsibull-changelog", "requests"],
        # Python 3.9 is the managed Python of the Debian 11 hosts, where the fleet stage runs the
        # same integration targets; a second local run on 3.9 doubled the stage for no new code path.
        "managed": ["3.13"],
    },
    "2.16": {
        "python": "3.11",
        "requirements": ["ansible-core>=2.16,<2.17", "pytest", "requests"],
        "managed": ["3.6"],
    },
}


class StageSkipped(Exception):
    """A stage that cannot run here (for example it needs root); reported loudly, never as a pass."""


def log(message: str) -> None:
    print("[suite] %s" % message, flush=True)


def run(argv, check=True, **kwargs) -> subprocess.CompletedProcess:
    log("$ " + " ".join(str(a) for a in argv))
    return subprocess.run([str(a) for a in argv], check=check, **kwargs)


def find_python(version: str) -> str:
    """An interpreter of ``version`` (e.g. "3.12"): pyenv's build first, then PATH."""
    candidates = []
    try:
        pyenv_root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip()
        versions = os.path.join(pyenv_root, "versions")
        for name in sorted(os.listdir(versions), reverse=True):
            if name == version or name.startswith(version + "."):
                candidates.append(os.path.join(versions, name, "bin", "python" + version))
    except (OSError, subprocess.CalledProcessError):
        pass
    found = shutil.which("python" + version)
    if found:
        candidates.append(found)
    for path in candidates:
        if os.access(path, os.X_OK):
            return path
    raise SystemExit("no Python %s found (pyenv or PATH); install it, e.g. 'pyenv install %s'" % (version, version))


FROZEN = set()


def log_freeze(path: str) -> None:
    """Once per run and venv: one line with what pip resolved there, so a drift is named in the log."""
    if path in FROZEN:
        return
    FROZEN.add(path)
    out = subprocess.run([os.path.join(path, "bin", "python"), "-m", "pip", "freeze", "--all"],
                         capture_output=True, text=True, check=False)
    log("venv %s resolved to: %s" % (os.path.basename(path), " ".join(out.stdout.split()) or out.stderr.strip()))


def venv(track: str) -> str:
    """The virtual environment of a track, made once per set of requirements."""
    spec = TRACKS[track]
    python = find_python(spec["python"])
    key = hashlib.sha256(json.dumps([python, spec["requirements"]]).encode()).hexdigest()[:12]
    path = os.path.join(CACHE, "venvs", "%s-%s" % (track, key))
    with uvindex.cache_lock("suite-venv-%s-%s" % (track, key)):  # stages and suite runs side by side
        if not os.path.exists(os.path.join(path, ".complete")):
            shutil.rmtree(path, ignore_errors=True)
            run([python, "-m", "venv", path])
            run([os.path.join(path, "bin", "python"), "-m", "pip", "install", "--quiet"] + spec["requirements"])
            open(os.path.join(path, ".complete"), "w").close()
    log_freeze(path)
    return path


def seed_get_pip(venv_path: str) -> None:
    """Give ansible-test a pip bootstrap script that needs no download.

    ansible-test bootstraps pip in each of its virtual environments with a get-pip
    script fetched from a host these machines cannot reach, cached as
    ``~/.ansible/test/cache/get_pip_<version>.py``. This stand-in installs the pip
    bundled with the interpreter (ensurepip) and lets it install the exact pip
    version ansible-test asked for from the package index.
    """
    pattern = re.compile(r"pip='(\d+(?:\.\d+)*)'")
    versions = set()
    for dirpath, _dirs, files in os.walk(venv_path):
        if dirpath.endswith(os.path.join("ansible_test", "_internal")) and "python_requirements.py" in files:
            with open(os.path.join(dirpath, "python_requirements.py")) as handle:
                versions.update(pattern.findall(handle.read()))
    cache = os.path.expanduser("~/.ansible/test/cache")
    os.makedirs(cache, exist_ok=True)
    script = (
        '"""Stand-in for get-pip.py, written by pyfleet.uv hacking/suite.py: ensurepip, then pip."""\n'
        "import subprocess\nimport sys\n"
        "args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]\n"
        "subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'])\n"
        "subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args)\n"
    )
    for version in versions:
        path = os.path.join(cache, "get_pip_%s.py" % version.replace(".", "_"))
        with open(path + ".%d" % os.getpid(), "w") as handle:  # renamed: an ansible-test beside never reads half
            handle.write(script)
        os.replace(path + ".%d" % os.getpid(), path)


def ensure_apt(packages: dict) -> list:
    """Install missing Debian packages (``{command: package}``); returns what is still missing.

    Needs root; without it nothing is installed and the caller says so loudly.
    """
    missing = {cmd: pkg for cmd, pkg in packages.items() if not shutil.which(cmd)}
    if not missing:
        return []
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        log("!!! cannot install %s (not root or no apt-get): tests that need them are SKIPPED"
            % ", ".join(sorted(set(missing.values()))))
        return sorted(set(missing.values()))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + sorted(set(missing.values())), env=env,
        stdout=subprocess.DEVNULL)
    return [pkg for cmd, pkg in missing.items() if not shutil.which(cmd)]


def collection_tree() -> str:
    """A real ``ansible_collections/pyfleet/uv`` copy of the checkout; returns its root."""
    # One copy per suite process: two runs at once (two checkouts, or two developers'
    # stages) must not remove each other's tree. It goes when the process ends.
    top = os.path.join(CACHE, "tree-%d" % os.getpid())
    dest = os.path.join(top, "ansible_collections", "pyfleet", "uv")
    shutil.rmtree(top, ignore_errors=True)
    atexit.register(shutil.rmtree, top, True)
    os.makedirs(dest)
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, files):
        source = os.path.join(ROOT, name)
        if not os.path.isfile(source):
            continue  # deleted in the work tree
        target = os.path.join(dest, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target)
    return top


def collection_dir(top: str) -> str:
    return os.path.join(top, "ansible_collections", "pyfleet", "uv")


def build_mirror() -> str:
    out = os.path.join(CACHE, "mirror")
    run([sys.executable, UVMIRROR, "build", "--out", out, "--versions", "%s,%s" % (UV_OLD, UV_NEW)],
        stdout=subprocess.DEVNULL)
    return out


def build_too_new(mirror: str) -> str:
    """Add the mirror's too-new/<UV_NEW>/ layout (a gnu build needing GLIBC_2.34); returns the version."""
    run([sys.executable, UVMIRROR, "too-new", "--root", mirror, "--version", UV_NEW], stdout=subprocess.DEVNULL)
    return UV_NEW


@contextlib.contextmanager
def mirror_server(root: str, host: str = "127.0.0.1"):
    """Serve ``root`` on a free loopback port; yields the base URL; always stops it."""
    with tempfile.TemporaryDirectory(prefix="uvmirror-") as tmp:
        portfile = os.path.join(tmp, "port")
        proc = subprocess.Popen([sys.executable, UVMIRROR, "serve", "--root", root, "--host", host,
                                 "--portfile", portfile])
        try:
            deadline = time.time() + 20
            while not os.path.exists(portfile):
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("the mirror server did not start")
                time.sleep(0.05)
            with open(portfile) as handle:
                yield "http://%s:%s" % (host, handle.read().strip())
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def local_libc() -> tuple:
    """This machine's libc, from ldd, for the integration tests' expectations."""
    out = subprocess.run(["ldd", "--version"], capture_output=True, text=True, check=False)
    text = out.stdout + out.stderr
    first = text.splitlines()[0] if text else ""
    match = re.search(r"(\d+\.\d+)\s*$", first)
    if "musl" in text:
        return "musl", re.search(r"Version (\S+)", text).group(1)
    return "glibc", match.group(1) if match else None


def expected_vars(ctx: dict) -> dict:
    """The integration targets' variables that describe this machine and the mirror's versions."""
    family, version = local_libc()
    extra = {
        "uv_old": UV_OLD, "uv_new": UV_NEW, "uv_expected_arch": os.uname().machine,
        "uv_expected_libc_family": family, "uv_expected_libc_version": version,
        "uv_tools": tool_versions(),
    }
    if ctx.get("too_new"):
        extra["uv_too_new_version"] = ctx["too_new"]
    return extra


def tool_versions() -> dict:
    """``{tool: {"old", "new"}}`` of the other tools the mirror and the indexes hold (ruff, ty)."""
    return {tool: {"old": versions[0], "new": versions[-1]}
            for tool, (_platforms, versions) in uvmirror.TOOLS.items() if tool != "uv"}


def ansible_env(top: str, extra=None) -> dict:
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": top,
        "ANSIBLE_ROLES_PATH": os.path.join(collection_dir(top), "tests", "integration", "targets"),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "ANSIBLE_LOCALHOST_WARNING": "False",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
    })
    env.update(extra or {})
    return env


# -- stages --------------------------------------------------------------------

def stage_sanity(track: str, ctx: dict) -> None:
    path = venv(track)
    seed_get_pip(path)
    python = TRACKS[track]["python"]
    run([os.path.join(path, "bin", "ansible-test"), "sanity", "--color", "no", "--python", python,
         "--requirements"], cwd=collection_dir(ctx["tree"]))
    ignores = [name for name in os.listdir(os.path.join(ROOT, "tests")) if name == "sanity"]
    if ignores:
        raise RuntimeError("tests/sanity exists: ignore files are not allowed in this project")


def stage_units(track: str, ctx: dict) -> None:
    path = venv(track)
    coll = collection_dir(ctx["tree"])
    env = dict(os.environ, PYTHONPATH=ctx["tree"], PYFLEET_UV_MIRROR=ctx["mirror"])
    run([os.path.join(path, "bin", "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/unit"], cwd=coll, env=env)


def stage_py36_static(track: str, ctx: dict) -> None:
    """Target-side code must be valid Python 3.6: vermin, then a real 3.6 compile."""
    path = venv("newest")
    coll = collection_dir(ctx["tree"])
    targets = [os.path.join(coll, "plugins", "modules"), os.path.join(coll, "plugins", "module_utils")]
    run([os.path.join(path, "bin", "vermin"), "-t=3.6-", "--violations", "--no-tips", "--eval-annotations"] + targets)
    py36 = find_python("3.6")
    run([py36, "-m", "compileall", "-q", "-f"] + targets)
    for target in targets:  # compileall leaves __pycache__ behind in the copy only
        for dirpath, dirs, _files in os.walk(target):
            for name in dirs:
                if name == "__pycache__":
                    shutil.rmtree(os.path.join(dirpath, name), ignore_errors=True)


def stage_integration(track: str, ctx: dict) -> None:
    """The integration targets against the loopback mirror and two real package indexes.

    pypiserver (PEP 503 HTML) and devpi-server (PEP 691 JSON) come from
    tests/utils/uvindex.py; each index case runs on every managed Python of the track.
    """
    path = venv(track)
    with mirror_server(ctx["mirror"]) as url, uvindex.indexes(("pypiserver", "devpi")) as indexes:
        index_vars = [indexes[kind].ansible_vars() for kind in ("pypiserver", "devpi")]
        for managed in TRACKS[track]["managed"]:
            interpreter = find_python(managed)
            with tempfile.TemporaryDirectory(prefix="uv-it-") as scratch:
                inventory = os.path.join(scratch, "inventory.ini")
                with open(inventory, "w") as handle:
                    handle.write("[local]\nlocalhost ansible_connection=local ansible_python_interpreter=%s\n"
                                 % interpreter)
                extra = dict(expected_vars(ctx), uv_mirror=url, uv_test_root=os.path.join(scratch, "root"),
                             uv_indexes=index_vars)
                extra_file = os.path.join(scratch, "vars.json")
                with open(extra_file, "w") as handle:
                    json.dump(extra, handle)
                playbook = os.path.join(ROOT, "hacking", "integration.yml")
                run([os.path.join(path, "bin", "ansible-playbook"), "-i", inventory, playbook,
                     "-e", "@" + extra_file], env=ansible_env(ctx["tree"]))
                log("integration on Python %s passed" % managed)
        check_password_hidden(path, ctx, indexes["devpi"])


def check_password_hidden(path: str, ctx: dict, index) -> None:
    """Basic auth against an index at -vvv: the install works and the password is never printed."""
    with tempfile.TemporaryDirectory(prefix="uv-vvv-") as scratch:
        args = {"version": UV_NEW, "index_url": index.auth_url, "url_username": index.username,
                "url_password": index.password, "install_dir": os.path.join(scratch, "bin")}
        out = run([os.path.join(path, "bin", "ansible"), "localhost", "-vvv", "-m", "pyfleet.uv.uv_install",
                   "-a", json.dumps(args), "-e", "ansible_python_interpreter=%s" % sys.executable],
                  env=ansible_env(ctx["tree"]), capture_output=True, text=True, check=False)
        output = out.stdout + out.stderr
        if out.returncode != 0 or "CHANGED" not in output:
            raise RuntimeError("the -vvv install with basic auth failed:\n" + output[-3000:])
        if index.password in output:
            raise RuntimeError("the index password appears in the -vvv output")
        log("-vvv with basic auth: installed, password not shown (%d bytes of output)" % len(output))


# The fleet's Debian 11 hosts besides the amd64 one: inventory name -> Debian architecture.
# Each is its own debootstrap root with its own sshd on its own loopback address (see
# bullseye.ARCHES); arm64 runs under qemu-user, i386 natively on this 64-bit kernel.
PLATFORM_HOSTS = {"bullseye-arm64": "arm64", "bullseye-i386": "i386"}
# What the uv_config fleet proof installs from the loopback index (a small pure-Python wheel).
CONFIG_PACKAGE = "packaging==24.2"


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
    """Inventory variables of a debootstrap host reached over SSH (see bullseye.ssh_host)."""
    return {
        "ansible_host": remote["host"], "ansible_port": remote["port"], "ansible_user": "root",
        "ansible_ssh_private_key_file": remote["key"],
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
        "ansible_ssh_timeout": 60,  # sshd under qemu is slow to answer on a busy machine
        "ansible_python_interpreter": remote["python"],
        "uv_mirror": url, "uv_test_root": "/tmp/pyfleet-uv-fleet",
        "uv_expected_libc_family": expect["libc_family"], "uv_expected_libc_version": expect["libc_version"],
        "uv_expect": expect,
    }


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


def stage_fleet(track: str, ctx: dict) -> None:
    """A four-host fleet: this machine and Debian 11 hosts (amd64, arm64, i386) over real SSH.

    One playbook (hacking/fleet.yml) runs the integration targets on this machine and
    the amd64 host, with per-host expectations, including the gnu build that needs
    GLIBC_2.34 (refused on bullseye at its pre-swap run, installed here), then installs
    uv across the whole fleet and asserts each host's facts and result (``uv_expect``,
    from ``fleet_expectations``): a real aarch64 userland under qemu-user (glibc 2.31:
    the aarch64 gnu build, or musl when the mirror lacks it) and a 32-bit i386 userland
    on this x86_64 kernel (i686 builds). Each host gets its own mirror server so that
    request counts stay per host. A platform host that cannot work here (no binfmt,
    qemu or debootstrap) is left out and the stage ends SKIPPED, naming it and why.
    """
    if os.geteuid() != 0:
        raise StageSkipped("needs root (debootstrap, mount, chroot): run the suite as root to test the bullseye host")
    wait_for_roots(ctx)
    missing = ensure_apt({"debootstrap": "debootstrap", "ssh": "openssh-client", "ssh-keygen": "openssh-client",
                          "gcc": "gcc"})
    if missing:
        raise RuntimeError("missing Debian packages: %s" % ", ".join(missing))
    if not ctx.get("too_new"):
        raise RuntimeError("the mirror's too-new/ layout was not built (it needs gcc on a glibc >= 2.34 machine)")
    started = time.time()
    root = bullseye.ensure_root(CACHE, log=log)
    skipped = {}
    roots = platform_roots(skipped)
    log("fleet roots ready in %.1f s" % (time.time() - started))
    path = venv(track)
    all_roots = [root] + list(roots.values())
    finished = False
    try:
        with tempfile.TemporaryDirectory(prefix="uv-fleet-") as scratch, contextlib.ExitStack() as stack:
            remotes = {"bullseye": stack.enter_context(bullseye.ssh_host(root, scratch, log=log))}
            for host, host_root in roots.items():
                address = bullseye.ARCHES[PLATFORM_HOSTS[host]]["address"]
                remotes[host] = stack.enter_context(bullseye.ssh_host(host_root, scratch, address, log=log, name=host))
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
                # The integration targets assume an x86_64 host; the platform hosts get
                # the fleet's own checks.
                "integration": {"hosts": {"localhost": {}, "bullseye": {}}},
            }}}
            inventory_file = os.path.join(scratch, "inventory.json")
            with open(inventory_file, "w") as handle:
                json.dump(inventory, handle, indent=1)
            env = ansible_env(ctx["tree"], {"ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(scratch, "cp")})
            with sshd_logs_on_failure(remotes):
                run([os.path.join(path, "bin", "ansible-playbook"), "-i", inventory_file,
                     os.path.join(ROOT, "hacking", "fleet.yml")], env=env)
        finished = True
    finally:
        check_roots_released("the fleet", all_roots, finished)
    if skipped:
        raise StageSkipped("the fleet ran without %s" % "; ".join(
            "%s (%s)" % (host, reason) for host, reason in sorted(skipped.items())))


def python_fleet_hosts(manifest: dict, pbs_url: str) -> dict:
    """Per host group, the uv_python variables of hacking/fleet_python.yml (from a pbs.py manifest).

    ``bookworm`` (this machine) has two patches of one series: the first request is the
    older one, ``state: latest`` then upgrades to the newer; ``bullseye`` has one patch per
    architecture, ``{arch: vars}``.
    """
    import pbs  # pylint: disable=import-outside-toplevel  # tests/utils/pbs.py
    import venvindex  # pylint: disable=import-outside-toplevel  # tests/utils/venvindex.py

    def path(entry):
        return "/" + pbs.quote_path(entry["path"])

    local = sorted((a for a in manifest["archives"] if a["host"] == "bookworm"),
                   key=lambda a: tuple(int(p) for p in a["version"].split(".")))
    if len(local) < 2 or local[0]["series"] != local[-1]["series"]:
        raise RuntimeError("pbs.py found no two patch releases of one series on this machine: %s"
                           % [a["key"] for a in local])
    old, new = local[0], local[-1]
    found = {"bookworm": {
        "py_json": pbs_url + "/bookworm.json", "py_series": old["series"], "py_first": old["version"],
        "py_first_key": old["key"], "py_first_path": path(old), "py_latest_key": new["key"],
        "py_latest_path": path(new), "py_final_path": path(new)}}
    for entry in manifest["archives"]:
        if entry["host"] == "bullseye":
            found[entry["arch"]] = {
                "py_json": pbs_url + "/bullseye.json", "py_series": entry["series"], "py_first": entry["series"],
                "py_first_key": pbs.installed_key(entry), "py_first_path": path(entry), "py_latest_key": None,
                "py_latest_path": None, "py_final_path": path(entry)}
    return found


def python_fleet_venv_index(stack, groups: dict) -> tuple:
    """The uv_venv proof's package sets and index: ``({group: host variables}, uvindex.Index)``.

    One set per host group of python_fleet_hosts, for its managed Python's series and its
    architecture (the ``bookworm`` group's is this machine's): tests/utils/venvindex.py's
    ``FLEET_*`` projects, each compiled one only where a wheel exists for that Python and
    architecture, fetched once into the wheel cache. A pypiserver index (behind uvindex's
    counting front) serves them all; it lives as long as ``stack``.
    """
    import venvindex  # pylint: disable=import-outside-toplevel  # tests/utils/venvindex.py

    targets = {name: (group["py_series"], os.uname().machine if name == "bookworm" else name)
               for name, group in groups.items()}
    wheels, sets = venvindex.fetch_fleet(targets.values())
    # uv_tool's proof (hacking/fleet_tool_cli.yml): pylint pinned, then its upgrade, with the dependencies
    # the fleet set lacks (it has tomli and typing-extensions), all pure wheels; and ruff's newest version,
    # on the index for every platform (uvindex.TOOL_WHEELS) and in the mirror for ruff_install.
    tool = {"tool_requirement": "pylint==3.3.1", "tool_upgrade": "pylint==3.3.2", "tool_ruff": uvmirror.TOOLS["ruff"][1][-1]}
    wheels += venvindex.fetch((tool["tool_requirement"], tool["tool_upgrade"], "astroid==3.3.5", "dill==0.3.9",
                               "isort==5.13.2", "mccabe==0.7.0", "platformdirs==4.3.6", "tomlkit==0.13.2"))
    index = stack.enter_context(uvindex.pypiserver_index(extra=tuple(wheels)))
    return {name: dict(tool, venv_requirements=sets[target]["requirements"], venv_compiled=sets[target]["compiled"])
            for name, target in targets.items()}, index


def stage_python_fleet(track: str, ctx: dict) -> None:
    """uv_python across the fleet of stage_fleet (hacking/fleet_python.yml), from real CPython builds.

    tests/utils/pbs.py relocates real interpreters into python-build-standalone's layout (this
    machine's Debian 3.11.2 and pyenv 3.11.7; each Debian 11 root's 3.9.2 for amd64, arm64 and
    i386), each checked on its own host, and writes uv's downloads JSON for each host group. The
    archives are served by uvmirror.py's counting server on 127.0.0.1 (one for the whole fleet:
    its counters are the fleet's egress), uv itself by the uv mirror. The hosts are this machine
    twice (two local hosts, so that controller mode has two hosts needing one archive) and the
    three Debian 11 roots over SSH; the managed Python of the local hosts is the track's
    (3.6 on 2.16). A tripwire proxy (tests/utils/tripwire.py) takes every proxy variable of the
    unprivileged user's uv commands. The same hosts (this machine once) then prove uv_venv on
    the managed Python, with each host's real package set from a pypiserver index
    (python_fleet_venv_index). A platform host that cannot run here is left out and the
    stage ends SKIPPED, naming it.
    """
    import pbs  # pylint: disable=import-outside-toplevel  # tests/utils/pbs.py
    import venvindex  # pylint: disable=import-outside-toplevel  # tests/utils/venvindex.py
    import tripwire  # pylint: disable=import-outside-toplevel  # tests/utils/tripwire.py

    if os.geteuid() != 0:
        raise StageSkipped("needs root (debootstrap, mount, chroot): run the suite as root")
    wait_for_roots(ctx)
    missing = ensure_apt({"debootstrap": "debootstrap", "ssh": "openssh-client", "ssh-keygen": "openssh-client"})
    if missing:
        raise RuntimeError("missing Debian packages: %s" % ", ".join(missing))
    started = time.time()
    root = bullseye.ensure_root(CACHE, log=log)
    skipped = {}
    roots = platform_roots(skipped)
    manifest = pbs.build(("bookworm", "bullseye"))
    log("fleet roots and Python archives ready in %.1f s (%s)" % (time.time() - started, manifest["dir"]))
    path = venv(track)
    all_roots = [root] + list(roots.values())
    finished = False
    try:
        with tempfile.TemporaryDirectory(prefix="uv-pyfleet-") as scratch, contextlib.ExitStack() as stack:
            os.chmod(scratch, 0o755)  # the local hosts' test folders are used by an unprivileged user too
            www = pbs.serve_root(manifest, os.path.join(scratch, "www"))
            pbs_url = stack.enter_context(mirror_server(www))
            pbs.write_jsons(manifest, www, pbs_url)
            trip = tripwire.Tripwire(log=os.path.join(scratch, "tripwire.jsonl")).start()
            stack.callback(trip.stop)
            groups = python_fleet_hosts(manifest, pbs_url)
            venv_sets, venv_index = python_fleet_venv_index(stack, groups)
            remotes = {"bullseye": stack.enter_context(bullseye.ssh_host(root, scratch, log=log))}
            for host, host_root in roots.items():
                address = bullseye.ARCHES[PLATFORM_HOSTS[host]]["address"]
                remotes[host] = stack.enter_context(bullseye.ssh_host(host_root, scratch, address, log=log, name=host))
            hosts = {}
            for name in ("localhost", "localhost2"):
                hosts[name] = dict(groups["bookworm"], ansible_connection="local",
                                   ansible_python_interpreter=find_python(TRACKS[track]["managed"][-1]),
                                   py_root=os.path.join(scratch, name), **venv_sets["bookworm"])
            for host, remote in remotes.items():
                arch = {"amd64": "x86_64", "arm64": "aarch64", "i386": "i686"}[PLATFORM_HOSTS.get(host, "amd64")]
                if arch not in groups:
                    raise RuntimeError("pbs.py built no archive for the %s root" % host)
                hosts[host] = dict(groups[arch], py_root="/tmp/pyfleet-uv-python", **venv_sets[arch],
                                   **{k: v for k, v in remote_host(remote, "", {"libc_family": None,
                                                                                "libc_version": None}).items()
                                      if k.startswith("ansible_")})
            group_vars = {"uv_mirror": stack.enter_context(mirror_server(ctx["mirror"])), "uv_new": UV_NEW,
                          "pbs_url": pbs_url, "pbs_www": www, "pbs_cache": os.path.join(scratch, "controller-cache"),
                          "tripwire_url": trip.url, "dead_proxy": "http://127.0.0.1:9",
                          "venv_index": venv_index.url, "venv_index_stats": venv_index.stats}
            inventory_file = os.path.join(scratch, "inventory.json")
            with open(inventory_file, "w") as handle:
                json.dump({"all": {"vars": group_vars, "hosts": hosts}}, handle, indent=1)
            env = ansible_env(ctx["tree"], {"ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(scratch, "cp")})
            with sshd_logs_on_failure(remotes):
                run([os.path.join(path, "bin", "ansible-playbook"), "-i", inventory_file, "--forks", "5",
                     os.path.join(ROOT, "hacking", "fleet_python.yml")], env=env)
            log("python fleet: uv_venv package sets of %s projects" % ", ".join(
                "%d (%s)" % (len(v["venv_requirements"]), name) for name, v in sorted(venv_sets.items())))
            seen = trip.connections()
            if seen:
                raise RuntimeError("the tripwire proxy saw %d connection(s): %s" % (len(seen), seen[:5]))
        finished = True
    finally:
        check_roots_released("the python fleet", all_roots, finished)
    if skipped:
        raise StageSkipped("the python fleet ran without %s" % "; ".join(
            "%s (%s)" % (host, reason) for host, reason in sorted(skipped.items())))


@contextlib.contextmanager
def debian_distutils(root: str):
    """Debian 11's distutils in a fleet root while the stage runs, purged again afterwards.

    Debian ships distutils apart from its python3.9, and uv cannot use a Python older than
    3.10 without it ("missing `distutils`"), so ``uv venv`` on the roots needs it. The
    packages are the root's own (tests/utils/pbs.py takes them once with the root's apt and
    keeps them in the cache); they are installed with dpkg from outside the playbook, so the
    shared roots stay as they were built.
    """
    import pbs  # pylint: disable=import-outside-toplevel  # tests/utils/pbs.py
    import venvindex  # pylint: disable=import-outside-toplevel  # tests/utils/venvindex.py

    source = pbs.debian_source(root, os.path.basename(root))
    debs = pbs.debian_addons(source, CACHE) if source else []
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
            run([chroot, root, "dpkg", "--purge"] + list(pbs.DEBIAN_ADDONS), stdout=subprocess.DEVNULL)


def stage_config_fleet(track: str, ctx: dict) -> None:
    """uv_config across the fleet of stage_fleet (hacking/fleet_config.yml): uv asks only the index.

    Every host (this machine and the three Debian 11 roots) installs uv from the loopback
    mirror and gets its uv.toml from uv_config, with [[index]] at a real pypiserver that
    also publishes a real ``packaging`` wheel (uvindex.fetch_package). An unprivileged user
    then runs ``uv venv`` and ``uv pip install packaging`` with every proxy variable at a
    tripwire proxy (tests/utils/tripwire.py) and NO_PROXY covering the index's loopback
    address only; the stage fails unless the tripwire saw 0 connections (the playbook
    asserts the index served each host, and a control run with ``--no-config`` trips a
    second tripwire). In the roots the file is their /etc/uv/uv.toml (amd64 also runs the
    read-only /etc/uv case, a read-only bind mount); on this machine it is a file under
    the scratch folder that uv reads through XDG_CONFIG_DIRS, so /etc/uv here is never
    touched. A platform host that cannot run here is left out and the stage ends SKIPPED.
    """
    import tripwire  # pylint: disable=import-outside-toplevel  # tests/utils/tripwire.py

    if os.geteuid() != 0:
        raise StageSkipped("needs root (debootstrap, mount, chroot, setpriv): run the suite as root")
    wait_for_roots(ctx)
    missing = ensure_apt({"debootstrap": "debootstrap", "ssh": "openssh-client", "ssh-keygen": "openssh-client"})
    if missing:
        raise RuntimeError("missing Debian packages: %s" % ", ".join(missing))
    started = time.time()
    root = bullseye.ensure_root(CACHE, log=log)
    skipped = {}
    roots = platform_roots(skipped)
    package = uvindex.fetch_package(CONFIG_PACKAGE)
    log("fleet roots and the %s wheel ready in %.1f s" % (CONFIG_PACKAGE, time.time() - started))
    path = venv(track)
    all_roots = [root] + list(roots.values())
    finished = False
    try:
        with tempfile.TemporaryDirectory(prefix="uv-cfgfleet-") as scratch, contextlib.ExitStack() as stack:
            os.chmod(scratch, 0o755)  # the local host's test folder is used by an unprivileged user too
            trip = tripwire.Tripwire(log=os.path.join(scratch, "tripwire.jsonl")).start()
            stack.callback(trip.stop)
            control = tripwire.Tripwire(log=os.path.join(scratch, "control.jsonl")).start()
            stack.callback(control.stop)
            index = stack.enter_context(uvindex.pypiserver_index(extra=(package,)))
            for host_root in all_roots:
                stack.enter_context(debian_distutils(host_root))
            remotes = {"bullseye": stack.enter_context(bullseye.ssh_host(root, scratch, log=log))}
            for host, host_root in roots.items():
                address = bullseye.ARCHES[PLATFORM_HOSTS[host]]["address"]
                remotes[host] = stack.enter_context(bullseye.ssh_host(host_root, scratch, address, log=log, name=host))
            local_root = os.path.join(scratch, "localhost")
            hosts = {"localhost": {
                "ansible_connection": "local",
                "ansible_python_interpreter": find_python(TRACKS[track]["managed"][-1]),
                "cfg_root": local_root, "cfg_path": os.path.join(local_root, "xdg", "uv", "uv.toml"),
                "cfg_xdg": os.path.join(local_root, "xdg"),
            }}
            no_expect = {"libc_family": None, "libc_version": None}
            for host, remote in remotes.items():
                connection = {k: v for k, v in remote_host(remote, "", no_expect).items() if k.startswith("ansible_")}
                hosts[host] = dict(connection, cfg_root="/tmp/pyfleet-uv-config", cfg_path="/etc/uv/uv.toml",
                                   cfg_xdg="", cfg_readonly=host == "bullseye")
            group_vars = {"uv_mirror": stack.enter_context(mirror_server(ctx["mirror"])), "uv_new": UV_NEW,
                          "cfg_index": index.url, "cfg_index_stats": index.stats, "cfg_package": CONFIG_PACKAGE,
                          "tripwire_url": trip.url, "control_tripwire_url": control.url,
                          "cfg_secret": "pw-fleet-%d" % os.getpid()}
            inventory_file = os.path.join(scratch, "inventory.json")
            with open(inventory_file, "w") as handle:
                json.dump({"all": {"vars": group_vars, "hosts": hosts}}, handle, indent=1)
            env = ansible_env(ctx["tree"], {"ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(scratch, "cp")})
            with sshd_logs_on_failure(remotes):
                out = run([os.path.join(path, "bin", "ansible-playbook"), "-i", inventory_file, "--forks", "5",
                           os.path.join(ROOT, "hacking", "fleet_config.yml")], env=env,
                          capture_output=True, text=True, check=False)
                print(out.stdout + out.stderr, flush=True)
                out.check_returncode()
            if group_vars["cfg_secret"] in out.stdout + out.stderr:
                raise RuntimeError("the test password appears in the playbook's output")
            seen = trip.connections()
            if seen:
                raise RuntimeError("the tripwire proxy saw %d connection(s): %s" % (len(seen), seen[:5]))
            if not control.connections():
                raise RuntimeError("the control run without the file did not reach the control tripwire")
            log("config fleet: %d hosts, tripwire 0 connections, control tripwire %d, index %d requests"
                % (len(hosts), len(control.connections()), uvindex.stats(index.stats)["requests"]))
        finished = True
    finally:
        check_roots_released("the config fleet", all_roots, finished)
    if skipped:
        raise StageSkipped("the config fleet ran without %s" % "; ".join(
            "%s (%s)" % (host, reason) for host, reason in sorted(skipped.items())))


def stage_controller(track: str, ctx: dict) -> None:
    """download_on=controller across a fleet of inventory hosts (hacking/controller.yml).

    Hosts on this machine (local connection, each with its own root), one shared mirror
    whose counters are the fleet's mirror egress, the hosts' module environment pointed
    at a dead proxy, and an index whose yanked newest release is published mid-run.
    """
    path = venv(track)
    hosts = 3
    with tempfile.TemporaryDirectory(prefix="uv-controller-") as scratch, mirror_server(ctx["mirror"]) as url, \
            contextlib.ExitStack() as stack:
        group = {"vars": dict(expected_vars(ctx), uv_mirror=url, uv_cache=os.path.join(scratch, "cache")),
                 "hosts": {}}
        for number in range(1, hosts + 1):
            group["hosts"]["local%d" % number] = {
                "ansible_connection": "local",
                "ansible_python_interpreter": find_python(TRACKS[track]["managed"][-1]),
                "uv_test_root": os.path.join(scratch, "host%d" % number),
            }
        index = controller_index(stack, scratch)
        if index:
            group["vars"].update(index)
        inventory_file = os.path.join(scratch, "inventory.json")
        with open(inventory_file, "w") as handle:
            json.dump({"all": {"children": {"fleet": group}}}, handle, indent=1)
        run([os.path.join(path, "bin", "ansible-playbook"), "-i", inventory_file, "--forks", "5",
             os.path.join(ROOT, "hacking", "controller.yml")], env=ansible_env(ctx["tree"]))


def controller_index(stack, scratch: str) -> dict:
    """The index of hacking/controller.yml: a private copy of uvindex's static ``yanked`` tree.

    Its newest release (0.13.9) is yanked; ``uv_index_publish`` is the command that un-yanks
    it mid-run, in this copy only (the cached tree stays as it is).
    """
    built = os.path.join(uvindex.cache_dir(), "index-static")
    wheels = uvindex.fetch_wheels()
    with uvindex.cache_lock("index-static"):
        uvindex.build_static(built, wheels)
    root = os.path.join(scratch, "index")
    shutil.copytree(os.path.join(built, "yanked"), os.path.join(root, "yanked"), copy_function=os.link)
    page = os.path.join(root, "yanked", "simple", "uv", "index.html")
    os.unlink(page)  # a hard link to the cached page: this run edits its own copy
    shutil.copy(os.path.join(built, "yanked", "simple", "uv", "index.html"), page)
    server = uvindex.StaticServer(root).start()
    stack.callback(server.stop)
    unyank = "import re, sys; p = sys.argv[1]; t = open(p).read(); open(p, 'w').write(re.sub(' data-yanked=\"[^\"]*\"', '', t))"
    return {"uv_index": "http://127.0.0.1:%d/yanked/simple/" % server.server_address[1],
            "uv_index_publish": shlex.join([sys.executable, "-c", unyank, page])}


def stage_adhoc(track: str, ctx: dict) -> None:
    """The acceptance commands: install from a built tarball, ad hoc, short name, ansible-doc."""
    path = venv(track)
    bindir = os.path.join(path, "bin")
    with tempfile.TemporaryDirectory(prefix="uv-adhoc-") as scratch:
        run([os.path.join(bindir, "ansible-galaxy"), "collection", "build", collection_dir(ctx["tree"]),
             "--output-path", scratch])
        tarball = [n for n in os.listdir(scratch) if n.endswith(".tar.gz")][0]
        size = os.path.getsize(os.path.join(scratch, tarball))
        if size > 1024 * 1024:
            raise RuntimeError("the collection tarball is %d bytes: build_ignore is missing something" % size)
        leaked = dev_members(os.path.join(scratch, tarball))
        if leaked:
            raise RuntimeError("development files in the collection tarball (galaxy.yml build_ignore): %s"
                               % ", ".join(leaked[:20]))
        installed = os.path.join(scratch, "collections")
        run([os.path.join(bindir, "ansible-galaxy"), "collection", "install", os.path.join(scratch, tarball),
             "-p", installed])
        env = ansible_env(installed)
        env.pop("ANSIBLE_ROLES_PATH")
        run([os.path.join(bindir, "ansible-doc"), "pyfleet.uv.uv_facts"], env=env, stdout=subprocess.DEVNULL)
        run([os.path.join(bindir, "ansible-doc"), "pyfleet.uv.uv_install"], env=env, stdout=subprocess.DEVNULL)
        out = run([os.path.join(bindir, "ansible"), "-m", "pyfleet.uv.uv_facts", "localhost"], env=env,
                  capture_output=True, text=True)
        print(out.stdout)
        if '"ansible_uv": {' not in out.stdout or '"targets"' not in out.stdout:
            raise RuntimeError("ansible -m pyfleet.uv.uv_facts printed no facts")
        with mirror_server(ctx["mirror"]) as url:
            dest = os.path.join(scratch, "bin")
            args = "version=%s mirror_url=%s/versioned/{version}/ install_dir=%s" % (UV_NEW, url, dest)
            out = run([os.path.join(bindir, "ansible"), "-m", "pyfleet.uv.uv_install", "-a", args, "localhost"],
                      env=env, capture_output=True, text=True)
            print(out.stdout)
            if "CHANGED" not in out.stdout:
                raise RuntimeError("ad hoc uv_install did not report a change")
            # The short name through the one documented setting: ANSIBLE_LIBRARY.
            env["ANSIBLE_LIBRARY"] = os.path.join(installed, "ansible_collections", "pyfleet", "uv", "plugins",
                                                  "modules")
            out = run([os.path.join(bindir, "ansible"), "-m", "uv_install", "-a", args, "localhost"],
                      env=env, capture_output=True, text=True)
            print(out.stdout)
            if "SUCCESS" not in out.stdout or '"changed": false' not in out.stdout:
                raise RuntimeError("short-name uv_install was not an idempotent no-op")
            # Without the action plugin, download_on=controller must refuse, not report a plan.
            out = run([os.path.join(bindir, "ansible"), "-m", "uv_install", "-a",
                       "%s install_dir=%s download_on=controller" % (args.rsplit(" install_dir=", 1)[0],
                                                                     os.path.join(scratch, "bin-no-action")),
                       "localhost"], env=env, capture_output=True, text=True, check=False)
            if out.returncode == 0 or "needs the collection's action plugin" not in out.stdout:
                raise RuntimeError("short-name download_on=controller without the action plugin did not refuse:\n"
                                   + out.stdout[-2000:])
            # The short name with the action plugins as well (README, "The short name"):
            # download_on=controller must really install, with the file from the controller.
            env["ANSIBLE_ACTION_PLUGINS"] = os.path.join(installed, "ansible_collections", "pyfleet", "uv",
                                                         "plugins", "action")
            env["XDG_CACHE_HOME"] = os.path.join(scratch, "cache")
            dest = os.path.join(scratch, "bin-controller")
            out = run([os.path.join(bindir, "ansible"), "-m", "uv_install", "-a",
                       "%s install_dir=%s download_on=controller" % (args.rsplit(" install_dir=", 1)[0], dest),
                       "localhost"], env=env, capture_output=True, text=True)
            print(out.stdout)
            if "CHANGED" not in out.stdout or '"download_on": "controller"' not in out.stdout \
                    or not os.access(os.path.join(dest, "uv"), os.X_OK):
                raise RuntimeError("short-name uv_install with the action plugins did not install from the controller")


def stage_adversarial(track: str, ctx: dict) -> None:
    """Faults, hostile mirrors and bad input against real ansible runs (tests/adversarial).

    The cases run on two pytest-xdist workers: each case has its own tmp_path, install_dir,
    loopback servers on free ports and tmpfs mounts, and each worker its own session
    fixtures (mirror tree, servers). ``--basetemp`` is short on purpose: ansible-core's
    local RPC server binds a Unix socket under TMPDIR (a case's tmp_path), and the longer
    default path of an xdist worker passes the 108-byte limit of a socket path.
    """
    path = venv(track)
    env = ansible_env(ctx["tree"], {
        "PATH": os.path.join(path, "bin") + os.pathsep + os.environ.get("PATH", ""),
        "PYFLEET_UV_MIRROR": ctx["mirror"],
    })
    env.pop("ANSIBLE_ROLES_PATH")
    with tempfile.TemporaryDirectory(prefix="uv-adv-", ignore_cleanup_errors=True) as scratch:
        run([os.path.join(path, "bin", "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
             "-n", "2", "--basetemp", os.path.join(scratch, "t"), "--durations=10",
             os.path.join(collection_dir(ctx["tree"]), "tests", "adversarial")], env=env, cwd=ctx["tree"])


def stage_bench_smoke(track: str, ctx: dict) -> None:
    """A quick run of benchmarks/run.py so that it never rots. Its figures are not judged; uv_venv's
    correctness is: what it reports after a fresh install, on the no-op, on a real change and in
    check mode (the run's venv_correctness_uv_venv note), and no index request on the pinned no-op."""
    with tempfile.TemporaryDirectory(prefix="uv-bench-smoke-") as scratch:
        out = os.path.join(scratch, "smoke.json")
        run([sys.executable, os.path.join(ROOT, "benchmarks", "run.py"), "--quick", "--json", out])
        with open(out) as handle:
            data = json.load(handle)
    report = data["notes"].get("venv_correctness_uv_venv")
    requests = data["results"].get("venv_pinned_noop_uv_venv_requests", {})
    if not report or "wrong" not in report:
        raise SystemExit("bench-smoke: no uv_venv correctness report (%r; %r)"
                         % (report, data["results"].get("venv_fresh_install_uv_venv_s")))
    if report["wrong"]:
        raise SystemExit("bench-smoke: uv_venv reported wrongly: %s (%s)"
                         % (", ".join(report["wrong"]), json.dumps(report)))
    if requests.get("max") != 0:
        raise SystemExit("bench-smoke: uv_venv's pinned no-op asked the index: %r" % (requests,))
    print("bench-smoke: uv_venv correctness %s; pinned no-op index requests 0" % json.dumps(report))


# -- ecosystem checks: ansible-lint, galaxy-importer, ansible-test alone, execution environment

# Tool virtual environments beside the tracks, each with its own pins, so that a tool's own
# ansible-core never moves a track's. A "-r FILE" pair installs a requirements file of the
# checkout, and the venv is keyed by that file's contents too.
TOOLS = {
    "lint": {"python": "3.12", "requirements": ["ansible-lint", "antsibull-changelog"]},
    "importer": {"python": "3.12", "requirements": ["galaxy-importer"]},
    "ee": {"python": "3.12", "requirements": ["ansible-builder", "ansible-runner", "ansible-core",
                                              "-r", os.path.join(ROOT, "requirements.txt")]},
    # What `antsibull-docs sphinx-init` lists in the site's requirements.txt, plus a core.
    "docs": {"python": "3.12", "requirements": ["antsibull-docs>=2.0.0,<3.0.0", "ansible-pygments", "sphinx",
                                                "sphinx-ansible-theme>=0.9.0", "ansible-core"]},
}

# Development paths that must never reach the Galaxy tarball (galaxy.yml's build_ignore).
DEV_PATHS = ("hacking/", "benchmarks/", ".ci/", ".github/", ".cache/", ".venv/", ".pytest_cache/",
             "tests/output/", "docs/build/", "docs/_build/", "docs/docsite/build/", "docs/docsite/_build/",
             ".ansible-lint", "ansible.cfg", ".ansible/", ".gitignore", "changelogs/.plugin-cache.yaml")

# galaxy-importer as Galaxy runs it, minus what needs the network or containers:
# ansible-test sanity runs in its own stage (sanity-newest); ansible-lint stays offline.
GALAXY_IMPORTER_CFG = """[galaxy-importer]
LOG_LEVEL_MAIN = INFO
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_DOC = True
RUN_ANSIBLE_LINT = True
OFFLINE_ANSIBLE_LINT = True
RUN_FLAKE8 = False
CHECK_CHANGELOG = True
CHECK_REQUIRED_TAGS = False
"""


def tool_venv(name: str) -> str:
    """The virtual environment of a tool in TOOLS, made once per set of requirements."""
    spec = TOOLS[name]
    python = find_python(spec["python"])
    requirements = spec["requirements"]
    key_data = [python, requirements]
    for flag, value in zip(requirements, requirements[1:]):
        if flag == "-r":
            with open(value, "rb") as handle:
                key_data.append(hashlib.sha256(handle.read()).hexdigest())
    key = hashlib.sha256(json.dumps(key_data).encode()).hexdigest()[:12]
    path = os.path.join(CACHE, "venvs", "tool-%s-%s" % (name, key))
    with uvindex.cache_lock("suite-venv-tool-%s-%s" % (name, key)):  # stages and suite runs side by side
        if not os.path.exists(os.path.join(path, ".complete")):
            shutil.rmtree(path, ignore_errors=True)
            run([python, "-m", "venv", path])
            run([os.path.join(path, "bin", "python"), "-m", "pip", "install", "--quiet"] + requirements)
            open(os.path.join(path, ".complete"), "w").close()
    log_freeze(path)
    return path


def tool_env(path: str, extra=None) -> dict:
    """The environment for a tool venv: its bin first on PATH, no ANSIBLE_* from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update({"PATH": os.path.join(path, "bin") + os.pathsep + os.environ.get("PATH", ""),
                "NO_COLOR": "1", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"})
    env.update(extra or {})
    return env


@contextlib.contextmanager
def private_tree(ctx: dict):
    """A private copy of the ansible_collections tree for one stage; yields its top; removed after.

    The shared copy (collection_tree) is made anew by every suite run, so a long stage
    working in it would lose its files to a run started beside it.
    """
    with tempfile.TemporaryDirectory(prefix="uv-tree-") as top:
        shutil.copytree(os.path.join(ctx["tree"], "ansible_collections"), os.path.join(top, "ansible_collections"),
                        ignore=shutil.ignore_patterns("output", "__pycache__"))
        yield top


def build_tarball(bindir: str, coll: str, dest: str) -> str:
    """``ansible-galaxy collection build`` of ``coll`` into ``dest``; returns the tarball's path."""
    run([os.path.join(bindir, "ansible-galaxy"), "collection", "build", coll, "--output-path", dest],
        stdout=subprocess.DEVNULL)
    return os.path.join(dest, [n for n in os.listdir(dest) if n.endswith(".tar.gz")][0])


def dev_members(tarball: str) -> list:
    """Members of a collection tarball that are development files (see DEV_PATHS)."""
    import tarfile

    with tarfile.open(tarball) as archive:
        names = [m.name[2:] if m.name.startswith("./") else m.name for m in archive.getmembers()]
    return sorted(n for n in names
                  if any(n == p.rstrip("/") or n.startswith(p) for p in DEV_PATHS)
                  or "__pycache__" in n.split("/") or n.endswith(".pyc"))


def lint_collection(bindir: str, top: str) -> None:
    """antsibull-changelog lint and hacking/release_hygiene.py on the tree at ``top``."""
    coll = collection_dir(top)
    env = tool_env(os.path.dirname(bindir), {"ANSIBLE_COLLECTIONS_PATH": top})
    run([os.path.join(bindir, "antsibull-changelog"), "lint"], cwd=coll, env=env)
    run([os.path.join(bindir, "antsibull-changelog"), "lint-changelog-yaml",
         os.path.join("changelogs", "changelog.yaml")], cwd=coll, env=env)
    run([os.path.join(bindir, "python"), os.path.join(coll, "hacking", "release_hygiene.py"), coll], env=env)


# What a clean ansible-lint run prints: its one summary line (on stderr), nothing else.
ANSIBLE_LINT_PASSED = re.compile(r"^Passed: 0 failure\(s\), 0 warning\(s\) in \d+ files processed of \d+ encountered\. "
                                 r"Profile 'production' was required, and it passed\.$")


def plain_clone(dest: str) -> str:
    """A ``git clone`` of the checkout at ``dest`` (an ordinary folder name), with the work tree's
    uncommitted state laid over it (changed and untracked files copied, deleted ones removed), so
    that the stage lints what is in the work tree the way a contributor's clone holds it."""
    run(["git", "clone", "--quiet", "--no-hardlinks", ROOT, dest])
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source, target = os.path.join(ROOT, name), os.path.join(dest, name)
        if os.path.isfile(source):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(source, target)
        elif os.path.lexists(target):  # deleted in the work tree, not yet committed
            os.remove(target)
    return dest


def lint_run(bindir: str, clone: str, env: dict, extra: list) -> tuple:
    """One ``ansible-lint --profile production`` run in ``clone``; ``(exit, summaries, tolerated, findings)``."""
    out = run([os.path.join(bindir, "ansible-lint"), "--profile", "production", "--nocolor"] + extra,
              cwd=clone, env=env, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    summaries, tolerated, findings = lint_output.classify(out.stdout, os.path.dirname(bindir), clone,
                                                          ANSIBLE_LINT_PASSED)
    if tolerated:
        log("ansible-lint %s: %s" % (" ".join(extra) or "(online)",
                                     lint_output.describe_tolerated(tolerated, os.path.dirname(bindir))))
    return out.returncode, summaries, tolerated, findings, out.stdout


# A finding the canary run must report: a task of ours without a name that runs a command.
LINT_CANARY = """
- name: Lint canary (the lint stage checks that a finding about our content fails it)
  hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.command: echo canary
"""


def lint_plain(bindir: str) -> None:
    """``ansible-lint --profile production`` as a contributor runs it: in a fresh clone whose folder is
    not ansible_collections/pyfleet/uv, from its root, with no ANSIBLE_* variable set; then
    ``--offline`` in the same clone. pyfleet.uv.* must resolve through the repository's own
    .ansible-lint and ansible.cfg. Any output besides the one summary line fails, except Python
    deprecation warnings raised at import inside the lint venv itself (hacking/lint_output.py says
    which lines those are; they are logged with the versions that raised them), and the clone's
    git status must be the same afterwards (what ansible-lint writes is git-ignored). Last, a
    canary: a playbook of ours with a nameless command task must come out as a finding.

    The daily JSON schema refresh of an online run is switched off (ANSIBLE_LINT_SKIP_SCHEMA_UPDATE):
    it would ask a host this machine must not contact; it is not part of resolving the collection.
    """
    with tempfile.TemporaryDirectory(prefix="uv-lint-") as scratch:
        clone = plain_clone(os.path.join(scratch, "pyfleet-uv"))
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=clone,
                                capture_output=True, text=True, check=True).stdout
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "NO_COLOR", "FORCE_COLOR"))}
        env.update({"PATH": bindir + os.pathsep + os.environ.get("PATH", ""), "ANSIBLE_LINT_SKIP_SCHEMA_UPDATE": "1"})
        for extra in ([], ["--offline"]):
            started = time.time()
            code, summaries, _tolerated, findings, text = lint_run(bindir, clone, env, extra)
            if code or findings or len(summaries) != 1:
                print(text[-8000:])
                raise RuntimeError("ansible-lint %s in a plain clone (exit %d) printed %d line(s) besides its summary "
                                   "and the tolerated dependency warnings: %s"
                                   % (" ".join(extra) or "(online)", code, len(findings), "; ".join(findings[:5])[:1500]))
            log("ansible-lint %s in a plain clone: clean in %.1f s (%s)" % (
                " ".join(extra) or "(online)", time.time() - started, summaries[0]))
        after = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=clone,
                               capture_output=True, text=True, check=True).stdout
        if after != status:
            raise RuntimeError("ansible-lint left files that git does not ignore in the clone:\n%s" % after)
        canary = os.path.join(clone, "hacking", "lint_canary.yml")
        with open(canary, "w") as handle:
            handle.write("---" + LINT_CANARY)
        code, _summaries, _tolerated, findings, text = lint_run(bindir, clone, env, ["--offline", canary])
        if not code or not any("lint_canary.yml" in line for line in findings):
            print(text[-8000:])
            raise RuntimeError("the lint canary was not reported as a finding (exit %d; findings: %s): the stage "
                               "would let a new finding about our content pass" % (code, "; ".join(findings[:5])))
        log("ansible-lint canary: reported as it must be (exit %d, %d finding line(s))" % (code, len(findings)))


def stage_lint(track: str, ctx: dict) -> None:
    """ansible-lint --profile production in a plain clone, changelog lint and hygiene, galaxy-importer.

    ansible-lint runs as a contributor runs it (see lint_plain): a fresh clone under an ordinary
    folder name, nothing in the environment, online (ansible-lint installs the checkout into its
    .ansible/ project cache itself; nothing is fetched) and then --offline. The changelog checks
    run on the ansible_collections/pyfleet/uv copy. galaxy-importer imports the built tarball as
    Galaxy would (ansible-doc, ansible-lint, changelog, metadata) and any warning it prints fails
    the stage.
    """
    lint = tool_venv("lint")
    bindir = os.path.join(lint, "bin")
    lint_plain(bindir)
    with private_tree(ctx) as top:
        lint_collection(bindir, top)
    importer = tool_venv("importer")
    with private_tree(ctx) as top, tempfile.TemporaryDirectory(prefix="uv-importer-") as scratch:
        tarball = build_tarball(bindir, collection_dir(top), scratch)
        config = os.path.join(scratch, "galaxy-importer.cfg")
        with open(config, "w") as handle:
            handle.write(GALAXY_IMPORTER_CFG)
        out = run([os.path.join(importer, "bin", "python"), "-m", "galaxy_importer.main", tarball],
                  env=tool_env(importer, {"GALAXY_IMPORTER_CONFIG": config, "TMPDIR": scratch}),
                  cwd=scratch,  # it writes importer_result.json into the working directory
                  check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(out.stdout)
        _summaries, tolerated, _findings = lint_output.classify(out.stdout, importer, top)
        if tolerated:
            log("galaxy-importer: %s" % lint_output.describe_tolerated(tolerated, importer))
        complaints = [line for line in out.stdout.splitlines()
                      if line.startswith(("WARNING", "ERROR")) and line not in tolerated]
        if out.returncode or complaints:
            raise RuntimeError("galaxy-importer (exit %d): %s" % (out.returncode, "; ".join(complaints)))


def setup_mirror_servers(tree: str) -> set:
    """PIDs of mirror servers that setup_uv_mirror started from the collection copy at ``tree``.

    They run ``<tree>/.../tests/utils/uvmirror.py serve`` with a port file in a
    ``uv-setup-mirror-*`` directory; servers of other copies (other people's runs) do not count.
    """
    mark = os.path.join(tree, "").encode()
    pids = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if any(a.startswith(mark) and a.endswith(b"uvmirror.py") for a in argv) \
                and any(b"uv-setup-mirror-" in a for a in argv):
            pids.add(int(pid))
    return pids


def stage_ansible_test_integration(track: str, ctx: dict) -> None:
    """Every integration target alone under ``ansible-test integration``, as a contributor runs them.

    Nothing of the suite's is passed: setup_uv_mirror (a meta dependency of each target)
    finds the mirror the suite built in the cache, serves it on 127.0.0.1, probes the host
    for the expected values and stops its server at the end; the stage fails if a server
    was left behind. Each target's ``aliases`` says it runs this way, so each one is run here
    (about 170 s for the six).
    """
    path = venv(track)
    seed_get_pip(path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    with private_tree(ctx) as top:
        try:
            targets = ["uv_facts", "uv_install", "uv_config", "uv_mirror_check", "tool_install", "uv_python", "uv_venv",
                       "uv_tool"]
            run([os.path.join(path, "bin", "ansible-test"), "integration"] + targets
                + ["--python", TRACKS[track]["python"], "--color", "no"], cwd=collection_dir(top), env=env)
        finally:
            deadline = time.time() + 10  # the handler's SIGTERM takes a moment to end the server
            while setup_mirror_servers(top) and time.time() < deadline:
                time.sleep(0.2)
            left = setup_mirror_servers(top)
            for pid in left:  # started from this stage's own copy, so this stage's to stop
                os.kill(pid, signal.SIGTERM)
        if left:
            raise RuntimeError("setup_uv_mirror left its mirror server running (pids %s)" % sorted(left))


def stage_ee(track: str, ctx: dict) -> None:
    """The collection in an execution environment (AWX/AAP), checked without building an image."""
    with private_tree(ctx) as top:
        ee_checks(collection_dir(top), ctx["mirror"])


def ee_checks(coll: str, mirror: str) -> None:
    """The checks of stage_ee on the collection at ``coll``, with the loopback mirror at ``mirror``.

    meta/execution-environment.yml against ansible-builder's version 3 schema;
    ``ansible-builder introspect`` of the installed tarball must list requirements.txt;
    ``ansible-builder create`` writes the build context of an EE holding the tarball, and
    what its galaxy and introspect steps would do is done here on that context; then the
    demo playbook runs through ``ansible-runner run`` (how AWX runs a job) against a
    loopback mirror, with the collection on the collections path.
    """
    ee = tool_venv("ee")
    bindir = os.path.join(ee, "bin")
    python = os.path.join(bindir, "python")
    env = tool_env(ee)
    run([python, "-c", "import sys, yaml\nfrom ansible_builder.ee_schema import validate_schema\n"
         "data = yaml.safe_load(open(sys.argv[1]))\n"
         "assert data.get('version') == 3, 'not the version 3 schema: %r' % data.get('version')\n"
         "validate_schema(data)\n", os.path.join(coll, "meta", "execution-environment.yml")], env=env)
    with open(os.path.join(coll, "requirements.txt")) as handle:
        wanted = [line.split("#")[0].strip() for line in handle if line.split("#")[0].strip()]
    with tempfile.TemporaryDirectory(prefix="uv-ee-") as scratch:
        definition = os.path.join(scratch, "definition")
        os.makedirs(definition)
        tarball = build_tarball(bindir, coll, definition)
        name = os.path.basename(tarball)
        installed = os.path.join(scratch, "collections")
        run([os.path.join(bindir, "ansible-galaxy"), "collection", "install", tarball, "-p", installed],
            env=env, stdout=subprocess.DEVNULL)
        out = run([os.path.join(bindir, "ansible-builder"), "introspect", installed], env=env,
                  capture_output=True, text=True)
        print(out.stdout)
        listed = r"^- '?%s\s+# from collection pyfleet\.uv"
        missing = [r for r in wanted if not re.search(listed % re.escape(r), out.stdout, re.MULTILINE)]
        if missing:
            raise RuntimeError("ansible-builder introspect does not list %s for pyfleet.uv" % ", ".join(missing))
        # What a fleet team writes to build its EE with this collection (the base image is
        # never pulled: only the build context is made).
        with open(os.path.join(definition, "execution-environment.yml"), "w") as handle:
            handle.write(
                "---\nversion: 3\nimages:\n  base_image:\n    name: registry.invalid/ee-minimal:latest\n"
                "dependencies:\n  ansible_core:\n    package_pip: ansible-core\n"
                "  ansible_runner:\n    package_pip: ansible-runner\n"
                "  galaxy:\n    collections:\n      - name: collections/%s\n        type: file\n"
                "additional_build_files:\n  - src: %s\n    dest: collections\n" % (name, name))
        context = os.path.join(scratch, "context")
        run([os.path.join(bindir, "ansible-builder"), "create", "-f",
             os.path.join(definition, "execution-environment.yml"), "-c", context, "--output-filename",
             "Containerfile"], env=env, stdout=subprocess.DEVNULL)
        build = os.path.join(context, "_build")
        for needed in ("Containerfile", os.path.join("_build", "requirements.yml"),
                       os.path.join("_build", "collections", name), os.path.join("_build", "scripts", "introspect.py")):
            if not os.path.isfile(os.path.join(context, needed)):
                raise RuntimeError("ansible-builder create made no %s" % needed)
        # The image's galaxy stage (collection install from the context) and its
        # introspection step, run here on the context.
        image_collections = os.path.join(scratch, "image-collections")
        run([os.path.join(bindir, "ansible-galaxy"), "collection", "install", "-r", "requirements.yml",
             "-p", image_collections], cwd=build, env=env, stdout=subprocess.DEVNULL)
        pip_file = os.path.join(scratch, "image-requirements.txt")
        run([python, os.path.join(build, "scripts", "introspect.py"), "introspect", "--write-pip", pip_file,
             image_collections], env=env, stdout=subprocess.DEVNULL)
        with open(pip_file) as handle:
            image_requirements = handle.read()
        missing = [r for r in wanted if not re.search(r"^%s\b" % re.escape(r), image_requirements, re.MULTILINE)]
        if missing:
            raise RuntimeError("the EE build would not install %s: %s" % (", ".join(missing), image_requirements))
        # The demo playbook through ansible-runner, as AWX runs a job.
        private = os.path.join(scratch, "runner")
        for sub in ("project", "inventory", "env"):
            os.makedirs(os.path.join(private, sub))
        shutil.copy(os.path.join(coll, "hacking", "demo.yml"), os.path.join(private, "project", "demo.yml"))
        with open(os.path.join(private, "inventory", "hosts"), "w") as handle:
            handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % python)
        with open(os.path.join(private, "env", "envvars"), "w") as handle:
            json.dump({"ANSIBLE_COLLECTIONS_PATH": image_collections, "ANSIBLE_NOCOLOR": "1"}, handle)
        install_dir = os.path.join(scratch, "bin")
        with mirror_server(mirror) as url:
            with open(os.path.join(private, "env", "extravars"), "w") as handle:
                json.dump({"uv_mirror": url, "uv_version": UV_NEW, "uv_install_dir": install_dir}, handle)
            run([os.path.join(bindir, "ansible-runner"), "run", private, "-p", "demo.yml", "--ident", "demo"],
                env=env)
        artifacts = os.path.join(private, "artifacts", "demo")
        with open(os.path.join(artifacts, "status")) as handle:
            status = handle.read().strip()
        changed = {}
        for event_file in os.listdir(os.path.join(artifacts, "job_events")):
            with open(os.path.join(artifacts, "job_events", event_file)) as handle:
                event = json.load(handle)
            if event.get("event") == "runner_on_ok":
                changed[event["event_data"]["task"]] = event["event_data"]["res"].get("changed")
        if status != "successful" or changed.get("Install uv") is not True or changed.get("Install uv again") is not False:
            raise RuntimeError("ansible-runner demo: status %s, changed per task %s" % (status, changed))
        version = run([os.path.join(install_dir, "uv"), "--version"], capture_output=True, text=True).stdout
        if not version.startswith("uv %s" % UV_NEW):
            raise RuntimeError("the uv installed through ansible-runner says %r" % version)
        log("ansible-runner demo: %s; %s" % (status, version.strip()))


# Labels that the generated plugin pages point at in the Ansible docs (module_defaults,
# action plugins, ansible.builtin.get_url, ...): only intersphinx could resolve them, and the
# site is built offline without it. Exactly these are let through; any other dangling
# reference (one of the guides', a typo) still fails the build.
ANSIBLE_DOCS_LABELS = ("ansible_configuration_settings", "action_plugins", "common_return_values",
                       "ansible_collections.ansible.builtin.get_url_module",
                       "ansible_collections.ansible.builtin.file_module",
                       "ansible_collections.ansible.builtin.pip_module",
                       "ansible_collections.ansible.builtin.copy_module",
                       "ansible_collections.ansible.builtin.setup_module")
SPHINX_OFFLINE_CONF = """
# Appended by hacking/suite.py (docs stage): built offline, so no intersphinx at all.
extensions = [name for name in extensions if name != 'sphinx.ext.intersphinx']
intersphinx_mapping = {}
nitpick_ignore = [('std:ref', label) for label in %r]
"""


def stage_docs(track: str, ctx: dict) -> None:
    """The docs site: antsibull-docs lint, an offline Sphinx build, and the guides' examples run.

    ``antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs`` on the collection; the collection
    built and installed from its tarball (so the docs that ship are the ones checked);
    ``antsibull-docs sphinx-init --use-current`` and its build.sh (Sphinx with warnings as
    errors) with intersphinx removed and every proxy variable pointing at a tripwire on
    127.0.0.1 (a connection to it fails the stage); then hacking/docs_examples.py checks every
    YAML block of docs/docsite/rst and README.md with this track's ansible-core against the
    loopback mirror and a pypiserver index (the environments guide's against tests/utils/venvindex.py's
    index of small real packages), and the Python guide's against real CPython
    archives (tests/utils/pbs.py's ``docs`` set: this machine's pyenv 3.12 and 3.13 builds,
    with its docs.json) served on 127.0.0.1 too, with uv 0.13.8 from the mirror.
    """
    import tarfile  # pylint: disable=import-outside-toplevel
    import docs_examples  # pylint: disable=import-outside-toplevel  # hacking/docs_examples.py
    import pbs  # pylint: disable=import-outside-toplevel  # tests/utils/pbs.py
    import venvindex  # pylint: disable=import-outside-toplevel  # tests/utils/venvindex.py

    docs = tool_venv("docs")
    bindir = os.path.join(docs, "bin")
    with private_tree(ctx) as top, tempfile.TemporaryDirectory(prefix="uv-docs-") as scratch:
        coll = collection_dir(top)
        started = time.time()
        # --check-extra-docs-refs: the guides' :ansplugin:/:ansopt:/:ansretval: must name real plugins and options.
        run([os.path.join(bindir, "antsibull-docs"), "lint-collection-docs", "--plugin-docs", "--check-extra-docs-refs",
             "."], cwd=coll,
            env=tool_env(docs, {"ANSIBLE_COLLECTIONS_PATH": top}))
        log("antsibull-docs lint-collection-docs: clean in %.1f s" % (time.time() - started))
        installed = os.path.join(scratch, "collections")
        run([os.path.join(bindir, "ansible-galaxy"), "collection", "install",
             build_tarball(bindir, coll, scratch), "-p", installed], env=tool_env(docs), stdout=subprocess.DEVNULL)
        rst = os.path.join(collection_dir(installed), "docs", "docsite", "rst")
        if not os.path.isfile(os.path.join(collection_dir(installed), "docs", "docsite", "extra-docs.yml")):
            raise RuntimeError("the installed collection has no docs/docsite/extra-docs.yml")
        site = os.path.join(scratch, "site")
        os.mkdir(site, 0o700)  # antsibull-docs wants a directory only its owner can write
        env = tool_env(docs, {"ANSIBLE_COLLECTIONS_PATH": installed})
        run([os.path.join(bindir, "antsibull-docs"), "sphinx-init", "--use-current", "--fail-on-error",
             "--dest-dir", site, "pyfleet.uv"], env=env, stdout=subprocess.DEVNULL)
        with open(os.path.join(site, "conf.py"), "a") as handle:
            handle.write(SPHINX_OFFLINE_CONF % (ANSIBLE_DOCS_LABELS,))
        started = time.time()
        with docs_examples.Tripwire() as tripwire:
            out = run(["bash", os.path.join(site, "build.sh")], env=dict(env, **tripwire.env()), check=False,
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(out.stdout[-6000:])
        if out.returncode:
            raise RuntimeError("the Sphinx build failed (exit %d), see the output above" % out.returncode)
        if tripwire.hits:
            raise RuntimeError("the docs build tried to reach the network (%d connection(s) to the proxy tripwire)"
                               % tripwire.hits)
        html = os.path.join(site, "build", "html", "collections", "pyfleet", "uv")
        guides = sorted(n[:-4] for n in os.listdir(rst) if n.endswith(".rst"))
        missing = [g for g in guides if not os.path.isfile(os.path.join(html, "docsite", g + ".html"))]
        with open(os.path.join(html, "index.html")) as handle:
            index_page = handle.read()
        missing += ["a link to %s on the collection page" % g for g in guides if "docsite/%s.html" % g not in index_page]
        if missing:
            raise RuntimeError("the built site lacks %s" % ", ".join(missing))
        log("Sphinx site built offline in %.1f s: %d guides, no connection attempted" % (
            time.time() - started, len(guides)))
        manifest = pbs.build(("docs",))
        if sorted(a["series"] for a in manifest["archives"]) != sorted(pbs.DOCS_SERIES):
            raise RuntimeError("pbs.py found no pyenv build of each of %s for the Python guide (it built %s)"
                               % (", ".join(pbs.DOCS_SERIES), [a["key"] for a in manifest["archives"]]))
        www = pbs.serve_root(manifest, os.path.join(scratch, "pbs"))
        uv = os.path.join(scratch, "uv-bin", "uv")
        os.makedirs(os.path.dirname(uv))
        with tarfile.open(os.path.join(ctx["mirror"], "versioned", UV_NEW, "uv-x86_64-unknown-linux-gnu.tar.gz")) as tar, \
                open(uv, "wb") as handle:
            handle.write(tar.extractfile("uv-x86_64-unknown-linux-gnu/uv").read())
        os.chmod(uv, 0o755)
        with mirror_server(ctx["mirror"]) as url, uvindex.indexes(("pypiserver",)) as indexes, \
                mirror_server(www) as pbs_url, venvindex.static_index(venvindex.fetch()) as (venv_index, _count):
            pbs.write_jsons(manifest, www, pbs_url)  # docs.json only
            index = indexes["pypiserver"]
            config = {"ansible_bin": os.path.join(venv(track), "bin"), "collections": installed,
                      "python": find_python(TRACKS[track]["managed"][-1]), "mirror": url,
                      "index": index.url, "index_auth": index.auth_url,
                      "index_username": index.username, "index_password": index.password,
                      "pbs": pbs_url, "uv": uv, "venv_index": venv_index}
            config_file = os.path.join(scratch, "examples.json")
            with open(config_file, "w") as handle:
                json.dump(config, handle)
            started = time.time()
            run([os.path.join(venv(track), "bin", "python"), os.path.join(coll, "hacking", "docs_examples.py"),
                 "check", "--rst", rst, "--markdown", os.path.join(collection_dir(installed), "README.md"),
                 "--config", config_file])
            log("the guides' examples passed in %.1f s" % (time.time() - started))


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


def all_stage_names() -> list:
    return ["%s-%s" % (stage, track) for track in TRACKS for stage in TRACK_STAGES[track]]


# The order in which the scheduler starts stages when it has a free slot (``--jobs``, default 2):
# each track's sanity first (ansible-test --requirements may install into the track's venv, so
# no other stage of that track runs beside it), then the fleet stages, a chain that cannot
# overlap (one set of Debian 11 roots and sshd addresses) and so must start early, then the
# rest longest first. Stages left out of this list start last, in --list order.
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
        argv = [sys.executable, os.path.abspath(__file__), "test", "--stage", name,
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


def demo_material(out: dict) -> None:
    """What the demo's later steps need, into ``out``: the wheels of venvindex's packages and a
    python-build-standalone style archive of this machine's Debian interpreter (tests/utils/pbs.py).
    Built beside the venv and the mirror (a thread), both cached."""
    import pbs  # pylint: disable=import-outside-toplevel  # tests/utils/pbs.py
    import venvindex  # pylint: disable=import-outside-toplevel  # tests/utils/venvindex.py

    try:
        out["wheels"] = venvindex.fetch()
        source = pbs.debian_source("/", "demo")
        if source is None:
            raise RuntimeError("no Debian python3.X package on this machine to make the demo's Python archive from")
        # uv's interpreter query needs distutils below 3.10 only (Debian ships it apart).
        series = tuple(int(p) for p in source["series"].split("."))
        source["addons"] = pbs.debian_addons(source, CACHE) if series < (3, 10) else []
        out["pbs"] = pbs.build(("demo",), sources=[source], hostile=False)
    except Exception as exc:  # pylint: disable=broad-exception-caught  # reported by the caller
        out["error"] = exc


def cmd_demo(_args) -> int:
    """The main job: build the mirror, serve it on loopback, install uv with a real playbook
    twice, then (hacking/demo.yml's second play) the uv.toml for a loopback index, a Python from
    loopback archives and an environment with packages, each step twice, the last one used by
    another user when run as root."""
    import pbs  # pylint: disable=import-outside-toplevel  # tests/utils/pbs.py
    import venvindex  # pylint: disable=import-outside-toplevel  # tests/utils/venvindex.py

    started = time.time()
    material: dict = {}
    builder = threading.Thread(target=demo_material, args=(material,), daemon=True)
    builder.start()
    path = venv("newest")
    mirror = build_mirror()
    top = collection_tree()
    builder.join()
    if "error" in material:
        raise RuntimeError("demo: %s" % material["error"])
    manifest = material["pbs"]
    archive = manifest["archives"][0]
    with tempfile.TemporaryDirectory(prefix="uv-demo-") as scratch, contextlib.ExitStack() as stack:
        os.chmod(scratch, 0o755)  # another user runs the environment's Python
        url = stack.enter_context(mirror_server(mirror))
        index, counter = stack.enter_context(venvindex.static_index(material["wheels"]))
        www = pbs.serve_root(manifest, os.path.join(scratch, "www"))
        pbs_url = stack.enter_context(mirror_server(www))
        jsons = pbs.write_jsons(manifest, www, pbs_url)
        config_dirs = os.path.join(scratch, "xdg")
        playbook = os.path.join(ROOT, "hacking", "demo.yml")
        extra = {"uv_mirror": url, "uv_version": UV_NEW, "uv_install_dir": os.path.join(scratch, "bin"),
                 "ansible_python_interpreter": sys.executable, "demo_root": scratch, "demo_index": index,
                 "demo_config": os.path.join(config_dirs, "uv", "uv.toml"), "demo_python": archive["version"],
                 "demo_python_json": "%s/%s" % (pbs_url, os.path.basename(jsons["demo"])),
                 "demo_unprivileged": os.geteuid() == 0}
        # uv reads its system uv.toml from $XDG_CONFIG_DIRS/uv/uv.toml first: the demo's stays in scratch.
        run([os.path.join(path, "bin", "ansible-playbook"), "-i", "localhost,", "-c", "local", playbook,
             "-e", json.dumps(extra)], env=ansible_env(top, {"XDG_CONFIG_DIRS": config_dirs}))
        asked = sorted({p.split("/")[2] for p in counter.paths if p.startswith("/simple/")})
        if "six" not in asked:
            raise RuntimeError("the environment's packages did not come from the index in the demo's uv.toml "
                               "(it was asked for %s)" % (asked or "nothing"))
        log("the loopback index served %d request(s), for %s" % (len(counter.paths), ", ".join(asked)))
    log("demo finished in %.0f s" % (time.time() - started))
    return 0


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


if __name__ == "__main__":
    sys.exit(main())
