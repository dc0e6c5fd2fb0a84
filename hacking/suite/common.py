# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every stage shares: the tracks, logging and processes, the venvs, the tree copy, the mirror.

The tracks' and the tools' virtual environments (cached under ~/.cache/pyfleet-uv, keyed by
their requirements, built under a lock), ansible-test's pip bootstrap (``seed_get_pip``), the
real ``ansible_collections/pyfleet/uv`` copy of the checkout, the loopback mirror and its
server, and the variables that describe this machine to the integration targets.
"""

from __future__ import annotations

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
import tempfile
import time

# hacking/ (bullseye.py, lint_output.py, docs_examples.py) and tests/utils (uvindex.py, uvmirror.py,
# pbs.py, venvindex.py, tripwire.py) are where the stages import their helpers from.
HACKING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _path in (os.path.join(os.path.dirname(HACKING), "tests", "utils"), HACKING):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import bullseye  # noqa: E402  hacking/bullseye.py: the Debian 11 managed host of the fleet stage
import uvindex_wheels  # noqa: E402  tests/utils/uvindex_wheels.py: the cache lock of the index servers' venvs, ours too
import uvmirror  # noqa: E402  tests/utils/uvmirror.py: the loopback mirror (its TOOLS: ruff's and ty's versions)


ROOT = os.path.dirname(HACKING)


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
    with uvindex_wheels.cache_lock("suite-venv-%s-%s" % (track, key)):  # stages and suite runs side by side
        if not os.path.exists(os.path.join(path, ".complete")):
            started = time.time()
            shutil.rmtree(path, ignore_errors=True)
            run([python, "-m", "venv", path])
            run([os.path.join(path, "bin", "python"), "-m", "pip", "install", "--quiet"] + spec["requirements"])
            open(os.path.join(path, ".complete"), "w").close()
            log("cold cost: venv %s built in %.1f s" % (os.path.basename(path), time.time() - started))
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
        '"""Stand-in for get-pip.py, written by pyfleet.uv hacking/suite: ensurepip, then pip."""\n'
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
    started = time.time()
    run([sys.executable, UVMIRROR, "build", "--out", out, "--versions", "%s,%s" % (UV_OLD, UV_NEW)],
        stdout=subprocess.DEVNULL)
    log("the mirror ready in %.1f s (the uv, ruff and ty wheels downloaded once when cold)" % (time.time() - started))
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
    with uvindex_wheels.cache_lock("suite-venv-tool-%s-%s" % (name, key)):  # stages and suite runs side by side
        if not os.path.exists(os.path.join(path, ".complete")):
            started = time.time()
            shutil.rmtree(path, ignore_errors=True)
            run([python, "-m", "venv", path])
            run([os.path.join(path, "bin", "python"), "-m", "pip", "install", "--quiet"] + requirements)
            open(os.path.join(path, ".complete"), "w").close()
            log("cold cost: venv %s built in %.1f s" % (os.path.basename(path), time.time() - started))
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
