# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Adversarial: hostile wheels on a package index (index_url).

Each case publishes one wheel on a PEP 503 page served from the loopback mirror, with
its true sha256 (the index is honest about the bytes; the bytes are hostile), and runs
the real module through ``ansible`` on top of a working uv (see the ``installed``
fixture, which checks that the previous install is intact and nothing stray is left).
"""

from __future__ import annotations

import hashlib
import os
import sys
import zipfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_uv_install_adversarial import (  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
    MIRROR,
    NEW,
    env,
    fails,
    installed,
    root,
    server,
    uv_install,
)
import uvindex  # noqa: E402  pylint: disable=wrong-import-position  # tests/utils, on sys.path from above


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    """A static PEP 503 tree on loopback (uvindex.StaticServer): ``(root, url)``."""
    base = tmp_path_factory.mktemp("hostile-index")
    srv = uvindex.StaticServer(str(base)).start()
    yield base, "http://127.0.0.1:%d" % srv.server_address[1]
    srv.stop()


TAG = "manylinux_2_17_x86_64.manylinux2014_x86_64"
WHEEL = "uv-%s-py3-none-%s.whl" % (NEW, TAG)
SCRIPTS = "uv-%s.data/scripts/" % NEW
GOOD = {"uv": b"#!/bin/sh\necho 'uv %s'\n" % NEW.encode(), "uvx": b"#!/bin/sh\necho 'uvx %s'\n" % NEW.encode()}


def entry(name, data, mode=0o100755):
    item = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
    item.external_attr = mode << 16
    item.compress_type = zipfile.ZIP_DEFLATED
    return item, data


def publish_wheel(root, case, members):
    """``<root>/idx-<case>/simple/uv/index.html`` listing one wheel; returns the index_url path."""
    base = root / ("idx-%s" % case)
    (base / "packages").mkdir(parents=True, exist_ok=True)
    (base / "simple" / "uv").mkdir(parents=True, exist_ok=True)
    path = base / "packages" / WHEEL
    with zipfile.ZipFile(str(path), "w") as archive:
        for item, data in members:
            archive.writestr(item, data)
        archive.writestr(*entry("uv-%s.dist-info/WHEEL" % NEW, b"Wheel-Version: 1.0\nTag: py3-none-%s\n" % TAG.encode(),
                                0o100644))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    (base / "simple" / "uv" / "index.html").write_text(
        '<html><body><a href="../../packages/%s#sha256=%s">%s</a></body></html>\n' % (WHEEL, digest, WHEEL))
    return "idx-%s/simple/" % case


def index_args(index, path):
    return {"version": NEW, "index_url": index[1] + "/" + path, "download_retries": 1}


def scripts(uv=GOOD["uv"], uvx=GOOD["uvx"]):
    return [entry(SCRIPTS + "uv", uv), entry(SCRIPTS + "uvx", uvx)]


def test_extra_and_traversal_members_are_never_written(index, env, tmp_path):
    """A wheel may carry anything; only its two scripts ever reach the disk."""
    members = scripts() + [entry("../../../pwned-traversal", b"x"), entry("/tmp/pwned-absolute-wheel", b"x"),
                           entry(SCRIPTS + "postinstall", b"#!/bin/sh\nrm -rf /\n"), entry("uv/__init__.py", b"")]
    bindir = tmp_path / "bin"
    result, _out = uv_install(env, dict(index_args(index, publish_wheel(index[0], "extra", members)),
                                        install_dir=str(bindir)))
    assert result.get("changed") and not result.get("failed"), result.get("msg")
    assert result["artifact"] == WHEEL and result["source"] == "index"
    assert sorted(os.listdir(str(bindir))) == [".pyfleet-uv.json", "uv", "uvx"]
    for stray in (tmp_path / "pwned-traversal", "/tmp/pwned-absolute-wheel", "/pwned-traversal"):
        assert not os.path.exists(str(stray))


@pytest.mark.parametrize(
    "case, members, fragment",
    [
        ("symlink", [entry(SCRIPTS + "uv", b"/bin/sh", 0o120777), entry(SCRIPTS + "uvx", GOOD["uvx"])],
         "symbolic link"),
        ("zip-bomb", [entry(SCRIPTS + "uv", b"\0" * (64 * 1024 * 1024)), entry(SCRIPTS + "uvx", GOOD["uvx"])],
         "zip bomb"),
        ("no-uvx", [entry(SCRIPTS + "uv", GOOD["uv"])], "no uv-%s.data/scripts/uvx" % NEW),
        ("other-version", [entry("uv-0.0.1.data/scripts/uv", GOOD["uv"]), entry("uv-0.0.1.data/scripts/uvx", GOOD["uvx"])],
         "not uv %s's scripts" % NEW),
        ("not-a-zip", None, "not a readable wheel"),
    ],
)
def test_hostile_wheel_keeps_previous(index, env, installed, case, members, fragment):
    root = index[0]
    if members is None:
        path = publish_wheel(root, case, [])
        wheel = root / ("idx-%s" % case) / "packages" / WHEEL
        wheel.write_bytes(b"<html>login required</html>")
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        page = root / ("idx-%s" % case) / "simple" / "uv" / "index.html"
        page.write_text('<a href="../../packages/%s#sha256=%s">%s</a>\n' % (WHEEL, digest, WHEEL))
    else:
        path = publish_wheel(root, case, members)
    result, _out = uv_install(env, dict(index_args(index, path), install_dir=str(installed)))
    fails(result, fragment)


def test_wheel_holding_another_architecture(index, env, installed):
    """An x86_64-tagged wheel whose uv is the real aarch64 build: refused, whatever runs it.

    Without a binfmt handler the kernel cannot execute it; with qemu-user registered it runs
    and names its own target, which is not the one asked for.
    """
    wheels = os.path.join(os.path.dirname(MIRROR.rstrip("/")), "wheels")
    names = [n for n in os.listdir(wheels) if n.startswith("uv-%s-" % NEW) and "manylinux_2_28_aarch64" in n]
    if not names:
        pytest.skip("no aarch64 wheel of %s in %s" % (NEW, wheels))
    with zipfile.ZipFile(os.path.join(wheels, names[0])) as real:
        members = scripts(uv=real.read(SCRIPTS + "uv"), uvx=real.read(SCRIPTS + "uvx"))
    result, _out = uv_install(env, dict(index_args(index, publish_wheel(index[0], "aarch64", members)),
                                        install_dir=str(installed)))
    fails(result)
    assert ("does not run here" in result["msg"] or "aarch64-unknown-linux-gnu build, not x86_64" in result["msg"]), \
        result["msg"]
    assert "previous install is untouched" in result["msg"]


def test_wrong_sha256_on_the_index(index, env, installed):
    path = publish_wheel(index[0], "tampered", scripts())
    page = index[0] / "idx-tampered" / "simple" / "uv" / "index.html"
    text = page.read_text()
    page.write_text(text.replace(text.split("#sha256=")[1][:64], "1" * 64))
    result, _out = uv_install(env, dict(index_args(index, path), install_dir=str(installed)))
    fails(result, "checksum mismatch", "1" * 64)
