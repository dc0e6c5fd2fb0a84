# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reliability under real conditions: credentials across redirects, an all-or-nothing
swap (immutable files), full disks (small tmpfs mounts) and root-only messages.

Like the other adversarial cases, each runs the real module through a real ``ansible``
against loopback servers on top of a working uv install, and the ``installed`` fixture
checks afterwards that the previous uv is byte-identical and nothing was left behind.
The immutable-file and tmpfs cases need root (``chattr``, ``mount``): the suite runs as
root; every flag is cleared and every mount undone in teardown.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "utils"))
sys.path.insert(0, os.path.dirname(__file__))
import uvmirror  # noqa: E402  pylint: disable=wrong-import-position
from test_uv_install_adversarial import (  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
    T,
    args,
    env,
    fails,
    install,
    installed,
    publish,
    real,
    root,
    server,
    tool,
)

pytestmark = pytest.mark.skipif(not os.path.isdir(os.environ.get("PYFLEET_UV_MIRROR", "")),
                                reason="run through hacking/suite (needs the mirror tree and ansible)")
NEEDS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="chattr and mount need root")

PASSWORD = "pw-redirect-s3cret"
TOKEN = "tok-redirect-s3cret"
COOKIE = "session=cookie-redirect-s3cret"


# -- a server that records what it was sent ------------------------------------------------

class RecordingHandler(uvmirror.FaultyHandler):
    """``FaultyHandler`` that keeps every request's path and headers in ``server.seen``."""

    def do_GET(self, head=False):  # noqa: N802
        self.server.seen.append((self.path, dict(self.headers.items())))
        super().do_GET(head=head)


class RecordingServer(uvmirror.MirrorServer):
    def __init__(self, root_dir):
        super().__init__(root_dir)
        self.seen = []
        self.RequestHandlerClass = functools.partial(RecordingHandler, directory=root_dir)


@pytest.fixture
def other(root):
    """A second loopback origin (another port) serving the same tree, without auth."""
    srv = RecordingServer(str(root)).start()
    yield srv
    srv.stop()


def leaked(seen):
    """Every secret (or credential header) that reached a server."""
    found = []
    for path, headers in seen:
        for name, value in headers.items():
            if name.lower() in ("authorization", "proxy-authorization", "cookie", "x-mirror-token"):
                found.append((path, name))
            elif any(secret in value for secret in (PASSWORD, TOKEN, COOKIE)):
                found.append((path, name))
    return found


CREDENTIALS = {"url_username": "fleet", "url_password": PASSWORD, "force_basic_auth": True,
               "headers": {"X-Mirror-Token": TOKEN, "Cookie": COOKIE}}


# -- 1. credentials stay with their origin ---------------------------------------------------

def test_cross_origin_redirect_sends_no_credentials(tool, root, server, other, env, tmp_path):
    """An authenticated mirror that answers 302 to storage elsewhere (S3, a CDN)."""
    server.faults["/xo/*"] = {"auth": "fleet:%s" % PASSWORD, "header": ["X-Mirror-Token", TOKEN],
                              "redirect_base": other.url + "/" + tool.versioned("")}
    result, out = install(tool, env, dict(args(tool, server, "xo/{version}"), install_dir=str(tmp_path / "b"),
                                          **CREDENTIALS), verbose=True)
    assert result.get("changed") and result["version"] == tool.new, result
    assert len(other.seen) == 2, other.seen  # the sidecar and the archive, both redirected
    assert leaked(other.seen) == [], "credentials crossed to another origin: %s" % leaked(other.seen)
    for secret in (PASSWORD, TOKEN, COOKIE):
        assert secret not in out


def test_same_origin_redirect_keeps_credentials(tool, root, server, env, tmp_path):
    publish(tool, root, "so-target", {T: real(tool, root)})
    demand = {"auth": "fleet:%s" % PASSWORD, "header": ["X-Mirror-Token", TOKEN]}
    server.faults["/so/*"] = dict(demand, redirect_base=server.url + "/so-target/")
    server.faults["/so-target/*"] = demand
    run_args = dict(args(tool, server, "so"), install_dir=str(tmp_path / "b"), url_username="fleet",
                    url_password=PASSWORD, headers={"X-Mirror-Token": TOKEN})
    result, _out = install(tool, env, run_args)  # basic auth after a 401 challenge, on each hop
    assert result.get("changed") and result["version"] == tool.new, result


def test_redirect_chain_is_shown_when_the_target_fails(tool, root, server, other, env, installed):
    server.faults["/chain/*"] = {"redirect_base": other.url + "/nowhere/"}
    result, _out = install(tool, env, dict(args(tool, server, "chain/{version}"), install_dir=str(installed)))
    fails(result, "%s/chain/%s/%s -> HTTP 302; %s/nowhere/%s/%s -> HTTP 404"
          % (server.url, tool.new, tool.archive(T), other.url, tool.new, tool.archive(T)))


# -- 2. the swap is all or nothing -----------------------------------------------------------

@contextlib.contextmanager
def immutable(path):
    subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@NEEDS_ROOT
@pytest.mark.parametrize("which", [0, -1], ids=["first", "last"])
def test_immutable_binary_keeps_both_old(tool, root, server, env, installed, which):
    """The tool's own binary (uv, ruff, ty), then its last one (uvx for uv)."""
    name = tool.binaries[which]
    with immutable(installed / name):
        result, _out = install(tool, env, dict(args(tool, server, tool.versioned()), install_dir=str(installed)))
    fails(result, "cannot replace %s: operation not permitted (immutable file or directory?)" % (installed / name),
          "the previous %s %s unchanged" % (tool.row.words, tool.row.are))
    assert "become" not in result["msg"]
    # The installed fixture checks that uv and uvx are byte-identical to before and no
    # staging folder or temp file is left.


# -- 7. root on an immutable or read-only directory -------------------------------------------

@NEEDS_ROOT
def test_immutable_install_dir_for_root(tool, root, server, env, installed):
    with immutable(installed):
        result, _out = install(tool, env, dict(args(tool, server, tool.versioned()), install_dir=str(installed)))
    fails(result, "install_dir %s" % installed, "operation not permitted (immutable file or directory?)")
    assert "become" not in result["msg"]


@NEEDS_ROOT
def test_read_only_install_dir_for_root(tool, root, server, env, installed):
    subprocess.run(["mount", "--bind", str(installed), str(installed)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(installed)], check=True)
        result, _out = install(tool, env, dict(args(tool, server, tool.versioned()), install_dir=str(installed)))
    finally:
        subprocess.run(["umount", str(installed)], check=True)
    fails(result, "install_dir %s" % installed, "read-only file system")
    assert "become" not in result["msg"]


# -- 3. full disks ---------------------------------------------------------------------------

def mount_tmpfs(path, options):
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], check=True)


def archive_requests(tool, srv):
    return sum(1 for path in srv.stats.paths if path.endswith("/" + tool.archive(T)))


@NEEDS_ROOT
def test_release_archive_never_touches_the_module_temp_dir(tool, root, server, env, tmp_path):
    """A release archive is unpacked into install_dir while it downloads: a full temp dir does not matter."""
    remote = env["ANSIBLE_REMOTE_TMP"]
    mount_tmpfs(remote, "size=4m")  # room for the module itself, not for a 16 MB archive
    try:
        before = archive_requests(tool, server)
        result, _out = install(tool, env, dict(args(tool, server, tool.versioned()), install_dir=str(tmp_path / "b")))
        assert os.listdir(remote) == [], "left in the temp dir: %s" % os.listdir(remote)
    finally:
        subprocess.run(["umount", remote], check=True)
    assert result.get("changed") and result["version"] == tool.new, result
    assert archive_requests(tool, server) - before == 1


def publish_index(tool, root, name, wheel):
    """A PEP 503 page ``root/name/simple/<tool>/`` listing ``wheel`` (a file under ``root``) with its sha256."""
    page = root / name / "simple" / tool.name
    page.mkdir(parents=True)
    relative = os.path.relpath(wheel, str(page))
    page.joinpath("index.html").write_text('<a href="%s#sha256=%s">%s</a>\n' % (
        relative, uvmirror.sha256_file(wheel), os.path.basename(wheel)))
    return name + "/simple/"


@NEEDS_ROOT
def test_full_module_temp_dir(tool, root, server, env, installed):
    """A wheel (a zip, read after the download) goes to the module's temp dir, which is full."""
    wheels = os.path.join(os.path.dirname(os.environ["PYFLEET_UV_MIRROR"].rstrip("/")), "wheels")
    name = "%s-%s-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl" % (tool.name, tool.new)
    shutil.copy(os.path.join(wheels, name), str(root / name))
    index_path = publish_index(tool, root, "idx-full-tmp-" + tool.name, str(root / name))
    remote = env["ANSIBLE_REMOTE_TMP"]
    mount_tmpfs(remote, "size=4m")  # room for the module itself, not for a 16 MB wheel
    try:
        before = server.stats.requests
        result, _out = install(tool, env, {"version": tool.new, "index_url": "%s/%s" % (server.url, index_path),
                                           "install_dir": str(installed), "download_retries": 3})
        assert os.listdir(remote) == [], "left in the temp dir: %s" % os.listdir(remote)
    finally:
        subprocess.run(["umount", remote], check=True)
    # The wheel's size in MiB, rounded up: uv's 17, ruff's 11, ty's 18.
    fails(result, "no space left on device in %s/" % remote,
          "(needs about %d MB)" % -(-os.path.getsize(os.path.join(wheels, name)) // (1024 * 1024)))
    assert "connection failed" not in result["msg"] and "not a readable" not in result["msg"]
    assert server.stats.requests - before == 2, "a full disk was retried (the page, then the wheel once)"


@pytest.fixture
def tmpfs_bin(tmp_path):
    """``tmp_path/bin`` on its own 48 MB tmpfs (the installed fixture then puts the tool's old version there)."""
    if os.geteuid() != 0:
        pytest.skip("mount needs root")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    # A fresh tmpfs is mode 1777, which the modules refuse as an install_dir (anyone could put a
    # binary there that root would run): 0755, as a real install_dir.
    mount_tmpfs(bindir, "size=48m,mode=0755")
    yield bindir
    subprocess.run(["umount", str(bindir)], check=True)


@pytest.fixture
def full_bin(tmpfs_bin, installed):
    """The tmpfs install_dir holding the tool's old version, shrunk so that nothing more fits.

    ``remount(option)`` sets ``size=`` or ``nr_inodes=`` to what is used now (plus a
    little room that is not enough for a new uv).
    """
    def remount(kind):
        stat = os.statvfs(str(installed))
        if kind == "size":
            used = (stat.f_blocks - stat.f_bfree) * stat.f_frsize
            option = "size=%d" % (used + 4 * 1024 * 1024)
        else:
            option = "nr_inodes=%d" % (stat.f_files - stat.f_ffree)
        subprocess.run(["mount", "-o", "remount," + option, str(installed)], check=True)
    return remount


@NEEDS_ROOT
def test_full_install_dir_while_extracting(tool, root, server, env, full_bin, installed):
    full_bin("size")
    result, _out = install(tool, env, dict(args(tool, server, tool.versioned()), install_dir=str(installed)))
    fails(result, "no space left on device in %s" % installed, "needs about")
    assert "not a readable" not in result["msg"]


@NEEDS_ROOT
def test_no_inode_left_for_the_staging_dir(tool, root, server, env, full_bin, installed):
    full_bin("inodes")
    result, _out = install(tool, env, dict(args(tool, server, tool.versioned()), install_dir=str(installed)))
    fails(result, "no space left on device in %s" % installed)
