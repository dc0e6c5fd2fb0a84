# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os
import threading
import time

import pytest

from ansible_collections.pyfleet.uv.tests.unit.plugins.module_utils.helpers import elf, host_run

from ansible_collections.pyfleet.uv.plugins.module_utils.install import _install
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import InstallError
from ansible_collections.pyfleet.uv.plugins.module_utils.install._install import (
    STAGING_PREFIX,
    DirLock,
    install_staged,
    remove_install,
    remove_stale_staging,
    verify_staged,
    write_receipt,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.install._installed import RECEIPT_NAME, read_receipt


T = "x86_64-unknown-linux-gnu"
GOOD = {"uv": b"#!/bin/sh\necho 'uv 0.13.8 (%s)'\n" % T.encode(),
        "uvx": b"#!/bin/sh\necho 'uvx 0.13.8 (%s)'\n" % T.encode()}


def stage(tmp_path, uv_body, uvx_body):
    directory = tmp_path / "staged"
    directory.mkdir()
    staged = {}
    for name, body in (("uv", uv_body), ("uvx", uvx_body)):
        path = directory / name
        path.write_text("#!/bin/sh\n" + body + "\n")
        path.chmod(0o755)
        staged[name] = str(path)
    return staged


# What a real uvx is: a launcher that runs "uv tool uvx" with the uv beside it.
LAUNCHER = 'exec "$(dirname "$0")/uv" tool uvx "$@"'


def counting(run):
    """``run`` that also records every argv it was given."""
    calls = []

    def wrapped(argv):
        calls.append(list(argv))
        return run(argv)
    return wrapped, calls


def test_verify_staged_ok(tmp_path):
    staged = stage(tmp_path, "echo 'uvx 0.13.8 (%s)'" % T, LAUNCHER)
    run, calls = counting(host_run)
    assert verify_staged(staged, "0.13.8", run) == (True, "0.13.8")
    assert verify_staged(staged, "latest", run) == (True, "0.13.8")
    # One process chain a check: uvx starts the staged uv itself.
    assert calls == [[staged["uvx"], "--version"]] * 2


def test_verify_staged_old_uvx_output(tmp_path):
    staged = stage(tmp_path, "echo 'uv-tool-uvx 0.5.11'", LAUNCHER)  # uv before 0.6
    assert verify_staged(staged, "0.5.11", host_run) == (True, "0.5.11")


def test_verify_staged_uvx_broken_uv_fine(tmp_path):
    staged = stage(tmp_path, "echo 'uv 0.13.8 (%s)'" % T, "echo 'error: Could not find the uv binary' >&2; exit 2")
    run, calls = counting(host_run)
    ok, reason = verify_staged(staged, "0.13.8", run)
    assert not ok and reason.startswith("uvx does not run here (exit 2)") and "Could not find" in reason, reason
    assert [argv[0] for argv in calls] == [staged["uvx"], staged["uv"]]


def test_verify_staged_wrong_build(tmp_path):
    staged = stage(tmp_path, "echo 'uvx 0.13.8 (aarch64-unknown-linux-gnu)'", LAUNCHER)
    ok, reason = verify_staged(staged, "0.13.8", host_run, want_target=T)
    assert not ok and "aarch64-unknown-linux-gnu build, not %s" % T in reason


def test_verify_staged_loader_error(tmp_path):
    message = "./uv: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by ./uv)"
    staged = stage(tmp_path, "cat >&2 <<'EOF'\n%s\nEOF\nexit 1" % message, LAUNCHER)
    ok, reason = verify_staged(staged, "0.13.8", host_run)
    assert not ok and "GLIBC_2.34" in reason and "does not run here" in reason


def test_verify_staged_wrong_version(tmp_path):
    staged = stage(tmp_path, "echo 'uv 0.5.11'", LAUNCHER)
    ok, reason = verify_staged(staged, "0.13.8", host_run)
    assert not ok and "0.5.11, not 0.13.8" in reason


def test_verify_staged_cannot_exec(tmp_path):
    staged = stage(tmp_path, "", LAUNCHER)
    with open(staged["uv"], "wb") as handle:
        handle.write(b"\x7fELF" + b"\x00" * 60)  # an ELF this kernel will not run
    ok, reason = verify_staged(staged, "0.13.8", host_run)
    assert not ok and "does not run here" in reason


# -- the second witness: the staged binaries' ELF headers (staged_build_problem) --------------

ARM64_LD = "/lib/ld-linux-aarch64.so.1"


def stage_images(tmp_path, uv_image, uvx_image):
    directory = tmp_path / "staged-elf"
    directory.mkdir()
    staged = {}
    for name, image in (("uv", uv_image), ("uvx", uvx_image)):
        path = directory / name
        path.write_bytes(image)
        path.chmod(0o755)
        staged[name] = str(path)
    return staged


@pytest.mark.parametrize(
    "fmt, uv_image, uvx_image, message",
    [
        ("wheel", elf(64, 183), elf(64, 183),
         "the wheel's tags say %s, the uv inside it is aarch64 (static); refused" % T),
        ("wheel", elf(64, 62), elf(64, 62),
         "the wheel's tags say %s, the uv inside it is x86_64 (static); refused" % T),
        ("tar.gz", elf(64, 183, ARM64_LD), elf(64, 183, ARM64_LD),
         "the archive says %s, the uv inside it is aarch64 (interpreter %s); refused" % (T, ARM64_LD)),
        ("wheel", elf(64, 62, "/lib64/ld-linux-x86-64.so.2"), elf(32, 3),
         "the wheel's tags say %s, the uvx inside it is i386 (static); refused" % T),
    ],
    ids=["aarch64-static", "x86_64-static", "aarch64-gnu-archive", "i386-uvx"],
)
def test_verify_staged_refuses_another_build_before_running_it(tmp_path, fmt, uv_image, uvx_image, message):
    """Under a binfmt emulator another architecture's build would start: it is never run."""
    staged = stage_images(tmp_path, uv_image, uvx_image)
    run, calls = counting(host_run)
    ok, reason = verify_staged(staged, "0.13.8", run, want_target=T, fmt=fmt)
    assert not ok and reason.startswith(message), reason
    assert calls == []


def test_staged_build_problem_agrees(tmp_path):
    gnu = elf(64, 62, "/lib64/ld-linux-x86-64.so.2")
    assert _install.staged_build_problem(stage_images(tmp_path, gnu, gnu), T, "wheel") is None
    musl = tmp_path / "musl"
    musl.mkdir()
    assert _install.staged_build_problem(stage_images(musl, elf(64, 62), elf(64, 62)),
                                         "x86_64-unknown-linux-musl", "tar.gz") is None


def test_staged_build_problem_not_elf_is_left_to_the_run(tmp_path):
    """A file that is not ELF has no header to read (the test doubles are shell scripts)."""
    staged = stage(tmp_path, "echo 'uv 0.13.8'", LAUNCHER)
    assert _install.staged_build_problem(staged, T, "wheel") is None


@pytest.mark.skipif(os.uname()[4] != "x86_64" or not os.path.exists("/lib64/ld-linux-x86-64.so.2"),
                    reason="reads this x86_64 glibc machine's own /bin/sh")
def test_staged_build_problem_real_binary(tmp_path):
    sh = os.path.realpath("/bin/sh")
    with open(sh, "rb") as handle:
        image = handle.read()
    staged = stage_images(tmp_path, image, image)
    assert _install.staged_build_problem(staged, T, "wheel") is None
    problem = _install.staged_build_problem(staged, "x86_64-unknown-linux-musl", "wheel")
    assert problem.startswith("the wheel's tags say x86_64-unknown-linux-musl, the uv inside it is x86_64 "
                              "(interpreter /lib64/ld-linux-x86-64.so.2)"), problem


def test_install_staged_and_receipt(tmp_path):
    dest = tmp_path / "bin"
    dest.mkdir()
    staging = tmp_path / "bin" / (STAGING_PREFIX + "x")
    staging.mkdir()
    staged = {}
    for name in ("uv", "uvx"):
        (staging / name).write_bytes(GOOD[name])
        staged[name] = str(staging / name)
    moved = install_staged(staged, str(dest))
    assert moved == [str(dest / "uv"), str(dest / "uvx")]
    assert os.stat(moved[0]).st_mode & 0o777 == 0o755
    write_receipt(str(dest), str(staging), {"version": "0.13.8", "target": T, "sha256": "a" * 64})
    assert read_receipt(str(dest))["target"] == T
    assert remove_stale_staging(str(dest)) == [STAGING_PREFIX + "x"]
    assert sorted(os.listdir(str(dest))) == sorted([RECEIPT_NAME, "uv", "uvx"])
    assert len(remove_install(str(dest))) == 3
    assert os.listdir(str(dest)) == []


def test_dir_lock_serialises(tmp_path):
    order = []

    def worker(tag):
        with DirLock(str(tmp_path)):
            order.append(tag + "-in")
            time.sleep(0.2)
            order.append(tag + "-out")

    threads = [threading.Thread(target=worker, args=(tag,)) for tag in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert order[0].endswith("-in") and order[1] == order[0].replace("-in", "-out")
    assert os.listdir(str(tmp_path)) == []  # no lock file left behind


def test_dir_lock_times_out(tmp_path):
    with DirLock(str(tmp_path)):
        with pytest.raises(InstallError, match="held the lock"):
            with DirLock(str(tmp_path), timeout=0.3, poll=0.05):
                pass


def test_make_staging_dir_unwritable(tmp_path):
    if os.geteuid() == 0:
        target = "/proc/pyfleet-uv-not-writable"  # even root cannot create here
    else:
        target = str(tmp_path / "ro")
        os.mkdir(target, 0o555)
    with pytest.raises(InstallError, match="install_dir"):
        _install.make_staging_dir(target)


# -- the swap is all-or-nothing; errors say what is wrong (issue 10, items 2, 3 and 7) ------

import contextlib  # noqa: E402  pylint: disable=wrong-import-position
import errno  # noqa: E402  pylint: disable=wrong-import-position
import hashlib  # noqa: E402  pylint: disable=wrong-import-position
import subprocess  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import (  # noqa: E402  pylint: disable=wrong-import-position
    DiskFullError,
)

OLD = {"uv": b"#!/bin/sh\necho 'uv 0.5.11'\n", "uvx": b"#!/bin/sh\necho 'uvx 0.5.11'\n"}
NEEDS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="chattr and mount need root")


def digests(directory):
    return {name: hashlib.sha256((directory / name).read_bytes()).hexdigest()
            for name in ("uv", "uvx", RECEIPT_NAME) if (directory / name).exists()}


def previous_install(tmp_path):
    """``bin/`` with an old uv, uvx and receipt, and a staging folder holding the new build."""
    dest = tmp_path / "bin"
    dest.mkdir()
    for name, body in OLD.items():
        (dest / name).write_bytes(body)
        (dest / name).chmod(0o755)
    (dest / RECEIPT_NAME).write_text('{"schema": 1, "version": "0.5.11"}\n')
    staging = dest / (STAGING_PREFIX + "t")
    staging.mkdir()
    staged = {}
    for name in ("uv", "uvx"):
        (staging / name).write_bytes(GOOD[name])
        (staging / name).chmod(0o700)
        staged[name] = str(staging / name)
    return dest, staging, staged


@contextlib.contextmanager
def immutable(path):
    subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_install_staged_all_new_with_receipt(tmp_path):
    dest, staging, staged = previous_install(tmp_path)
    paths = install_staged(staged, str(dest), receipt={"version": "0.13.8", "target": T})
    assert paths == [str(dest / "uv"), str(dest / "uvx")]
    for name in ("uv", "uvx"):
        assert (dest / name).read_bytes() == GOOD[name]
        assert (dest / name).stat().st_mode & 0o777 == 0o755
    assert read_receipt(str(dest))["version"] == "0.13.8"
    assert (dest / RECEIPT_NAME).stat().st_mode & 0o777 == 0o644


@NEEDS_ROOT
@pytest.mark.parametrize("name", ["uv", "uvx", RECEIPT_NAME])
def test_install_staged_immutable_file_changes_nothing(tmp_path, name):
    dest, _staging, staged = previous_install(tmp_path)
    before = digests(dest)
    receipt = {"version": "0.13.8"} if name == RECEIPT_NAME else None
    with immutable(dest / name):
        with pytest.raises(InstallError) as info:
            install_staged(staged, str(dest), receipt=receipt)
    assert digests(dest) == before, "the previous install was modified"
    msg = info.value.msg
    assert "cannot replace %s: operation not permitted (immutable file or directory?)" % (dest / name) in msg, msg
    assert "the previous uv and uvx are unchanged" in msg and "become" not in msg
    assert sorted(os.listdir(str(dest))) == sorted([RECEIPT_NAME, "uv", "uvx", STAGING_PREFIX + "t"])


def test_install_staged_fresh_install_rolls_back_to_nothing(tmp_path):
    dest = tmp_path / "bin"
    dest.mkdir()
    (dest / "uv").mkdir()  # a directory where uv goes: rename fails with EISDIR
    (dest / "uv" / "keep").write_text("x")
    staging = dest / (STAGING_PREFIX + "t")
    staging.mkdir()
    staged = {}
    for name in ("uv", "uvx"):
        (staging / name).write_bytes(GOOD[name])
        staged[name] = str(staging / name)
    with pytest.raises(InstallError) as info:
        install_staged(staged, str(dest))
    assert not (dest / "uvx").exists(), "the new uvx stayed without its uv"
    assert "cannot replace %s" % (dest / "uv") in info.value.msg and "uvx put back" in info.value.msg


@pytest.mark.parametrize(
    "code, is_root, expected",
    [
        (errno.EPERM, True, "operation not permitted (immutable file or directory?)"),
        (errno.EROFS, True, "read-only file system"),
        (errno.EACCES, False, "permission denied; run with become: true"),
        (errno.EACCES, True, "Permission denied"),
    ],
    ids=["eperm", "erofs", "eacces-user", "eacces-root"],
)
def test_os_reason(code, is_root, expected):
    assert expected in _install.os_reason(OSError(code, os.strerror(code)), is_root=is_root)


@NEEDS_ROOT
def test_ensure_install_dir_immutable_for_root(tmp_path):
    target = tmp_path / "bin"
    target.mkdir()
    with immutable(target):
        with pytest.raises(InstallError) as info:
            _install.ensure_install_dir(str(target))
    assert "operation not permitted (immutable file or directory?)" in info.value.msg
    assert "become" not in info.value.msg


@pytest.fixture
def tmpfs(tmp_path):
    """``tmpfs(options)``: a fresh tmpfs mounted under tmp_path, unmounted afterwards (needs root)."""
    mounts = []

    def make(options):
        mount = tmp_path / ("fs%d" % len(mounts))
        mount.mkdir()
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)], capture_output=True,
                              check=False)
        if proc.returncode != 0:
            pytest.skip("cannot mount a tmpfs: %s" % proc.stderr.decode(errors="replace").strip())
        mounts.append(mount)
        return mount

    yield make
    for mount in reversed(mounts):
        subprocess.run(["umount", str(mount)], check=True)


@NEEDS_ROOT
def test_ensure_install_dir_read_only_for_root(tmpfs):
    mount = tmpfs("size=64k,ro")
    with pytest.raises(InstallError) as info:
        _install.ensure_install_dir(str(mount))
    assert "read-only file system" in info.value.msg and "become" not in info.value.msg


def fill(directory):
    """Fill the file system of ``directory`` up to its last byte."""
    fd = os.open(str(directory / "filler"), os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


@NEEDS_ROOT
def test_receipt_on_a_full_disk_changes_nothing(tmpfs):
    mount = tmpfs("size=256k")
    dest, _staging, staged = previous_install(mount)
    before = digests(dest)
    fill(dest)
    with pytest.raises(DiskFullError) as info:
        install_staged(staged, str(dest), receipt={"version": "0.13.8"})
    assert "no space left on device in %s" % dest in info.value.msg
    (dest / "filler").unlink()
    assert digests(dest) == before


@NEEDS_ROOT
def test_write_receipt_on_a_full_disk_says_so(tmpfs):
    mount = tmpfs("size=256k")
    dest, staging, _staged = previous_install(mount)
    fill(dest)
    with pytest.raises(DiskFullError) as info:
        write_receipt(str(dest), str(staging), {"version": "0.13.8"})
    assert "no space left on device in %s" % dest in info.value.msg and "not up to date" in info.value.msg
    assert not (staging / RECEIPT_NAME).exists()


@NEEDS_ROOT
def test_make_staging_dir_out_of_inodes(tmpfs):
    mount = tmpfs("size=1m,nr_inodes=4")
    for index in range(8):
        try:
            (mount / ("f%d" % index)).write_text("")
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
            break
    with pytest.raises(DiskFullError) as info:
        _install.make_staging_dir(str(mount), needed_bytes=50 * 1024 * 1024)
    assert "no space left on device in %s (needs about 50 MB)" % mount in info.value.msg


def test_make_dirs_ignores_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        _install.ensure_install_dir(str(tmp_path / "a" / "b" / "bin"))
    finally:
        os.umask(old)
    for folder in ("a", "a/b", "a/b/bin"):
        assert (tmp_path / folder).stat().st_mode & 0o777 == 0o755, folder


def test_two_first_installs_race_on_makedirs(tmp_path):
    """Two runs creating the same new install_dir at once both succeed (EEXIST is not an error)."""
    failures = []
    for attempt in range(40):
        target = str(tmp_path / str(attempt) / "deep" / "bin")
        barrier = threading.Barrier(2)

        def make():
            barrier.wait()
            try:
                _install.ensure_install_dir(target)
            except Exception as exc:  # pylint: disable=broad-except
                failures.append(exc)
        threads = [threading.Thread(target=make), threading.Thread(target=make)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not failures, failures[:3]


@NEEDS_ROOT
def test_remove_install_immutable_file_says_which(tmp_path):
    dest, _staging, _staged = previous_install(tmp_path)
    with immutable(dest / "uvx"):
        with pytest.raises(InstallError) as info:
            remove_install(str(dest))
    msg = info.value.msg
    assert "cannot remove %s" % (dest / "uvx") in msg and "immutable" in msg, msg
    assert "removed %s" % (dest / "uv") in msg
