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
roots), and ``docs.json`` (host group ``docs``, built on its own with ``build(("docs",))``:
pyenv's newest 3.12 and 3.13 builds of this machine, the series that the scenario guide
guide_python_rhel8.rst installs; the docs stage runs its examples against it; no hostile set).

Hostile material (from the smallest archive of this machine): ``tampered`` (an archive
with one byte of ``os.py`` changed, the JSON keeping the good sha256), ``truncated`` (the
first half of the good archive, good sha256), ``missing`` (the JSON names a file that is
not there), ``escape`` (a member ``python/../../pyfleet-escaped`` and a symlink to ``/``;
the JSON has that archive's own sha256). ``hostile-<case>.json`` each hold one entry.

The rooms: this file builds and caches the set (``build``, the hostile material), writes the
downloads JSON, serves it and holds the commands; ``pbs_sources.py`` finds the interpreters
(Debian's, pyenv's); ``pbs_archive.py`` names, relocates, packs and checks one archive.

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
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "hacking"))

from pbs_archive import BUILD, archive_name, check_on_host, download_key, make_archive  # noqa: E402  pylint: disable=wrong-import-position
from pbs_sources import cache_dir, debian_addons, default_sources, log, sha256_file  # noqa: E402  pylint: disable=wrong-import-position

LAYOUT = 2  # bump when the archives change, so a cached set is rebuilt
HOSTILE_CASES = ("tampered", "truncated", "missing", "escape")
ESCAPE_NAME = "pyfleet-escaped"


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


def build(hosts=("bookworm", "bullseye"), cache: str | None = None, sources: list | None = None,
          hostile: bool | None = None) -> dict:
    """The cached set for ``hosts``, built when missing; returns its manifest (with ``dir``).

    ``hostile``: also build the hostile archives (default: when ``hosts`` has ``bookworm``)."""
    cache = cache or cache_dir()
    if hostile is None:
        hostile = "bookworm" in hosts
    sources = sources if sources is not None else default_sources(hosts)
    if not sources:
        raise RuntimeError("no interpreter to build from (Debian's python3.X, pyenv, the bullseye roots)")
    for source in sources:
        if source["kind"] == "debian":
            source["addons"] = debian_addons(source, cache)
    out = os.path.join(cache, "pbs-%s%s" % (source_key(sources), "" if hostile else "-plain"))
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
        if local and hostile:
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
    b.add_argument("--hosts", default="bookworm,bullseye",
                   help="host groups: bookworm (this machine), bullseye, docs (the docs stage's own set)")
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
