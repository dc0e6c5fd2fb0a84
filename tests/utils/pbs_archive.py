# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One interpreter made into a python-build-standalone archive (tests/utils/pbs.py): the names
(``archive_name``, ``download_key``, ``installed_key``), the relocation into ``python/`` with
``$ORIGIN``-relative RUNPATHs, the tarball, and the check that runs the copy on its own host.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import tarfile
import tempfile

from pbs_sources import sha256_file


# python-build-standalone's release tag is a date; ours marks these archives as built here.
BUILD = "20261204"


# Left out of lib/python3.X: third-party packages, the test suite, caches, static libraries.
SKIP_DIRS = {"site-packages", "dist-packages", "test", "__pycache__", "idle_test"}


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
