# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real wheels and the server venvs of tests/utils/uvindex.py's package indexes.

The uv wheels (``WHEELS``) and ruff's and ty's (``TOOL_WHEELS``), fetched once with pip into
``~/.cache/pyfleet-uv/wheels`` (shared with uvmirror.py); any other real package
(``fetch_package``); the virtual environments of pypiserver and devpi-server; and the cache lock
that the suite's venvs use too.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import uvmirror  # tests/utils
from uvmirror import cache_dir, sha256_file  # noqa: F401  pylint: disable=unused-import  # uvindex* import them from here


OLD, NEW, YANKED = "0.5.11", "0.13.8", "0.13.9"


# (version, platform tag given to pip download). x86_64 for every version; aarch64, i686
# (the fleet's arm64 and i386 hosts) and a Windows wheel for NEW, so that pages also carry
# wheels a host must pass over.
WHEELS = (
    (OLD, "manylinux2014_x86_64"), (OLD, "musllinux_1_1_x86_64"),
    (NEW, "manylinux2014_x86_64"), (NEW, "musllinux_1_1_x86_64"),
    (NEW, "manylinux_2_28_aarch64"), (NEW, "musllinux_1_1_aarch64"), (NEW, "win_amd64"),
    (NEW, "manylinux2014_i686"), (NEW, "musllinux_1_1_i686"),
    (YANKED, "manylinux2014_x86_64"), (YANKED, "musllinux_1_1_x86_64"),
)


PLAIN_VERSIONS = (OLD, NEW)  # what pypiserver and devpi root/dev hold


# ruff's and ty's wheels on pypiserver and devpi root/dev, from the mirror's table
# (uvmirror.TOOLS: the same wheels its archives are made of): both versions of each for
# x86_64, the newer one for every platform there (aarch64 and i686 too, for the fleet).
TOOL_WHEELS = tuple(
    (tool, version, platform)
    for tool, (platforms, versions) in sorted(uvmirror.TOOLS.items()) if tool != "uv"
    for version in versions for platform in sorted(platforms)
    if version == versions[-1] or platform.endswith("_x86_64")
)


# Requirements of the servers' virtual environments (the venv is keyed by them).
# waitress: pypiserver's "auto" server then is waitress (threads, a listen backlog of 1024), not wsgiref's
# one request at a time behind a backlog of 5, where uv's parallel requests wait a second for a SYN retry.
PYPISERVER_REQUIREMENTS = ["pypiserver>=2.4,<3", "waitress>=3,<4"]


DEVPI_REQUIREMENTS = ["devpi-server>=6.20,<7"]


def log(message: str) -> None:
    print("[uvindex] %s" % message, file=sys.stderr, flush=True)


def wheel_tags(name: str) -> tuple:
    """``(version, {platform tags})`` of a ``uv-<version>-py3-none-<tags>.whl`` name."""
    match = re.match(r"^uv-([^-]+)-py3-none-(.+)\.whl$", name)
    if not match:
        raise ValueError("not a uv wheel name: %s" % name)
    return match.group(1), set(match.group(2).split("."))


def fetch_wheel(version: str, platform: str, wheels: str) -> str:
    """The cached uv wheel for ``version`` whose tag set holds ``platform``; downloads it once.

    The download goes to a private folder beside the cache and is renamed into it, so a
    concurrent reader of the shared cache never sees half a file.
    """
    os.makedirs(wheels, exist_ok=True)
    for name in sorted(os.listdir(wheels)):
        if name.startswith("uv-%s-" % version) and name.endswith(".whl") and platform in wheel_tags(name)[1]:
            return os.path.join(wheels, name)
    staging = tempfile.mkdtemp(prefix=".uvindex-", dir=wheels)
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--only-binary=:all:", "--platform", platform, "--dest", staging, "uv==%s" % version],
            check=True,
        )
        got = [n for n in os.listdir(staging) if n.endswith(".whl")]
        if len(got) != 1:
            raise RuntimeError("pip download uv==%s --platform %s gave %r" % (version, platform, got))
        dest = os.path.join(wheels, got[0])
        if not os.path.exists(dest):
            os.replace(os.path.join(staging, got[0]), dest)
        if platform not in wheel_tags(got[0])[1]:
            log("pip chose %s for --platform %s (a compatible older tag)" % (got[0], platform))
        return dest
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch_wheels(wheels: str | None = None, specs=WHEELS) -> dict:
    """``{(version, platform): path}`` for every wanted wheel, downloading what is missing."""
    wheels = wheels or os.path.join(cache_dir(), "wheels")
    return {(v, p): fetch_wheel(v, p, wheels) for v, p in specs}


def fetch_package(requirement: str, wheels: str | None = None) -> str:
    """The cached pure-Python wheel of ``requirement`` (``packaging==24.2``); downloads it once.

    For indexes that must also hold an ordinary package, so that ``uv pip install`` has a
    real project to fetch from them.
    """
    wheels = wheels or os.path.join(cache_dir(), "wheels")
    name, _sep, version = requirement.partition("==")
    prefix = "%s-%s-" % (name.replace("-", "_"), version)
    os.makedirs(wheels, exist_ok=True)
    found = [n for n in sorted(os.listdir(wheels)) if n.startswith(prefix) and n.endswith("-py3-none-any.whl")]
    if found:
        return os.path.join(wheels, found[0])
    staging = tempfile.mkdtemp(prefix=".uvindex-", dir=wheels)
    try:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--only-binary=:all:", "--dest", staging, requirement], check=True)
        got = [n for n in os.listdir(staging) if n.startswith(prefix) and n.endswith("-py3-none-any.whl")]
        if len(got) != 1:
            raise RuntimeError("pip download %s gave %r" % (requirement, os.listdir(staging)))
        os.replace(os.path.join(staging, got[0]), os.path.join(wheels, got[0]))
        return os.path.join(wheels, got[0])
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def venv(name: str, requirements: list, python: str | None = None) -> str:
    """A cached virtual environment with ``requirements``, made once (``.complete`` marker)."""
    python = python or sys.executable
    key = hashlib.sha256(json.dumps([os.path.realpath(python), requirements]).encode()).hexdigest()[:12]
    path = os.path.join(cache_dir(), "venvs", "%s-%s" % (name, key))
    if os.path.exists(os.path.join(path, ".complete")):
        return path
    with cache_lock("venv-%s-%s" % (name, key)):
        _make_venv(path, python, requirements)
    return path


def _make_venv(path: str, python: str, requirements: list) -> None:
    if not os.path.exists(os.path.join(path, ".complete")):
        started = time.time()
        shutil.rmtree(path, ignore_errors=True)
        subprocess.run([python, "-m", "venv", path], check=True)
        subprocess.run([os.path.join(path, "bin", "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check"] + requirements, check=True)
        open(os.path.join(path, ".complete"), "w").close()
        log("made venv %s in %.1fs" % (path, time.time() - started))


def installed_version(venv_path: str, dist: str) -> str:
    out = subprocess.run([os.path.join(venv_path, "bin", "python"), "-c",
                          "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))", dist],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


@contextlib.contextmanager
def cache_lock(name: str):
    """Serialise the building of one cached thing across processes (an flock beside it)."""
    os.makedirs(cache_dir(), exist_ok=True)
    with open(os.path.join(cache_dir(), ".%s.lock" % name), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fetch_tool_wheels(wheels: str | None = None) -> list:
    """The paths of ``TOOL_WHEELS`` (ruff's and ty's), downloading what is missing (shared cache)."""
    wheels = wheels or os.path.join(cache_dir(), "wheels")
    return [uvmirror.fetch_wheel(version, platform, wheels, tool) for tool, version, platform in TOOL_WHEELS]


def _plain_wheels(wheels: dict) -> list:
    """What pypiserver and devpi root/dev hold: uv's plain versions and the other tools' wheels."""
    uv = [path for (version, _platform), path in sorted(wheels.items()) if version in PLAIN_VERSIONS]
    return uv + fetch_tool_wheels(os.path.dirname(uv[0]) if uv else None)
