# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where tests/utils/pbs.py's interpreters come from: Debian's packaged Python of a root (with
Debian 11's distutils and lib2to3 packages laid over it) and pyenv's builds of this machine.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

from uvmirror import cache_dir, sha256_file  # noqa: F401  pylint: disable=unused-import  # tests/utils; pbs* import them from here


DEBIAN_ARCH = {"amd64": "x86_64", "arm64": "aarch64", "i386": "i686"}


def log(message: str) -> None:
    print("[pbs] %s" % message, file=sys.stderr, flush=True)


def dpkg_package(root: str, package: str) -> dict | None:
    """The status stanza of ``package`` in the dpkg database under ``root`` (or None)."""
    try:
        with open(os.path.join(root, "var", "lib", "dpkg", "status")) as handle:
            text = handle.read()
    except OSError:
        return None
    for stanza in text.split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if ":" in line and not line.startswith(" "):
                name, value = line.split(":", 1)
                fields[name.strip()] = value.strip()
        if fields.get("Package") == package and fields.get("Status", "").endswith(" installed"):
            return fields
    return None


def debian_source(root: str, host: str) -> dict | None:
    """Debian's packaged ``python3.X`` of the root, as a source (None when there is none)."""
    found = []
    for path in glob.glob(os.path.join(root, "usr", "bin", "python3.*")):
        match = re.search(r"/python(3\.(\d+))$", path)
        if match and not os.path.islink(path):
            found.append((int(match.group(2)), match.group(1)))
    for _minor, series in sorted(found, reverse=True):
        stanza = dpkg_package(root, "python%s-minimal" % series)
        if not stanza:
            continue
        version = re.match(r"(\d+\.\d+\.\d+)", stanza["Version"]).group(1)  # 3.11.2-6+deb12u6 -> 3.11.2
        binary = os.path.join(root, "usr", "bin", "python" + series)
        return {"kind": "debian", "host": host, "root": root, "series": series, "version": version,
                "arch": DEBIAN_ARCH[stanza["Architecture"]], "binary": binary,
                "package": "python%s-minimal %s" % (series, stanza["Version"])}
    return None


# Debian splits parts of the standard library that python-build-standalone ships into
# packages of their own; uv's interpreter query imports distutils on Python < 3.10, so an
# install without it is skipped by uv ("missing `distutils`"). These arch-independent packages
# of the root's release complete the copy, as a Debian host with them installed has it.
DEBIAN_ADDONS = ("python3-distutils", "python3-lib2to3")


def debian_addons(source: dict, cache: str) -> list:
    """The ``.deb`` files of DEBIAN_ADDONS for a Debian source whose distutils is incomplete.

    They are taken with the root's own apt (``apt-get download`` through ``chroot``, from the
    Debian archive the root was made from) once, and kept in ``<cache>/debs``. Only the
    release of the root's ``python3.X-minimal`` is taken (``3.9.2-1`` for 3.9.2).
    """
    lib = os.path.join(source["root"], "usr", "lib", "python" + source["series"])
    if os.path.isdir(os.path.join(lib, "distutils", "command")):
        return []
    upstream = source["version"]
    debs = os.path.join(cache, "debs")
    os.makedirs(debs, exist_ok=True)
    found = []
    for package in DEBIAN_ADDONS:
        matches = sorted(glob.glob(os.path.join(debs, "%s_%s-*_all.deb" % (package, upstream))))
        if not matches:
            inside = tempfile.mkdtemp(prefix="pbs-debs-", dir=os.path.join(source["root"], "tmp"))
            try:
                os.chmod(inside, 0o755)
                out = subprocess.run([shutil.which("chroot") or "/usr/sbin/chroot", source["root"], "sh", "-c",
                                      "cd /%s && apt-get download -q %s" % (os.path.relpath(inside, source["root"]),
                                                                            package)],
                                     capture_output=True, text=True, check=False, timeout=600)
                for name in os.listdir(inside):
                    if name.startswith("%s_%s-" % (package, upstream)) and name.endswith("_all.deb"):
                        shutil.move(os.path.join(inside, name), os.path.join(debs, name))
            finally:
                shutil.rmtree(inside, ignore_errors=True)
            matches = sorted(glob.glob(os.path.join(debs, "%s_%s-*_all.deb" % (package, upstream))))
            if not matches:
                raise RuntimeError("apt-get download %s in %s gave no %s %s package: %s"
                                   % (package, source["root"], package, upstream, out.stdout + out.stderr))
        found.append(matches[-1])
    return found


def pyenv_source(series: str, host: str, newer_than: str | None = None) -> dict | None:
    """pyenv's newest build of ``series`` (e.g. "3.11"), newer than ``newer_than`` if given."""
    try:
        pyenv_root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    best = None
    for path in glob.glob(os.path.join(pyenv_root, "versions", series + ".*")):
        name = os.path.basename(path)
        binary = os.path.join(path, "bin", "python" + series)
        if not re.match(r"^\d+\.\d+\.\d+$", name) or not os.access(binary, os.X_OK):
            continue
        key = tuple(int(p) for p in name.split("."))
        if newer_than and key <= tuple(int(p) for p in newer_than.split(".")):
            continue
        if best is None or key > best[0]:
            best = (key, path, name)
    if best is None:
        return None
    return {"kind": "pyenv", "host": host, "root": "/", "prefix": best[1], "series": series, "version": best[2],
            "arch": os.uname().machine, "binary": os.path.join(best[1], "bin", "python" + series)}


# The series of the docs' own set (docs.json): what guide_python_rhel8.rst's examples request.
DOCS_SERIES = ("3.12", "3.13")


def default_sources(hosts=("bookworm", "bullseye")) -> list:
    """What this machine offers: its own Debian interpreter and a newer pyenv build of the same
    series (an upgrade within a series), and each Debian 11 root's interpreter; for ``docs``,
    pyenv's newest build of each of ``DOCS_SERIES``."""
    sources = []
    if "docs" in hosts:
        sources.extend(s for s in (pyenv_source(series, "docs") for series in DOCS_SERIES) if s)
    if "bookworm" in hosts:
        local = debian_source("/", "bookworm")
        if local:
            sources.append(local)
            newer = pyenv_source(local["series"], "bookworm", newer_than=local["version"])
            if newer:
                sources.append(newer)
    if "bullseye" in hosts:
        import bullseye  # pylint: disable=import-outside-toplevel  # hacking/bullseye.py

        for arch in ("amd64", "arm64", "i386"):
            path = bullseye.root_path(bullseye.default_cache(), arch)
            if os.path.exists(os.path.join(path, ".complete")):
                found = debian_source(path, "bullseye")
                if found:
                    sources.append(found)
    return sources
