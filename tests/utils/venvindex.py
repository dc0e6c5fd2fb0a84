# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real wheels of a few small packages, and loopback indexes that serve them, for uv_venv's tests.

- ``fetch()``: the wheels of ``PACKAGES`` (pure Python; two versions of six and packaging, and
  python-dateutil, which needs six, and flit_core, the build backend of the editable test), downloaded
  once with pip into ``~/.cache/pyfleet-uv/wheels``.
- ``fetch_fleet(targets)``: the python-fleet stage's package set (``FLEET_*``: 25 real projects, 8 with
  extension modules), the compiled ones for each ``(series, arch)`` as manylinux wheels, downloaded
  once with pip into the same cache.
- ``static_index(wheels)``: a PEP 503 tree served by ``http.server`` on 127.0.0.1 that counts
  every request (the unit tests' index; lockindex.hashed_index without the hashes).
- ``serve``: pypiserver (uvindex.pypiserver_index, behind uvindex's counting front, ``GET /_stats``,
  ``POST /_reset``) holding these wheels besides uv's; writes ``{"url", "stats"}`` to ``--portfile``
  and stops on SIGTERM or after ``--lifetime`` seconds (the uv_venv integration target starts it
  when the caller gave no index).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import lockindex  # tests/utils, beside this file (its index, without hashes, is static_index)

PACKAGES = ("six==1.16.0", "six==1.17.0", "python-dateutil==2.9.0.post0", "packaging==24.1", "packaging==24.2",
            "iniconfig==2.0.0", "flit_core==4.1.0")


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "pyfleet-uv")


def _prefix(requirement: str) -> str:
    name, _sep, version = requirement.partition("==")
    return "%s-%s-" % (re.sub(r"[-_.]+", "_", name).lower(), version)


def fetch(packages=PACKAGES, wheels: str | None = None, accept=None) -> list:
    """Paths of the wheels of ``packages`` (``name==version``), each downloaded once: pure-Python ones, or
    those whose file name ``accept`` takes (for example compiled wheels tagged for this interpreter)."""
    accept = accept or (lambda name: name.endswith("-none-any.whl"))
    wheels = wheels or os.path.join(cache_dir(), "wheels")
    os.makedirs(wheels, exist_ok=True)
    out = []
    for requirement in packages:
        prefix = _prefix(requirement)
        found = [n for n in sorted(os.listdir(wheels)) if n.lower().startswith(prefix) and n.endswith(".whl") and accept(n)]
        if not found:
            staging = tempfile.mkdtemp(prefix=".venvindex-", dir=wheels)
            try:
                subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                                "--no-deps", "--only-binary=:all:", "--dest", staging, requirement], check=True)
                found = [n for n in os.listdir(staging) if n.lower().startswith(prefix) and n.endswith(".whl") and accept(n)]
                if len(found) != 1:
                    raise RuntimeError("pip download %s gave %r" % (requirement, os.listdir(staging)))
                os.replace(os.path.join(staging, found[0]), os.path.join(wheels, found[0]))
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        out.append(os.path.join(wheels, found[0]))
    return out


# The python-fleet stage's package set (hacking/fleet_python.yml): 25 real projects pinned as a
# lock file pins them, dependencies included, for CPython 3.9 (the Debian 11 hosts) and 3.11 (this
# machine). FLEET_COMPILED maps each project with CPython extension modules to one of them, which
# the playbook imports to show the compiled wheel was installed. Wheels checked against the
# registry: all of them exist as manylinux wheels for cp39 on x86_64, i686 and aarch64 and for
# cp311 on x86_64, except PyYAML 6.0.2 on i686 (no wheel; FLEET_NO_WHEEL leaves it out there).
FLEET_PURE = ("six==1.16.0", "python-dateutil==2.9.0.post0", "packaging==24.1", "iniconfig==2.0.0",
              "requests==2.32.3", "urllib3==2.2.3", "idna==3.10", "certifi==2024.8.30", "jinja2==3.1.4",
              "attrs==24.2.0", "click==8.1.7", "typing-extensions==4.12.2", "pluggy==1.5.0", "tomli==2.0.2",
              "zipp==3.20.2", "importlib-metadata==8.5.0", "tabulate==0.9.0")
FLEET_COMPILED = {"markupsafe==2.1.5": "markupsafe._speedups", "charset-normalizer==3.4.0": "charset_normalizer.md",
                  "msgpack==1.1.0": "msgpack._cmsgpack", "wrapt==1.16.0": "wrapt._wrappers",
                  "psutil==6.1.0": "psutil._psutil_linux", "frozenlist==1.5.0": "frozenlist._frozenlist",
                  "multidict==6.1.0": "multidict._multidict", "pyyaml==6.0.2": "yaml._yaml"}
FLEET_NO_WHEEL = {("pyyaml==6.0.2", "i686")}
FLEET_UPGRADES = ("six==1.17.0", "packaging==24.2")  # the newer releases on the index (state=latest)
# The manylinux tags the fleet's glibc (2.31 on Debian 11, 2.36 here) loads, newest first.
_MANYLINUX = ("manylinux_2_28", "manylinux_2_17", "manylinux2014", "manylinux_2_12", "manylinux2010",
              "manylinux_2_5", "manylinux1")


def _fits(filename: str, project: str, series: str, arch: str) -> bool:
    """Whether a cached wheel ``filename`` is ``project`` (``name==version``) for CPython ``series`` on ``arch``."""
    parts = filename[:-len(".whl")].split("-")
    if not filename.endswith(".whl") or len(parts) < 5 or _prefix(project) != "%s-%s-" % (parts[0].lower(), parts[1]):
        return False
    pythons, abis, platforms = parts[-3].split("."), parts[-2].split("."), parts[-1].split(".")
    minor = int(series.split(".")[1])
    cpython = "cp3%d" % minor
    python_ok = (cpython in pythons and cpython in abis) or (
        "abi3" in abis and any(p.startswith("cp3") and p[3:].isdigit() and int(p[3:]) <= minor for p in pythons))
    return python_ok and bool(set(platforms) & {"%s_%s" % (tag, arch) for tag in _MANYLINUX})


def fetch_compiled(project: str, series: str, arch: str, wheels: str) -> str:
    """The cached manylinux wheel of ``project`` for CPython ``series`` on ``arch``; downloaded once."""
    os.makedirs(wheels, exist_ok=True)
    found = [n for n in sorted(os.listdir(wheels)) if _fits(n, project, series, arch)]
    if found:
        return os.path.join(wheels, found[0])
    staging = tempfile.mkdtemp(prefix=".venvindex-", dir=wheels)
    try:
        argv = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
                "--only-binary=:all:", "--implementation", "cp", "--python-version", series,
                "--abi", "cp3%s" % series.split(".")[1], "--abi", "abi3", "--dest", staging]
        for tag in _MANYLINUX:
            argv += ["--platform", "%s_%s" % (tag, arch)]
        subprocess.run(argv + [project], check=True)
        got = [n for n in os.listdir(staging) if _fits(n, project, series, arch)]
        if len(got) != 1:
            raise RuntimeError("pip download %s for cp%s %s gave %r" % (project, series, arch, os.listdir(staging)))
        if not os.path.exists(os.path.join(wheels, got[0])):
            os.replace(os.path.join(staging, got[0]), os.path.join(wheels, got[0]))
        return os.path.join(wheels, got[0])
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch_fleet(targets, wheels: str | None = None) -> tuple:
    """The fleet package set for each ``(series, arch)`` of ``targets``: ``(wheel paths, {target: set})``.

    Each set is ``{"requirements": [pins], "compiled": {project: extension module}}``: every pure
    project, and each compiled one that has a wheel for that target. The paths are every wheel
    an index must hold for all targets, the upgrades' too.
    """
    wheels = wheels or os.path.join(cache_dir(), "wheels")
    paths = fetch(FLEET_PURE + FLEET_UPGRADES, wheels)
    sets = {}
    for series, arch in sorted(set(targets)):
        compiled = {p: m for p, m in FLEET_COMPILED.items() if (p, arch) not in FLEET_NO_WHEEL}
        paths += [fetch_compiled(p, series, arch, wheels) for p in compiled]
        sets[(series, arch)] = {"requirements": list(FLEET_PURE) + list(compiled),
                                "compiled": {p.split("==")[0]: m for p, m in compiled.items()}}
    return sorted(set(paths)), sets


@contextlib.contextmanager
def static_index(wheels: list, metadata: bool = False):
    """A PEP 503 index of ``wheels`` on 127.0.0.1 (lockindex's, without hashes); yields ``(simple URL, counter)``.

    ``counter.paths`` lists every request's path, in order; ``counter.reset()`` empties it. ``metadata``
    serves each wheel's core metadata beside it (PEP 658), as the public index does (the benchmarks).
    """
    with lockindex.hashed_index(wheels, hashes=False, metadata=metadata) as index:
        yield index.url, index


def cmd_serve(args) -> int:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import uvindex  # pylint: disable=import-outside-toplevel  # tests/utils

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_a: stop.set())
    signal.signal(signal.SIGINT, lambda *_a: stop.set())
    with uvindex.pypiserver_index(extra=tuple(fetch())) as index:
        data = {"url": index.url, "stats": index.stats, "kind": index.kind, "server_version": index.server_version}
        with open(args.portfile + ".tmp", "w") as handle:
            json.dump(data, handle)
        os.rename(args.portfile + ".tmp", args.portfile)
        deadline = time.time() + args.lifetime
        while not stop.is_set() and time.time() < deadline:
            stop.wait(0.5)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="pypiserver with the packages, until SIGTERM")
    serve.add_argument("--portfile", required=True)
    serve.add_argument("--lifetime", type=float, default=3600)
    sub.add_parser("fetch", help="download the wheels into the cache")
    args = parser.parse_args()
    if args.command == "fetch":
        print("\n".join(fetch()))
        return 0
    return cmd_serve(args)


if __name__ == "__main__":
    sys.exit(main())
