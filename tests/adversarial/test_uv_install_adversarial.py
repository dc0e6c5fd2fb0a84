# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Adversarial suite: uv_install, ruff_install and ty_install under faults, bad input and hostile mirrors.

Every case runs the real module through a real ``ansible`` (or ``ansible-playbook``)
against a loopback server that misbehaves on purpose, on top of a working install.
After each case: the previous binaries still run with the same sha256, no stray files are
left in ``install_dir`` or the remote temp dir, and the message names the cause.

Every case runs once per tool (the ``tool`` fixture, from the mirror's table
``uvmirror.TOOLS`` and the collection's ``tools.py``): uv, ruff and ty, each from its own
real archives (``<mirror>/<tool>/versioned/...`` for ruff and ty).

Needs (set by hacking/suite): ``ansible`` on PATH, ANSIBLE_COLLECTIONS_PATH with the
collection, PYFLEET_UV_MIRROR pointing at a tree built by tests/utils/uvmirror.py.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "utils"))
import uvmirror  # noqa: E402  pylint: disable=wrong-import-position

T = "x86_64-unknown-linux-gnu"
TM = "x86_64-unknown-linux-musl"
MIRROR = os.environ.get("PYFLEET_UV_MIRROR", "")
SECRETS = ("hunter2-pw-value", "tok3n-secret-value")

pytestmark = pytest.mark.skipif(not os.path.isdir(MIRROR) or not shutil.which("ansible"),
                                reason="run through hacking/suite (needs the mirror tree and ansible)")


class Tool(object):
    """One tool as the cases see it: module, binaries, receipt, two versions, where its layouts are."""

    def __init__(self, name):
        row = uvmirror.collection_tools()[name]
        versions = uvmirror.TOOLS[name][1]
        self.name, self.row = name, row
        self.old, self.new = versions[0], versions[-1]
        self.binaries = row.binaries
        self.module = "pyfleet.uv.%s_install" % name
        self.base = "" if name == "uv" else name + "/"  # uv's layouts are at the mirror's top
        # Scripts that print what each binary of the new version prints.
        self.good = dict((b, b"#!/bin/sh\necho '%s %s'\n" % (b.encode(), self.new.encode())) for b in row.binaries)

    def archive(self, target=T):
        return self.row.archive(target)

    def folder(self, target=T):
        return self.row.folder(target)

    def versioned(self, version="{version}"):
        """``versioned/<version>`` of this tool, relative to the mirror's root."""
        return self.base + "versioned/" + version

    def files(self):
        return sorted((self.row.receipt,) + self.binaries)

    def __repr__(self):
        return self.name


@pytest.fixture(params=sorted(uvmirror.TOOLS))
def tool(request):
    return Tool(request.param)


UV = Tool("uv")
OLD, NEW = UV.old, UV.new  # uv's, for the cases that are about uv alone (test_wheels.py)


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


@pytest.fixture(scope="session")
def root(tmp_path_factory):
    """A mirror root of hard links to the real archives, plus hostile trees made per case."""
    base = tmp_path_factory.mktemp("adv-mirror")
    shutil.copytree(MIRROR, str(base / "m"), copy_function=os.link)
    return base / "m"


@pytest.fixture(scope="session")
def server(root):
    srv = uvmirror.MirrorServer(str(root)).start()
    yield srv
    srv.stop()


@pytest.fixture
def env(tmp_path):
    remote_tmp = tmp_path / "remote-tmp"
    remote_tmp.mkdir()
    # TMPDIR: where AnsiballZ unpacks the module; a module killed with -9 leaves that behind.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    return dict(os.environ, ANSIBLE_REMOTE_TMP=str(remote_tmp), ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-tmp"),
                TMPDIR=str(scratch),
                ANSIBLE_NOCOLOR="1",
                ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
                ANSIBLE_PYTHON_INTERPRETER=sys.executable)


def install(tool, env, args, verbose=False):
    """Run the tool's module ad hoc; returns (result dict, whole output text)."""
    argv = ["ansible", "localhost", "-m", tool.module, "-a", json.dumps(args),
            "-e", "ansible_python_interpreter=%s" % sys.executable]
    if verbose:
        argv.append("-vvv")
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=600)
    output = proc.stdout + proc.stderr
    # The default ad hoc callback prints "localhost | STATUS => {json}".
    match = re.search(r"^localhost \| ([A-Z!]+)(?: \| rc=\d+)? => ", proc.stdout, re.MULTILINE)
    assert match, output[-3000:]
    result, _end = json.JSONDecoder().raw_decode(proc.stdout[match.end():])
    if match.group(1).startswith("FAILED") or match.group(1).startswith("UNREACHABLE"):
        result["failed"] = True
    return result, output


def uv_install(env, args, verbose=False):
    """Run uv_install ad hoc (``install`` for uv)."""
    return install(UV, env, args, verbose)


# The old version's install, made by the module once per tool (per pytest process), in its
# own folder: ``{tool name: install_dir}``.
OLD_INSTALLS = {}


def old_install(tool, server, tmp_path_factory):
    """install_dir of the tool's old version as the module installed it (once per tool and process)."""
    if tool.name not in OLD_INSTALLS:
        base = tmp_path_factory.mktemp("old-%s" % tool.name)
        for name in ("remote-tmp", "tmp"):
            (base / name).mkdir()
        env = dict(os.environ, ANSIBLE_REMOTE_TMP=str(base / "remote-tmp"), ANSIBLE_LOCAL_TEMP=str(base / "local-tmp"),
                   TMPDIR=str(base / "tmp"), ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="False",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
        result, _out = install(tool, env, {"version": tool.old, "install_dir": str(base / "bin"),
                                           "mirror_url": server.url + "/" + tool.versioned() + "/"})
        assert result.get("changed"), result
        assert sorted(os.listdir(str(base / "bin"))) == tool.files(), "the old install is not what it should be"
        OLD_INSTALLS[tool.name] = base / "bin"
    return OLD_INSTALLS[tool.name]


@pytest.fixture
def installed(tool, server, env, tmp_path, tmp_path_factory):
    """A working install of the tool's old version in a fresh install_dir: yields install_dir.

    The module installs the old version once per tool (``old_install``); each case gets a
    copy of those files (binaries, receipt; modes and times kept): the state the case starts
    from is the same, without one more full ansible run per case (about half of this
    suite's time went there).
    """
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)  # it may exist already: a tmpfs mounted there
    template = old_install(tool, server, tmp_path_factory)
    os.chmod(str(bindir), os.stat(str(template)).st_mode & 0o7777)  # the mode the module gave install_dir
    for name in os.listdir(str(template)):
        shutil.copy2(str(template / name), str(bindir / name))
    before = {name: sha256(str(bindir / name)) for name in tool.binaries}
    server.faults.clear()
    yield bindir
    server.faults.clear()
    # The invariants of every case.
    after = {name: sha256(str(bindir / name)) for name in tool.binaries}
    assert after == before, "the previous install was modified"
    out = subprocess.run([str(bindir / tool.name), "--version"], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and tool.old in out.stdout
    assert sorted(os.listdir(str(bindir))) == tool.files(), "stray files in install_dir"
    remote = env["ANSIBLE_REMOTE_TMP"]
    assert os.listdir(remote) == [], "stray files in the remote temp dir: %s" % os.listdir(remote)


def fails(result, *fragments):
    assert result.get("failed"), result
    for fragment in fragments:
        assert fragment in result["msg"], "%r not in %r" % (fragment, result["msg"])


def publish(tool, root, name, archives, sidecars=True, sums=None):
    """A release directory ``root/name/`` holding the tool's given archives ``{target: path}``."""
    directory = root / name
    directory.mkdir(parents=True, exist_ok=True)
    for target, source in archives.items():
        dest = directory / tool.archive(target)
        shutil.copy(source, str(dest))
        if sidecars:
            uvmirror.write_sidecar(str(dest), uvmirror.sha256_file(str(dest)))
    return directory


def real(tool, root, target=T, version=None):
    return str(root / tool.versioned(version or tool.new) / tool.archive(target))


def args(tool, server, path, **extra):
    """The module's arguments for the new version from ``path`` (relative to the mirror's root)."""
    base = {"version": tool.new, "mirror_url": server.url + "/" + path + "/", "download_retries": 1}
    base.update(extra)
    return base


# -- checksums ---------------------------------------------------------------------------

def test_sidecar_mismatch(tool, root, server, env, installed):
    directory = publish(tool, root, "mismatch", {T: real(tool, root)}, sidecars=False)
    (directory / (tool.archive(T) + ".sha256")).write_text("%s  %s\n" % ("1" * 64, tool.archive(T)))
    result, _out = install(tool, env, dict(args(tool, server, "mismatch"), install_dir=str(installed)))
    fails(result, "checksum mismatch", "1" * 64, uvmirror.sha256_file(real(tool, root)))


def test_wrong_explicit_checksum(tool, root, server, env, installed):
    result, _out = install(tool, env, dict(args(tool, server, tool.versioned()), install_dir=str(installed),
                                           checksum="sha256:" + "2" * 64))
    fails(result, "checksum mismatch", "2" * 64)


def test_malformed_sidecar(tool, root, server, env, installed):
    directory = publish(tool, root, "malformed", {T: real(tool, root)}, sidecars=False)
    (directory / (tool.archive(T) + ".sha256")).write_text("<html>login required</html>\n")
    result, _out = install(tool, env, dict(args(tool, server, "malformed"), install_dir=str(installed)))
    fails(result, "malformed checksum sidecar", tool.archive(T) + ".sha256")


def test_sidecar_missing(tool, root, server, env, installed):
    publish(tool, root, "nosidecar", {T: real(tool, root)}, sidecars=False)
    result, _out = install(tool, env, dict(args(tool, server, "nosidecar"), install_dir=str(installed)))
    fails(result, "checksum sidecar", "allow_missing_checksum")


def test_sidecar_missing_opt_out_installs(tool, root, server, env, tmp_path):
    publish(tool, root, "nosidecar2", {T: real(tool, root)}, sidecars=False)
    result, out = install(tool, env, dict(args(tool, server, "nosidecar2"), install_dir=str(tmp_path / "b"),
                                          allow_missing_checksum=True))
    assert result["changed"] and result["version"] == tool.new
    assert "[WARNING]" in out and "unverified" in out


# -- transport ---------------------------------------------------------------------------

def test_short_body(tool, root, server, env, installed):
    server.faults["/%s/%s" % (tool.versioned(tool.new), tool.archive(T))] = {"short": True}
    result, _out = install(tool, env, dict(args(tool, server, tool.versioned()), install_dir=str(installed)))
    fails(result, "short read")


def test_slower_than_timeout(tool, root, server, env, installed):
    server.faults["/%s/%s.sha256" % (tool.versioned(tool.new), tool.archive(T))] = {"slow": 4}
    result, _out = install(tool, env, dict(args(tool, server, tool.versioned()), install_dir=str(installed),
                                           timeout=1, download_retries=0))
    fails(result, "connection failed")
    assert "timed out" in result["msg"] or "timeout" in result["msg"].lower()


def test_500_then_200_retries(tool, root, server, env, tmp_path):
    server.faults["/%s/%s" % (tool.versioned(tool.new), tool.archive(T))] = {"status": 500, "times": 1}
    result, _out = install(tool, env, dict(args(tool, server, tool.versioned()), install_dir=str(tmp_path / "b")))
    assert result["changed"] and result["version"] == tool.new, result
    assert server.faults["/%s/%s" % (tool.versioned(tool.new), tool.archive(T))]["times"] == 0


def test_500_forever_fails_and_keeps_old(tool, root, server, env, installed):
    server.faults["/%s/*" % tool.versioned(tool.new)] = {"status": 503}
    result, _out = install(tool, env, dict(args(tool, server, tool.versioned()), install_dir=str(installed)))
    fails(result, "HTTP 503")


def test_404_for_every_candidate(tool, root, server, env, installed):
    result, _out = install(tool, env, dict(args(tool, server, "void/{version}"), install_dir=str(installed)))
    fails(result, "serves none of the builds", tool.archive(T) + " -> HTTP 404", tool.archive(TM) + " -> HTTP 404")


def test_redirect_to_another_loopback_port(tool, root, server, env, tmp_path):
    other = uvmirror.MirrorServer(str(root)).start()
    try:
        server.faults["/redir/*"] = {"redirect_base": other.url + "/" + tool.versioned("")}
        result, _out = install(tool, env, dict(args(tool, server, "redir/{version}"), install_dir=str(tmp_path / "b")))
        assert result["changed"] and result["version"] == tool.new, result
        assert other.stats.requests == 2  # sidecar and archive, followed
    finally:
        other.stop()


def test_basic_auth(tool, root, server, env, installed, tmp_path):
    publish(tool, root, "auth", {T: real(tool, root)})
    server.faults["/auth/*"] = {"auth": "fleet:%s" % SECRETS[0]}
    result, _out = install(tool, env, dict(args(tool, server, "auth"), install_dir=str(installed)))
    fails(result, "HTTP 401")
    result, out = install(tool, env, dict(args(tool, server, "auth"), install_dir=str(tmp_path / "b"), url_username="fleet",
                                          url_password=SECRETS[0]), verbose=True)
    assert result["changed"], result
    assert SECRETS[0] not in out


def test_auth_header_secret_never_shown(tool, root, server, env, installed, tmp_path):
    publish(tool, root, "hdr", {T: real(tool, root)})
    server.faults["/hdr/*"] = {"header": ["Authorization", "Bearer " + SECRETS[1]]}
    result, out = install(tool, env, dict(args(tool, server, "hdr"), install_dir=str(installed), version=tool.new,
                                          headers={"Authorization": "Bearer wrong-" + SECRETS[1]}), verbose=True)
    fails(result, "HTTP 403")
    assert SECRETS[1] not in out
    result, out = install(tool, env, dict(args(tool, server, "hdr"), install_dir=str(tmp_path / "b"),
                                          headers={"Authorization": "Bearer " + SECRETS[1]}), verbose=True)
    assert result["changed"], result
    assert SECRETS[1] not in out


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed CA and a server certificate for 127.0.0.1, made with openssl."""
    if not shutil.which("openssl"):
        pytest.fail("openssl is needed for the TLS cases")
    d = tmp_path_factory.mktemp("tls")

    def run(*argv):
        subprocess.run(argv, cwd=str(d), check=True, capture_output=True)

    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=pyfleet test CA")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
        "-subj", "/CN=127.0.0.1")
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    run("openssl", "x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf")
    return d


def test_tls_self_signed_ca(tool, root, env, installed, tmp_path, tls_files):
    srv = uvmirror.MirrorServer(str(root), tls=(str(tls_files / "srv.pem"), str(tls_files / "srv.key"))).start()
    try:
        base = {"version": tool.new, "mirror_url": srv.url + "/" + tool.versioned() + "/", "download_retries": 0}
        result, _out = install(tool, env, dict(base, install_dir=str(installed)))
        fails(result)
        assert "certificate" in result["msg"].lower() or "ssl" in result["msg"].lower(), result["msg"]
        result, _out = install(tool, env, dict(base, install_dir=str(tmp_path / "b"), ca_path=str(tls_files / "ca.pem")))
        assert result["changed"] and result["url"].startswith("https://127.0.0.1:"), result
    finally:
        srv.stop()


# -- hostile archives with matching checksums ---------------------------------------------

def member(name, kind=tarfile.REGTYPE, data=None, linkname="", size=None):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.mode = 0o755
    info.size = len(data) if data is not None else (size or 0)
    return info, data


def hostile(tool, tmp_path, members, extra):
    path = str(tmp_path / tool.archive(T))
    uvmirror.make_archive(path, T, members, extra, tool=tool.name)
    return path


def pax_sparse(name):
    """A PAX sparse member: its type byte says regular file."""
    info, data = member(name, data=b"ABCD")
    info.pax_headers = {"GNU.sparse.map": "0,4", "GNU.sparse.size": "1000"}
    return info, data


def hostile_cases(tool):
    """``{case: (members, extra members, what the message must say)}`` for the tool's archive."""
    good, folder = tool.good, tool.folder(T)
    last = tool.binaries[-1]
    return {
        # A PAX header record of 16 MB that gzips to a few kB: refused before it is read.
        "huge-header": (good, [member("%s/%s" % (folder, "a" * (16 << 20)), data=b"x")], "header record"),
        "sparse": (good, [pax_sparse("%s/sparse" % folder)], "sparse file"),
        "traversal": (good, [member("%s/../../../tmp/pwned" % folder, data=b"x")], "unexpected member"),
        "absolute": (good, [member("/tmp/pwned-abs", data=b"x")], "unexpected member"),
        "symlink": (good, [member("%s/link" % folder, tarfile.SYMTYPE, linkname="/etc/passwd")], "symbolic link"),
        "hardlink": (good, [member("%s/hl" % folder, tarfile.LNKTYPE, linkname="%s/%s" % (folder, tool.name))],
                     "hard link"),
        "device": (good, [member("%s/dev" % folder, tarfile.CHRTYPE)], "character device"),
        "extra": (good, [member("%s/postinstall.sh" % folder, data=b"rm -rf /")], "unexpected member"),
        # uv's archive without uvx; ruff's and ty's without their only binary.
        "binary-missing": (dict((b, d) for b, d in good.items() if b != last), [], "no %s/%s" % (folder, last)),
    }


HOSTILE = sorted(hostile_cases(Tool("uv")))


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_archive(tool, root, server, env, installed, tmp_path, case):
    members, extra, fragment = hostile_cases(tool)[case]
    publish(tool, root, "hostile-" + case, {T: hostile(tool, tmp_path, members, extra)})
    result, _out = install(tool, env, dict(args(tool, server, "hostile-" + case), install_dir=str(installed)))
    fails(result, fragment)
    assert len(result["msg"]) < 2000, "member names are cut in messages"
    assert not os.path.exists("/tmp/pwned") and not os.path.exists("/tmp/pwned-abs")


def test_member_over_size_cap(tool, root, server, env, installed, tmp_path):
    path = str(tmp_path / tool.archive(T))
    big = 300 * 1024 * 1024
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        info = tarfile.TarInfo("%s/%s" % (tool.folder(T), tool.name))
        info.size = big

        class Zeros(io.RawIOBase):
            left = big

            def readable(self):
                return True

            def readinto(self, buffer):
                count = min(len(buffer), self.left)
                buffer[:count] = b"\0" * count
                self.left -= count
                return count

        tar.addfile(info, io.BufferedReader(Zeros(), 1 << 20))
    publish(tool, root, "huge", {T: path})
    result, _out = install(tool, env, dict(args(tool, server, "huge"), install_dir=str(installed)))
    fails(result, "byte cap")


def test_not_gzip(tool, root, server, env, installed, tmp_path):
    path = tmp_path / tool.archive(T)
    path.write_bytes(b"<html><body>Proxy login</body></html>\n" * 50)
    publish(tool, root, "notgz", {T: str(path)})
    result, _out = install(tool, env, dict(args(tool, server, "notgz"), install_dir=str(installed)))
    fails(result, "not a readable .tar.gz")


@pytest.fixture(scope="module")
def no_loader_elf(tmp_path_factory):
    """A real ELF whose interpreter does not exist: what a too-new or foreign build looks like."""
    if not shutil.which("gcc"):
        pytest.fail("gcc is needed (hacking/suite installs it)")
    d = tmp_path_factory.mktemp("elf")
    (d / "main.c").write_text('#include <stdio.h>\nint main(void){puts("uv 0.13.8");return 0;}\n')
    subprocess.run(["gcc", "-o", str(d / "uv"), str(d / "main.c"), "-Wl,--dynamic-linker=/nonexistent/ld.so.1"],
                   check=True)
    return (d / "uv").read_bytes()


def test_binary_that_cannot_run_keeps_previous(tool, root, server, env, installed, tmp_path, no_loader_elf):
    publish(tool, root, "norun", {T: hostile(tool, tmp_path, dict.fromkeys(tool.binaries, no_loader_elf), [])})
    result, _out = install(tool, env, dict(args(tool, server, "norun"), install_dir=str(installed)))
    fails(result, "serves runs on this host", "does not run here")


def test_unrunnable_gnu_falls_back_to_served_musl(tool, root, server, env, tmp_path, no_loader_elf):
    directory = publish(tool, root, "fallback",
                        {T: hostile(tool, tmp_path, dict.fromkeys(tool.binaries, no_loader_elf), [])})
    publish(tool, root, "fallback", {TM: real(tool, root, TM)})
    assert (directory / tool.archive(TM)).exists()
    result, _out = install(tool, env, dict(args(tool, server, "fallback"), install_dir=str(tmp_path / "b")))
    assert result["changed"] and result["target"] == TM, result
    assert "does not run here" in result["candidates"][0]["reason"]
    assert "passed over %s" % T in result["msg"] and "does not run here" in result["msg"], result["msg"]


# -- kill -9 -----------------------------------------------------------------------------

def module_pids(tool, env):
    """The pids of this test's own module processes: AnsiballZ_<tool>_install under its ANSIBLE_REMOTE_TMP.

    Never every such process on the machine: other stages (a fleet's hosts are chroots on this
    machine, so their modules are in the same process table) and the other pytest worker run
    the same module at the same time.
    """
    own = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                argv = handle.read().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        if any(a.startswith(env["ANSIBLE_REMOTE_TMP"] + os.sep) and a.endswith("AnsiballZ_%s_install.py" % tool.name)
               for a in argv):
            own.append(pid)
    return own


def kill_module_when(tool, env, predicate, deadline=60):
    """kill -9 this test's module process (AnsiballZ, see ``module_pids``) once ``predicate()`` holds."""
    end = time.time() + deadline
    while time.time() < end:
        if predicate():
            pids = module_pids(tool, env)
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if pids:
                return True
        time.sleep(0.05)
    return False


def background_install(tool, env, run_args):
    holder = {}
    thread = threading.Thread(target=lambda: holder.update(result=install(tool, env, run_args)[0]))
    thread.start()
    return thread, holder


def test_kill_mid_download_then_converge(tool, root, server, env, installed):
    server.faults["/%s/%s" % (tool.versioned(tool.new), tool.archive(T))] = {"trickle": 0.05}
    run_args = dict(args(tool, server, tool.versioned()), install_dir=str(installed))
    thread, holder = background_install(tool, env, run_args)

    def staging():
        return [str(installed / n) for n in os.listdir(str(installed)) if n.startswith(tool.row.staging_prefix)]

    def downloading():
        # The archive is unpacked into a staging folder while it downloads: the binary grows there.
        return any(os.path.exists(os.path.join(d, tool.name)) and os.path.getsize(os.path.join(d, tool.name)) > 0
                   for d in staging())

    assert kill_module_when(tool, env, downloading)
    thread.join(120)
    assert holder["result"].get("failed") or holder["result"].get("unreachable") or holder["result"].get("rc")
    assert staging(), "the killed run should have left its staging folder for the next run to clean"
    server.faults.clear()
    # The previous install is intact (checked by the fixture); now converge and go back.
    result, _out = install(tool, env, run_args)
    assert result["changed"] and result["version"] == tool.new
    assert not staging(), "the next run did not clean the killed run's staging folder"
    result, _out = install(tool, env, dict(run_args, version=tool.old))
    assert result["changed"] and result["version"] == tool.old


def test_kill_mid_install_then_converge(tool, root, server, env, installed, tmp_path):
    # The pre-swap check runs uvx for uv (which starts the uv beside it), the binary itself for
    # ruff and ty: a slow one holds the run there.
    check = tool.row.check
    slow = dict(tool.good, **{check: b"#!/bin/sh\nsleep 60\necho '%s %s'\n" % (check.encode(), tool.new.encode())})
    publish(tool, root, "slowrun", {T: hostile(tool, tmp_path, slow, [])})
    run_args = dict(args(tool, server, "slowrun"), install_dir=str(installed))
    thread, _holder = background_install(tool, env, run_args)

    def staged():
        return any(n.startswith(tool.row.staging_prefix) for n in os.listdir(str(installed)))

    assert kill_module_when(tool, env, staged)
    thread.join(120)
    assert staged(), "the killed run should have left its staging folder for the next run to clean"
    result, _out = install(tool, env, dict(args(tool, server, tool.versioned()), install_dir=str(installed), version=tool.old))
    assert not result["changed"] and not result.get("failed"), result
    assert not staged(), "the next run did not clean the killed run's staging folder"


# -- concurrency -------------------------------------------------------------------------

def test_eight_concurrent_runs(tool, root, server, env, tmp_path):
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[fleet]\n" + "".join(
        "h%d ansible_connection=local ansible_python_interpreter=%s\n" % (i, sys.executable) for i in range(8)))
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- hosts: fleet\n  gather_facts: false\n  tasks:\n"
        "    - %s:\n        version: %s\n        mirror_url: %s/%s/\n"
        "        install_dir: %s\n      register: r\n"
        "    - ansible.builtin.copy:\n        content: '{{ r | to_json }}'\n        dest: %s/{{ inventory_hostname }}.json\n"
        % (tool.module, tool.new, server.url, tool.versioned(), tmp_path / "shared", tmp_path / "results"))
    (tmp_path / "results").mkdir()
    proc = subprocess.run(["ansible-playbook", "-i", str(inventory), "-f", "8", str(playbook)], env=env,
                          capture_output=True, text=True, check=False, timeout=600)
    results = {}
    for name in os.listdir(str(tmp_path / "results")):
        with open(str(tmp_path / "results" / name)) as handle:
            results[name] = json.load(handle)
    assert len(results) == 8 and proc.returncode == 0, proc.stdout[-3000:]
    assert sum(1 for r in results.values() if r.get("changed")) == 1
    assert all(not r.get("failed") for r in results.values())
    out = subprocess.run([str(tmp_path / "shared" / tool.name), "--version"], capture_output=True, text=True,
                         check=True)
    assert tool.new in out.stdout
    assert sorted(os.listdir(str(tmp_path / "shared"))) == tool.files()


# -- bad options -------------------------------------------------------------------------

@pytest.mark.parametrize(
    "extra, fragments",
    [
        ({"version": "1.2"}, ["X.Y.Z", "'1.2'"]),
        ({"version": "v0.13.8"}, ["without the leading 'v'"]),
        ({"arch": "sparc64"}, ["unsupported machine 'sparc64'", "set arch"]),
        ({"mirror_url": "mirror.example.com/uv/"}, ["not an http:// or https:// URL"]),
        ({"install_dir": "/proc/self/uv-bin"}, ["cannot create install_dir /proc/self/uv-bin"]),
    ],
    ids=["version", "v-prefix", "arch", "no-scheme", "unwritable"],
)
def test_bad_options(tool, server, env, installed, extra, fragments):
    run_args = dict(args(tool, server, tool.versioned()), install_dir=str(installed))
    run_args.update(extra)
    result, _out = install(tool, env, run_args)
    fails(result, *fragments)


def test_install_dir_is_a_file(tool, server, env, installed):
    run_args = dict(args(tool, server, tool.versioned()), install_dir=str(installed / tool.name))
    result, _out = install(tool, env, run_args)
    fails(result, "is not a directory")


def test_secrets_in_url_never_shown(tool, server, env, installed):
    url = server.url.replace("http://", "http://fleet:%s@" % SECRETS[0]) + "/void/{version}/"
    result, out = install(tool, env, {"version": tool.new, "mirror_url": url, "install_dir": str(installed),
                                      "url_password": SECRETS[1], "download_retries": 0}, verbose=True)
    fails(result, "serves none")
    for secret in SECRETS:
        assert secret not in out
