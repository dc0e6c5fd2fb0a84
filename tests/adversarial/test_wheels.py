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
    OLD,
    T,
    Tool,
    env,
    fails,
    installed,
    root,
    server,
    uv_install,
)
import uvindex_static  # noqa: E402  pylint: disable=wrong-import-position  # tests/utils, on sys.path from above


@pytest.fixture
def tool():
    """uv only: these cases are about uv's own wheels (the compressed Tag line maturin 1.7 wrote, uv
    0.5.11's musl build under gnu tags); ruff's and ty's wheels go through the tool_install target."""
    return Tool("uv")


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    """A static PEP 503 tree on loopback (uvindex_static.StaticServer): ``(root, url)``."""
    base = tmp_path_factory.mktemp("hostile-index")
    srv = uvindex_static.StaticServer(str(base)).start()
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


def publish_wheel(root, case, members, version=NEW):
    """``<root>/idx-<case>/simple/uv/index.html`` listing one wheel; returns the index_url path.

    The wheel is named and tagged (one compressed ``Tag:`` line, as maturin 1.7 wrote it)
    for x86_64 gnu, whatever ``members`` hold.
    """
    wheel = "uv-%s-py3-none-%s.whl" % (version, TAG)
    base = root / ("idx-%s" % case)
    (base / "packages").mkdir(parents=True, exist_ok=True)
    (base / "simple" / "uv").mkdir(parents=True, exist_ok=True)
    path = base / "packages" / wheel
    with zipfile.ZipFile(str(path), "w") as archive:
        for item, data in members:
            archive.writestr(item, data)
        archive.writestr(*entry("uv-%s.dist-info/WHEEL" % version,
                                b"Wheel-Version: 1.0\nTag: py3-none-%s\n" % TAG.encode(), 0o100644))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    (base / "simple" / "uv" / "index.html").write_text(
        '<html><body><a href="../../packages/%s#sha256=%s">%s</a></body></html>\n' % (wheel, digest, wheel))
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


def real_scripts(version, tag):
    """``scripts()`` members holding the real uv and uvx of the cached ``version`` wheel with ``tag``."""
    wheels = os.path.join(os.path.dirname(MIRROR.rstrip("/")), "wheels")
    names = [n for n in os.listdir(wheels) if n.startswith("uv-%s-py3-none-%s" % (version, tag))]
    if not names:
        pytest.skip("no %s wheel of %s in %s" % (tag, version, wheels))
    folder = "uv-%s.data/scripts/" % version
    with zipfile.ZipFile(os.path.join(wheels, names[0])) as real:
        return [entry(folder + "uv", real.read(folder + "uv")), entry(folder + "uvx", real.read(folder + "uvx"))]


def test_wheel_holding_another_architecture(index, env, installed):
    """An x86_64-tagged wheel whose uv is the real aarch64 build: refused before it is run.

    Its ELF header is read first (with qemu-user registered for binfmt it would even run),
    and the message gives both readings.
    """
    members = real_scripts(NEW, "manylinux_2_28_aarch64")
    result, _out = uv_install(env, dict(index_args(index, publish_wheel(index[0], "aarch64", members)),
                                        install_dir=str(installed)))
    fails(result, "the wheel's tags say %s, the uv inside it is aarch64 (interpreter /lib/ld-linux-aarch64.so.1)" % T,
          "previous install is untouched")


@pytest.mark.parametrize("download_on", ["host", "controller"])
def test_old_wheel_holding_the_musl_build_under_gnu_tags(index, env, tmp_path, download_on):
    """uv 0.5.11's static musl uv in a wheel tagged (compressed, as maturin 1.7 did) for x86_64 gnu.

    It runs on this glibc host and uv 0.5.11 does not print its target, so before the ELF
    check it was installed and recorded as the gnu build. Now it is refused, with both
    readings, from the index on the host and pushed by the controller (``src``, where the
    build is read from the WHEEL metadata) alike; nothing is installed.
    """
    members = real_scripts(OLD, "musllinux_1_1_x86_64")
    bindir = tmp_path / "bin"
    args = dict(index_args(index, publish_wheel(index[0], "musl-as-gnu-%s" % download_on, members, version=OLD)),
                version=OLD, install_dir=str(bindir), download_on=download_on)
    if download_on == "controller":
        args["controller_cache_dir"] = str(tmp_path / "cache")
    result, _out = uv_install(env, args)
    fails(result, "the wheel's tags say %s, the uv inside it is x86_64 (static)" % T)
    assert not (bindir / "uv").exists() and not (bindir / ".pyfleet-uv.json").exists()


def test_wrong_sha256_on_the_index(index, env, installed):
    path = publish_wheel(index[0], "tampered", scripts())
    page = index[0] / "idx-tampered" / "simple" / "uv" / "index.html"
    text = page.read_text()
    page.write_text(text.replace(text.split("#sha256=")[1][:64], "1" * 64))
    result, _out = uv_install(env, dict(index_args(index, path), install_dir=str(installed)))
    fails(result, "checksum mismatch", "1" * 64)
