# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real CPython builds in python-build-standalone's layout, with a downloads JSON for uv.

python-build-standalone's release assets cannot be downloaded where the tests run, so
this makes archives of the same shape from real interpreters that are on this machine:

- Debian's packaged interpreter of a root (``/usr/bin/python3.X`` with ``/usr/lib/python3.X``):
  this machine's (Debian 12: 3.11.2) and the Debian 11 fleet roots' (3.9.2 for amd64,
  arm64 and i386, see hacking/bullseye.py);
- pyenv's builds (``$(pyenv root)/versions/3.11.7``), built against this machine's libraries.

Debian 11 splits ``distutils`` (and ``lib2to3``) out of its interpreter; uv's interpreter query
imports distutils on Python < 3.10 and skips an install without it, so the root's own
``python3-distutils`` and ``python3-lib2to3`` (arch-independent, taken once with the root's apt
into ``<cache>/debs``) are laid over the copy, as on a Debian host that has them installed.

Each is relocated into ``python/{bin,lib,include}`` (the ``install_only`` layout; uv also
takes the ``full`` layout, ``python/install/...``, see ``--layout``): the interpreter as
``bin/python3.X`` with ``python3`` and ``python`` links, the standard library in
``lib/python3.X`` (without site-packages/dist-packages, the test package, caches and static
libraries), a shared ``libpython`` in ``lib``. An ELF ``RUNPATH`` that names the old prefix
(pyenv links ``libpython`` by absolute path) is rewritten in place to ``$ORIGIN``-relative,
as python-build-standalone does, so the copy never loads the original's files. CPython
then finds its prefix from the landmark ``lib/python3.X/os.py`` next to ``bin``; ``build``
checks that by extracting each archive and running ``import sys, ssl, sqlite3`` from the
copy *on its own host* (this machine directly, a root through ``chroot``, arm64 under qemu),
asserting ``sys.prefix`` and every module path lie inside the copy.

Names follow python-build-standalone:
``cpython-<version>+<build>-<triple>-install_only.tar.gz`` under
``releases/download/<build>/``; the downloads JSON is the format of uv's
download-metadata.json (keys ``cpython-3.11.7-linux-x86_64-gnu``; ``name``, ``arch``
``{family, variant}``, ``os``, ``libc``, ``major``, ``minor``, ``patch``, ``prerelease``,
``url``, ``sha256``, ``variant``, ``build``), which uv reads from
``python-downloads-json-url``. uv's arch families: ``x86_64``, ``aarch64`` (arm64),
``i686`` (i386; uv names the installation ``cpython-3.9.2-linux-x86-gnu``, see
``installed_key``). An interpreter runs on the userland it was built for, so the JSON is
per host group: ``bookworm.json`` (this Debian 12 machine), ``bullseye.json`` (the Debian 11
roots).

Hostile material (from the smallest archive of this machine): ``tampered`` (an archive
with one byte of ``os.py`` changed, the JSON keeping the good sha256), ``truncated`` (the
first half of the good archive, good sha256), ``missing`` (the JSON names a file that is
not there), ``escape`` (a member ``python/../../pyfleet-escaped`` and a symlink to ``/``;
the JSON has that archive's own sha256). ``hostile-<case>.json`` each hold one entry.

Built archives are cached as ``<cache>/pbs-<key>`` (``~/.cache/pyfleet-uv``; the key
covers the sources and this file's LAYOUT), built under a lock as ``.partial`` and
renamed, never committed. Run alone::

    python3 tests/utils/pbs.py build [--hosts bookworm,bullseye]     # prints the manifest
    python3 tests/utils/pbs.py json --dir D --base URL               # write the JSON files into D
    python3 tests/utils/pbs.py verify-uv --uv PATH                   # real uv against it, on loopback

``build`` needs root for the roots (chroot); ``verify-uv`` serves the archives with
uvmirror.py's counting server on 127.0.0.1 and runs the real uv with every proxy variable
at a tripwire (tests/utils/tripwire.py) that must see 0 connections.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import glob
import hashlib
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "hacking"))

LAYOUT = 2  # bump when the archives change, so a cached set is rebuilt
# python-build-standalone's release tag is a date; ours marks these archives as built here.
BUILD = "20261204"
DEBIAN_ARCH = {"amd64": "x86_64", "arm64": "aarch64", "i386": "i686"}
# Left out of lib/python3.X: third-party packages, the test suite, caches, static libraries.
SKIP_DIRS = {"site-packages", "dist-packages", "test", "__pycache__", "idle_test"}
HOSTILE_CASES = ("tampered", "truncated", "missing", "escape")
ESCAPE_NAME = "pyfleet-escaped"

CHECK = r"""
import json, os, sys, ssl, sqlite3
maps = []
try:
    with open('/proc/self/maps') as handle:
        maps = sorted(set(l.split()[-1] for l in handle if ' /' in l))
except (IOError, OSError):
    pass
import _ssl, _sqlite3
if sys.version_info < (3, 10):
    from distutils import dist  # what uv's interpreter query imports on these versions
    from distutils.command.install import SCHEME_KEYS
print(json.dumps({'version': list(sys.version_info[:3]), 'prefix': sys.prefix, 'exec_prefix': sys.exec_prefix,
                  'files': [os.__file__, ssl.__file__, _ssl.__file__, sqlite3.__file__, _sqlite3.__file__],
                  'openssl': ssl.OPENSSL_VERSION, 'sqlite': sqlite3.sqlite_version, 'maps': maps}))
"""


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "pyfleet-uv")


def log(message: str) -> None:
    print("[pbs] %s" % message, file=sys.stderr, flush=True)


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- sources -------------------------------------------------------------------------------

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


def default_sources(hosts=("bookworm", "bullseye")) -> list:
    """What this machine offers: its own Debian interpreter and a newer pyenv build of the same
    series (an upgrade within a series), and each Debian 11 root's interpreter."""
    sources = []
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


def triple(arch: str) -> str:
    return "%s-unknown-linux-gnu" % arch


def archive_name(source: dict, layout: str = "install_only") -> str:
    return "cpython-%s+%s-%s-%s.tar.gz" % (source["version"], BUILD, triple(source["arch"]), layout)


def download_key(source: dict) -> str:
    """The entry's key in the downloads JSON (download-metadata.json spells the arch family)."""
    return "cpython-%s-linux-%s-gnu" % (source["version"], source["arch"])


# uv names the installed Python by its own arch name: the JSON's family i686 is uv's x86.
UV_ARCH = {"i686": "x86"}


def installed_key(entry: dict) -> str:
    """The key uv gives the installation of a manifest entry (``cpython-3.9.2-linux-x86-gnu`` for i686)."""
    return "cpython-%s-linux-%s-gnu" % (entry["version"], UV_ARCH.get(entry["arch"], entry["arch"]))


# -- ELF RUNPATH -----------------------------------------------------------------------------

def rewrite_runpath(path: str, old_prefix: str, lib_dir: str) -> bool:
    """Rewrite a ``DT_RUNPATH``/``DT_RPATH`` naming ``old_prefix`` to ``$ORIGIN``-relative, in place.

    ``lib_dir`` is where the relocated copy keeps ``libpython`` (the old ``<prefix>/lib``).
    The new string is never longer than the old one (pyenv's prefixes are long absolute
    paths); it is padded with NUL bytes, so no section moves. Returns whether it changed.
    """
    with open(path, "r+b") as handle:
        data = handle.read()
        if data[:4] != b"\x7fELF":
            return False
        is64, endian = data[4] == 2, "<" if data[5] == 1 else ">"
        if is64:
            phoff, = struct.unpack_from(endian + "Q", data, 32)
            phentsize, phnum = struct.unpack_from(endian + "HH", data, 54)
        else:
            phoff, = struct.unpack_from(endian + "I", data, 28)
            phentsize, phnum = struct.unpack_from(endian + "HH", data, 42)
        loads, dynamic = [], None
        for index in range(phnum):
            base = phoff + index * phentsize
            if is64:
                ptype, _flags, offset, vaddr, _paddr, filesz = struct.unpack_from(endian + "IIQQQQ", data, base)
            else:
                ptype, offset, vaddr, _paddr, filesz = struct.unpack_from(endian + "IIIII", data, base)
            if ptype == 1:
                loads.append((vaddr, offset, filesz))
            elif ptype == 2:
                dynamic = (offset, filesz)
        if dynamic is None:
            return False
        entry = struct.Struct(endian + ("qQ" if is64 else "iI"))
        tags = {}
        for pos in range(dynamic[0], dynamic[0] + dynamic[1], entry.size):
            tag, value = entry.unpack_from(data, pos)
            if tag == 0:
                break
            tags.setdefault(tag, value)
        strtab = tags.get(5)
        if strtab is None:
            return False
        strtab_off = next((off + strtab - vaddr for vaddr, off, size in loads if vaddr <= strtab < vaddr + size), None)
        changed = False
        for tag in (15, 29):  # DT_RPATH, DT_RUNPATH
            if tag not in tags or strtab_off is None:
                continue
            start = strtab_off + tags[tag]
            end = data.index(b"\0", start)
            old = data[start:end].decode()
            if old_prefix not in old:
                continue
            origin = os.path.relpath(lib_dir, os.path.dirname(path))
            new = ":".join("$ORIGIN" + ("" if origin == "." else "/" + origin) if part.startswith(old_prefix) else part
                           for part in old.split(":"))
            if len(new) > len(old):
                raise RuntimeError("the new RUNPATH %r of %s is longer than the old %r" % (new, path, old))
            handle.seek(start)
            handle.write(new.encode() + b"\0" * (len(old) - len(new)))
            changed = True
        return changed


# -- relocation ------------------------------------------------------------------------------

def _copy_tree(src: str, dest: str, root: str) -> None:
    """Copy ``src`` to ``dest`` without SKIP_DIRS; relative links stay links, absolute links
    (Debian's ``sitecustomize.py -> /etc/python3.X/...``) become copies of their target in ``root``."""
    os.makedirs(dest, exist_ok=True)
    for name in sorted(os.listdir(src)):
        if name in SKIP_DIRS or name.endswith((".pyc", ".a")):
            continue
        source, target = os.path.join(src, name), os.path.join(dest, name)
        if os.path.islink(source):
            link = os.readlink(source)
            if not os.path.isabs(link):
                os.symlink(link, target)
                continue
            source = os.path.join(root, link.lstrip("/"))
            if not os.path.exists(source):
                continue  # dangling outside the tree: left out
        if os.path.isdir(source):
            _copy_tree(source, target, root)
        elif os.path.isfile(source):
            shutil.copy2(source, target)


def relocate(source: dict, dest: str) -> None:
    """Lay out ``source`` as ``dest/{bin,lib,include}`` (dest is ``python`` or ``python/install``)."""
    series = source["series"]
    for sub in ("bin", "lib", "include"):
        os.makedirs(os.path.join(dest, sub), exist_ok=True)
    if source["kind"] == "debian":
        usr = os.path.join(source["root"], "usr")
        shutil.copy2(source["binary"], os.path.join(dest, "bin", "python" + series))
        _copy_tree(os.path.join(usr, "lib", "python" + series), os.path.join(dest, "lib", "python" + series),
                   source["root"])
        include = os.path.join(usr, "include", "python" + series)
        if os.path.isdir(include):
            _copy_tree(include, os.path.join(dest, "include", "python" + series), source["root"])
        for deb in source.get("addons", []):
            with tempfile.TemporaryDirectory(prefix="pbs-deb-") as unpacked:
                subprocess.run(["dpkg-deb", "-x", deb, unpacked], check=True)
                lib = os.path.join(unpacked, "usr", "lib", "python" + series)
                if os.path.isdir(lib):
                    _copy_tree(lib, os.path.join(dest, "lib", "python" + series), unpacked)
    else:
        prefix = source["prefix"]
        shutil.copy2(source["binary"], os.path.join(dest, "bin", "python" + series))
        for name in os.listdir(os.path.join(prefix, "lib")):
            path = os.path.join(prefix, "lib", name)
            if name.startswith("libpython") and (os.path.isfile(path) or os.path.islink(path)):
                if os.path.islink(path):
                    os.symlink(os.readlink(path), os.path.join(dest, "lib", name))
                elif not name.endswith(".a"):
                    shutil.copy2(path, os.path.join(dest, "lib", name))
        _copy_tree(os.path.join(prefix, "lib", "python" + series), os.path.join(dest, "lib", "python" + series),
                   "/")
        _copy_tree(os.path.join(prefix, "include"), os.path.join(dest, "include"), "/")
        lib = os.path.join(dest, "lib")
        for dirpath, _dirs, files in os.walk(dest):
            for name in files:
                path = os.path.join(dirpath, name)
                if not os.path.islink(path):
                    rewrite_runpath(path, prefix, lib)
    # Empty site-packages, as an install has one; python3 and python next to python3.X.
    os.makedirs(os.path.join(dest, "lib", "python" + series, "site-packages"), exist_ok=True)
    for link in ("python3", "python"):
        os.symlink("python" + series, os.path.join(dest, "bin", link))


def _tar_filter(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def make_archive(source: dict, path: str, layout: str = "install_only") -> str:
    """Write the archive of ``source`` at ``path`` in ``layout``; returns its sha256."""
    with tempfile.TemporaryDirectory(prefix="pbs-relocate-", dir=os.path.dirname(path)) as scratch:
        top = os.path.join(scratch, "python")
        relocate(source, top if layout == "install_only" else os.path.join(top, "install"))
        if layout == "full":
            with open(os.path.join(top, "PYTHON.json"), "w") as handle:
                json.dump({"version": "8", "python_version": source["version"], "target_triple": triple(source["arch"])},
                          handle)
        with tarfile.open(path + ".tmp", "w:gz", compresslevel=6) as tar:
            tar.add(top, arcname="python", filter=_tar_filter)
    os.rename(path + ".tmp", path)
    return sha256_file(path)


# -- checking an archive on its own host -----------------------------------------------------

def check_on_host(source: dict, archive: str) -> dict:
    """Extract ``archive`` on the source's host and run ``import sys, ssl, sqlite3`` from the copy.

    This machine runs it directly; a root runs it through ``chroot`` (its own libraries,
    arm64 under qemu-user). The copy's ``sys.prefix`` must be the copy and every module it
    loads must come from it (the original is still on the host, so a copy that found the
    original's files would otherwise pass unnoticed). Returns what the interpreter said.
    """
    root = source["root"]
    inside = os.path.join(root, "tmp") if root != "/" else None
    with tempfile.TemporaryDirectory(prefix="pbs-check-", dir=inside) as scratch:
        with tarfile.open(archive) as tar:
            tar.extractall(scratch)  # our own archive, just built
        python = os.path.join(scratch, "python", "bin", "python" + source["series"])
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}
        if root == "/":
            argv, prefix = [python, "-c", CHECK], os.path.join(scratch, "python")
        else:
            rel = "/" + os.path.relpath(python, root)
            argv = [shutil.which("chroot") or "/usr/sbin/chroot", root, rel, "-c", CHECK]
            prefix = "/" + os.path.relpath(os.path.join(scratch, "python"), root)
        out = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=300)
        if out.returncode:
            raise RuntimeError("%s from %s does not run on its host: %s" % (python, archive, out.stderr[-2000:]))
        facts = json.loads(out.stdout)
        problems = []
        if facts["version"] != [int(p) for p in source["version"].split(".")]:
            problems.append("it is Python %s, not %s" % (facts["version"], source["version"]))
        for key in ("prefix", "exec_prefix"):
            if facts[key] != prefix:
                problems.append("sys.%s is %s, not the copy %s" % (key, facts[key], prefix))
        for path in facts["files"] + [m for m in facts["maps"] if "python" in m or "libpython" in m]:
            if not path.startswith(prefix + "/") and "python" in path:
                problems.append("%s was loaded from outside the copy" % path)
        if problems:
            raise RuntimeError("%s: %s" % (archive, "; ".join(problems)))
        facts.pop("maps")
        facts["prefix_checked"] = True
        return facts


# -- the cached set --------------------------------------------------------------------------

@contextlib.contextmanager
def _lock(path: str):
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def source_key(sources: list) -> str:
    parts = [LAYOUT, BUILD]
    for source in sources:
        stat = os.stat(source["binary"])
        parts.append([source["kind"], source["root"], source.get("prefix"), source["version"], source["arch"],
                      stat.st_size, int(stat.st_mtime), [os.path.basename(d) for d in source.get("addons", [])]])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:12]


def _hostile(out: str, good: dict) -> dict:
    """Write the hostile archives under ``out/hostile/<case>/``; returns the manifest's ``hostile`` part."""
    name = good["archive"]
    src = os.path.join(out, good["path"])
    result = {}
    # tampered: the same archive with one byte of os.py changed (a valid tar.gz of another sha256).
    path = os.path.join(out, "hostile", "tampered", BUILD, name)
    os.makedirs(os.path.dirname(path))
    with tarfile.open(src) as tar_in, tarfile.open(path, "w:gz", compresslevel=6) as tar_out:
        for member in tar_in:
            data = tar_in.extractfile(member).read() if member.isfile() else None
            if member.name.endswith("/lib/python%s/os.py" % good["series"]):
                data = data.replace(b"import abc", b"import abc  # tampered", 1)
                member.size = len(data)
            tar_out.addfile(member, io.BytesIO(data) if data is not None else None)
    result["tampered"] = {"path": os.path.relpath(path, out), "sha256": good["sha256"],
                          "actual_sha256": sha256_file(path)}
    # truncated: the first half of the good archive.
    path = os.path.join(out, "hostile", "truncated", BUILD, name)
    os.makedirs(os.path.dirname(path))
    with open(src, "rb") as handle, open(path, "wb") as dest:
        dest.write(handle.read(good["size"] // 2))
    result["truncated"] = {"path": os.path.relpath(path, out), "sha256": good["sha256"]}
    # missing: the JSON names a file that is not there.
    result["missing"] = {"path": "hostile/missing/%s/%s" % (BUILD, name), "sha256": good["sha256"]}
    # escape: a member that climbs out of the extraction folder and a symlink to /, then the
    # good members; the JSON carries this archive's own sha256 (a signed but hostile build).
    path = os.path.join(out, "hostile", "escape", BUILD, name)
    os.makedirs(os.path.dirname(path))
    with tarfile.open(src) as tar_in, tarfile.open(path, "w:gz", compresslevel=6) as tar_out:
        payload = b"written outside install_dir by a hostile archive\n"
        info = tarfile.TarInfo("python/../../../../../../../../tmp/%s" % ESCAPE_NAME)
        info.size, info.mode, info.mtime = len(payload), 0o644, 1700000000
        tar_out.addfile(info, io.BytesIO(payload))
        link = tarfile.TarInfo("python/lib/rootfs")
        link.type, link.linkname, link.mode, link.mtime = tarfile.SYMTYPE, "/", 0o777, 1700000000
        tar_out.addfile(link)
        inner = tarfile.TarInfo("python/lib/rootfs/tmp/%s-via-link" % ESCAPE_NAME)
        inner.size, inner.mode, inner.mtime = len(payload), 0o644, 1700000000
        tar_out.addfile(inner, io.BytesIO(payload))
        for member in tar_in:
            data = tar_in.extractfile(member).read() if member.isfile() else None
            tar_out.addfile(member, io.BytesIO(data) if data is not None else None)
    result["escape"] = {"path": os.path.relpath(path, out), "sha256": sha256_file(path)}
    for case in result.values():
        case.update({"key": good["key"], "version": good["version"], "arch": good["arch"], "series": good["series"],
                     "archive": name})
    return result


def build(hosts=("bookworm", "bullseye"), cache: str | None = None, sources: list | None = None) -> dict:
    """The cached set for ``hosts``, built when missing; returns its manifest (with ``dir``)."""
    cache = cache or cache_dir()
    sources = sources if sources is not None else default_sources(hosts)
    if not sources:
        raise RuntimeError("no interpreter to build from (Debian's python3.X, pyenv, the bullseye roots)")
    for source in sources:
        if source["kind"] == "debian":
            source["addons"] = debian_addons(source, cache)
    out = os.path.join(cache, "pbs-%s" % source_key(sources))
    os.makedirs(cache, exist_ok=True)
    with _lock(os.path.join(cache, ".pbs.lock")):
        manifest_path = os.path.join(out, "manifest.json")
        if os.path.exists(manifest_path):
            with open(manifest_path) as handle:
                return dict(json.load(handle), dir=out)
        partial = out + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        manifest = {"layout": LAYOUT, "build": BUILD, "archives": [], "hostile": {}}
        started = time.time()
        for source in sources:
            name = archive_name(source)
            rel = os.path.join("releases", "download", BUILD, name)
            path = os.path.join(partial, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            digest = make_archive(source, path)
            facts = check_on_host(source, path)
            entry = {"key": download_key(source), "host": source["host"], "version": source["version"],
                     "series": source["series"], "arch": source["arch"], "archive": name, "path": rel,
                     "sha256": digest, "size": os.path.getsize(path), "source": source["kind"],
                     "from": source.get("prefix") or source.get("package"), "checked": facts,
                     "addons": [os.path.basename(d) for d in source.get("addons", [])]}
            manifest["archives"].append(entry)
            log("%s: %s (%d bytes) from %s; runs on its host: prefix %s, %s, sqlite %s"
                % (source["host"], name, entry["size"], entry["from"], facts["prefix"], facts["openssl"],
                   facts["sqlite"]))
        local = [a for a in manifest["archives"] if a["host"] == "bookworm" or a["arch"] == os.uname().machine]
        if local:
            manifest["hostile"] = _hostile(partial, min(local, key=lambda a: a["size"]))
        with open(os.path.join(partial, "manifest.json"), "w") as handle:
            json.dump(manifest, handle, indent=1)
        shutil.rmtree(out, ignore_errors=True)
        os.rename(partial, out)
        log("built %d archives in %.0f s into %s" % (len(manifest["archives"]), time.time() - started, out))
    return dict(manifest, dir=out)


# -- the downloads JSON ----------------------------------------------------------------------

def quote_path(path: str) -> str:
    """A path as python-build-standalone's URLs spell it (``+`` as ``%2B``)."""
    return "/".join(part.replace("+", "%2B") for part in path.split(os.sep))


def json_entry(entry: dict, url: str, sha256: str) -> dict:
    major, minor, patch = (int(p) for p in entry["version"].split("."))
    return {"name": "cpython", "arch": {"family": entry["arch"], "variant": None}, "os": "linux", "libc": "gnu",
            "major": major, "minor": minor, "patch": patch, "prerelease": "", "url": url, "sha256": sha256,
            "variant": None, "build": BUILD}


def downloads_json(manifest: dict, base_url: str, host: str | None = None, case: str | None = None) -> dict:
    """uv's download-metadata.json for ``host``'s archives, or for one hostile ``case``."""
    base = base_url.rstrip("/")
    if case:
        bad = manifest["hostile"][case]
        return {bad["key"]: json_entry(bad, "%s/%s" % (base, quote_path(bad["path"])), bad["sha256"])}
    return {a["key"]: json_entry(a, "%s/%s" % (base, quote_path(a["path"])), a["sha256"])
            for a in manifest["archives"] if host is None or a["host"] == host}


def write_jsons(manifest: dict, dest: str, base_url: str) -> dict:
    """Write ``<host>.json`` per host group and ``hostile-<case>.json`` into ``dest``; returns
    ``{name: path}``. The URLs are ``base_url`` plus the archive's path in the manifest's dir."""
    written = {}
    names = {h: downloads_json(manifest, base_url, host=h) for h in sorted({a["host"] for a in manifest["archives"]})}
    names.update({"hostile-%s" % c: downloads_json(manifest, base_url, case=c) for c in manifest.get("hostile", {})})
    for name, data in names.items():
        path = os.path.join(dest, name + ".json")
        with open(path + ".tmp", "w") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
        os.rename(path + ".tmp", path)
        written[name] = path
    return written


def serve_root(manifest: dict, dest: str) -> str:
    """A tree to serve: hard links to the manifest's archives (good and hostile) under ``dest``."""
    source = manifest["dir"]
    for dirpath, _dirs, files in os.walk(source):
        for name in files:
            if name.endswith(".tar.gz"):
                rel = os.path.relpath(os.path.join(dirpath, name), source)
                os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
                if not os.path.exists(os.path.join(dest, rel)):
                    os.link(os.path.join(dirpath, name), os.path.join(dest, rel))
    return dest


# -- a real uv against it ---------------------------------------------------------------------

def _uv_from_mirror(version: str, dest: str) -> str:
    """The real uv ``version`` (x86_64 gnu) from the suite's mirror tree, unpacked into ``dest``."""
    archive = os.path.join(cache_dir(), "mirror", "versioned", version, "uv-x86_64-unknown-linux-gnu.tar.gz")
    with tarfile.open(archive) as tar:
        data = tar.extractfile("uv-x86_64-unknown-linux-gnu/uv").read()
    path = os.path.join(dest, "uv")
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o755)
    return path


def verify_uv(uv: str, manifest: dict) -> dict:
    """Serve the archives and JSON on 127.0.0.1 and run the real uv against them.

    ``uv python list`` must see every entry of ``bookworm.json`` as a download; ``uv python
    install`` of each of this machine's versions must work (from that JSON), ``uv python list
    --only-installed`` must see them, and ``uv run`` must use them; each hostile JSON must make
    ``uv python install`` fail with nothing left in the install dir. A tripwire proxy takes
    every proxy variable and must see 0 connections. Returns what was seen.
    """
    import tripwire  # pylint: disable=import-outside-toplevel
    import uvmirror  # pylint: disable=import-outside-toplevel

    seen = {}
    with tempfile.TemporaryDirectory(prefix="pbs-verify-") as scratch:
        tree = serve_root(manifest, os.path.join(scratch, "www"))
        server = uvmirror.MirrorServer(tree).start()
        trip = tripwire.Tripwire(log=os.path.join(scratch, "tripwire.jsonl")).start()
        try:
            jsons = write_jsons(manifest, tree, server.url)
            base_env = {"PATH": "/usr/bin:/bin", "HOME": os.path.join(scratch, "home"), "LC_ALL": "C.UTF-8",
                        "UV_CACHE_DIR": os.path.join(scratch, "cache"), "UV_NO_CONFIG": "1",
                        "UV_PYTHON_DOWNLOADS_JSON_URL": server.url + "/bookworm.json"}
            base_env.update(tripwire.proxy_env(trip.url, no_proxy=["127.0.0.1"]))

            def uv_run(args, install_dir, **extra):
                env = dict(base_env, UV_PYTHON_INSTALL_DIR=install_dir, **extra)
                return subprocess.run([uv] + args, capture_output=True, text=True, env=env, check=False, timeout=600)

            listed = uv_run(["python", "list", "--all-versions", "--output-format", "json"], os.path.join(scratch, "p"))
            if listed.returncode:
                raise RuntimeError("uv python list failed: %s" % listed.stderr)
            keys = {item["key"] for item in json.loads(listed.stdout)}
            with open(jsons["bookworm"]) as handle:
                wanted = set(json.load(handle))
            if not wanted <= keys:
                raise RuntimeError("uv python list does not offer %s (it lists %s)"
                                   % (sorted(wanted - keys), sorted(keys)))
            seen["listed"] = sorted(wanted)
            install_dir = os.path.join(scratch, "pythons")
            for entry in [a for a in manifest["archives"] if a["host"] == "bookworm"]:
                server.stats.reset()
                out = uv_run(["python", "install", entry["version"]], install_dir)
                if out.returncode:
                    raise RuntimeError("uv python install %s failed: %s" % (entry["version"], out.stderr))
                asked = [p for p in server.stats.paths if p.endswith(".tar.gz")]
                if asked != ["/" + quote_path(entry["path"])]:
                    raise RuntimeError("uv asked %s for %s" % (server.stats.paths, entry["version"]))
                seen.setdefault("installed", []).append(entry["key"])
            out = uv_run(["python", "list", "--only-installed", "--output-format", "json"], install_dir)
            found = {item["key"]: item["path"] for item in json.loads(out.stdout)}
            missing = [k for k in seen.get("installed", []) if k not in found]
            if missing:
                raise RuntimeError("uv python list --only-installed does not see %s: %s" % (missing, out.stdout))
            seen["only_installed"] = found
            server.stats.reset()
            series = manifest["archives"][0]["series"]
            run = uv_run(["run", "--no-project", "--python", series, "python", "-c",
                          "import sys, ssl, sqlite3; print(sys.prefix)"], install_dir, UV_PYTHON_DOWNLOADS="never")
            if run.returncode or not run.stdout.strip().startswith(install_dir):
                raise RuntimeError("uv run --python %s did not use the installed Python: %s %s"
                                   % (series, run.stdout, run.stderr))
            seen["uv_run_prefix"] = run.stdout.strip()
            seen["uv_run_requests"] = server.stats.requests
            # The full layout (python/install/...): uv takes the interpreter from install/.
            small = min((a for a in manifest["archives"] if a["host"] == "bookworm"), key=lambda a: a["size"])
            full = os.path.join(tree, "full", BUILD, small["archive"].replace("-install_only.", "-full."))
            os.makedirs(os.path.dirname(full))
            with tarfile.open(os.path.join(tree, small["path"])) as tar_in, \
                    tarfile.open(full, "w:gz", compresslevel=1) as tar_out:
                for member in tar_in:
                    data = tar_in.extractfile(member).read() if member.isfile() else None
                    member.name = "python/install" + member.name[len("python"):]
                    tar_out.addfile(member, io.BytesIO(data) if data is not None else None)
            with open(os.path.join(tree, "full.json"), "w") as handle:
                json.dump({small["key"]: json_entry(small, "%s/%s" % (server.url, quote_path(os.path.relpath(full, tree))),
                                                    sha256_file(full))}, handle)
            full_dir = os.path.join(scratch, "full-layout")
            out = uv_run(["python", "install", small["version"]], full_dir,
                         UV_PYTHON_DOWNLOADS_JSON_URL=server.url + "/full.json")
            python = os.path.join(full_dir, small["key"], "bin", "python" + small["series"])
            check = subprocess.run([python, "-c", "import sys, ssl, sqlite3; print(sys.prefix)"], capture_output=True,
                                   text=True, check=False) if out.returncode == 0 else None
            if out.returncode or check.returncode or check.stdout.strip() != os.path.dirname(os.path.dirname(python)):
                raise RuntimeError("the full layout did not install: %s %s" % (out.stderr, check and check.stderr))
            seen["full_layout"] = check.stdout.strip()
            for case in manifest.get("hostile", {}):
                hostile_dir = os.path.join(scratch, "hostile-" + case)
                server.stats.reset()
                out = uv_run(["python", "install", manifest["hostile"][case]["version"]], hostile_dir,
                             UV_PYTHON_DOWNLOADS_JSON_URL=server.url + "/hostile-%s.json" % case)
                left = sorted(n for n in os.listdir(hostile_dir) if not n.startswith(".")) \
                    if os.path.isdir(hostile_dir) else []
                seen["hostile-" + case] = {"exit": out.returncode, "stderr": out.stderr.strip()[-600:], "left": left,
                                           "escaped": os.path.exists("/tmp/" + ESCAPE_NAME)}
                if out.returncode == 0 or left or seen["hostile-" + case]["escaped"]:
                    raise RuntimeError("uv took the %s archive: %s" % (case, seen["hostile-" + case]))
            seen["tripwire"] = len(trip.connections())
            if seen["tripwire"]:
                raise RuntimeError("uv tried to reach the network: %s" % trip.connections())
        finally:
            trip.stop()
            server.stop()
    return seen


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build (or reuse) the cached archives; print the manifest")
    b.add_argument("--hosts", default="bookworm,bullseye", help="host groups: bookworm (this machine), bullseye")
    j = sub.add_parser("json", help="write <host>.json and hostile-<case>.json into --dir for --base")
    j.add_argument("--hosts", default="bookworm,bullseye")
    j.add_argument("--dir", required=True)
    j.add_argument("--base", required=True, help="the URL the archives' tree is served at")
    j.add_argument("--link", action="store_true", help="also hard-link the archives into --dir")
    v = sub.add_parser("verify-uv", help="run the real uv against the archives on loopback")
    v.add_argument("--hosts", default="bookworm")
    v.add_argument("--uv", help="the uv binary (default: 0.13.8 from the suite's mirror)")
    args = parser.parse_args(argv)
    manifest = build(tuple(args.hosts.split(",")))
    if args.command == "build":
        print(json.dumps(manifest, indent=1))
    elif args.command == "json":
        os.makedirs(args.dir, exist_ok=True)
        if args.link:
            serve_root(manifest, args.dir)
        print(json.dumps(write_jsons(manifest, args.dir, args.base), indent=1))
    else:
        with tempfile.TemporaryDirectory(prefix="pbs-uv-") as scratch:
            uv = args.uv or _uv_from_mirror("0.13.8", scratch)
            print(json.dumps(verify_uv(uv, manifest), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
