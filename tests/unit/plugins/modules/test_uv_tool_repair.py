# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""uv_tool when things go wrong: failed upgrades, tools whose Python or receipt is gone, links in
bin_dir that were deleted or taken over, requests uv records in its own words, secrets, umasks.

The real uv and a real loopback index, as in test_uv_tool.py; this index also serves
``pyfleet-hello`` 1.3, a wheel uv resolves but refuses to install (``Wheel-Version: 9.0``), after
it has taken the old version out of the tool's environment.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "module_utils"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "utils"))
import venvindex  # noqa: E402  pylint: disable=wrong-import-position
from real_uv import real_uv  # noqa: E402  pylint: disable=wrong-import-position
from test_uv_tool import SYSTEM_PYTHON, build_tool_wheel, listing, pytestmark, tool  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

WHEEL = "pyfleet_hello-%s-py3-none-any.whl"


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    dest = str(tmp_path_factory.mktemp("toolwheels"))
    wheels = venvindex.fetch(("six==1.16.0", "six==1.17.0"))
    wheels += [build_tool_wheel(dest, "1.0"), build_tool_wheel(dest, "1.1"), build_tool_wheel(dest, "1.3", "9.0")]
    with venvindex.static_index(wheels) as (url, counter):
        yield url, counter


def runs(link):
    return subprocess.run([link], capture_output=True, text=True, check=False).stdout


def leftovers(tool):
    """What is in tool_dir besides the tool's environment and uv's own lock files."""
    return sorted(set(os.listdir(tool.tool_dir)) - {"pyfleet-hello", ".lock", ".gitignore", ".pyfleet-hello.pyfleet-lock"})


def test_a_failed_upgrade_or_reinstall_restores_the_working_tool(tool):
    rc, made = tool()
    assert rc == 0 and made["changed"], made["msg"]
    for args in ({"name": "pyfleet-hello==1.3"}, {"name": "pyfleet-hello==1.3", "state": "reinstalled"}):
        rc, failed = tool(**args)
        assert rc == 1, failed["msg"]
        assert "Unsupported wheel major version" in failed["msg"]
        assert "Nothing was changed" not in failed["msg"]
        assert "pyfleet-hello 1.0 was restored as it was" in failed["msg"]
        assert runs(tool.link) == "hello 1.0\n"  # the old tool still runs, its link in place
        assert listing(tool.env)["pyfleet-hello"] == "1.0"
        assert leftovers(tool) == []  # no backup left behind
    rc, again = tool()
    assert rc == 0 and not again["changed"], again["msg"]


def test_a_run_killed_midway_gets_its_backup_back(tool):
    """A complete backup at start-up means uv may have been midway: it goes back in place of the
    environment (half-updated in copy mode, partly made in reinstall mode), with its links."""
    tool()
    backup = os.path.join(tool.tool_dir, ".pyfleet-hello.pyfleet-backup")
    shutil.copytree(tool.env, backup, symlinks=True)
    code = glob.glob(os.path.join(tool.env, "lib", "*", "site-packages", "pyfleet_hello", "__init__.py"))[0]
    with open(code, "w") as handle:
        handle.write("def main():\n    print('half updated')\n")
    rc, again = tool()
    assert rc == 0 and runs(tool.link) == "hello 1.0\n" and leftovers(tool) == [], again["msg"]
    assert "interrupted run was recovered" in json.dumps(again.get("warnings")), sorted(again)
    os.rename(tool.env, backup)
    os.unlink(tool.link)
    os.makedirs(os.path.join(tool.env, "bin"))
    with open(os.path.join(tool.env, "pyvenv.cfg"), "w") as handle:
        handle.write("home = /nowhere\n")
    rc, again = tool()
    # Putting the backup back changed the host (review of uv_tool, finding 7).
    assert rc == 0 and again["changed"] and runs(tool.link) == "hello 1.0\n", again["msg"]
    assert leftovers(tool) == []


def test_a_second_run_waits_for_the_first(tool):
    tool()
    lock = os.path.join(tool.tool_dir, ".pyfleet-hello.pyfleet-lock")
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | "
                               "os.O_CREAT, 0o644); fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(3)",
                               lock], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        rc, again = tool()
        assert holder.poll() is not None  # it waited for the run that held the tool's lock
        assert rc == 0 and not again["changed"], again["msg"]
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def test_absent_keeps_a_file_that_took_over_its_executable(tool):
    tool()
    os.unlink(tool.link)
    with open(tool.link, "w") as handle:
        handle.write("#!/bin/sh\necho mine\n")
    os.chmod(tool.link, 0o755)
    for check in (True, False):
        rc, refused = tool(state="absent", check_mode=check)
        assert rc == 1 and refused["msg"].startswith("%s exists and was not linked by uv for pyfleet-hello: a file owned by user"
                                                     % tool.link), refused["msg"]
        assert "force=true" in refused["msg"] and runs(tool.link) == "mine\n" and os.path.isdir(tool.env)
    rc, gone = tool(state="absent", force=True)
    assert rc == 0 and gone["changed"] and not os.path.exists(tool.env) and runs(tool.link) == "mine\n", gone["msg"]


def test_a_tool_whose_python_is_gone_is_reinstalled_or_removed(tool):
    def lose_python():
        python = os.path.join(tool.env, "bin", "python")
        os.unlink(python)
        os.symlink("/nonexistent/pyfleet-python/bin/python3.12", python)  # its managed Python was deleted

    tool()
    lose_python()
    rc, check = tool(check_mode=True)
    assert rc == 0 and check["changed"] and "the Python of %s is gone" % tool.env in check["reason"], check["msg"]
    rc, fixed = tool()
    assert rc == 0 and fixed["changed"] and runs(tool.link) == "hello 1.0\n", fixed["msg"]
    lose_python()
    rc, again = tool(state="reinstalled")
    assert rc == 0 and again["changed"] and runs(tool.link) == "hello 1.0\n", again["msg"]
    lose_python()
    rc, gone = tool(state="absent")
    assert rc == 0 and gone["changed"] and gone["before"] == {"pyfleet-hello": "1.0", "six": "1.17.0"}, gone["msg"]
    assert not os.path.exists(tool.env) and not os.path.lexists(tool.link)


@pytest.mark.parametrize("receipt", ["garbage\n", "[tool]\nrequirements = [{ name = 1 }]\n", b"\xff\xfe\x00",
                                     # review of uv_tool, finding 4: the reader raised TypeError, the entry fed re an int
                                     "[tool]\nrequirements = 1\nrequirements.x = 2\n",
                                     '[tool]\nrequirements = [{ name = "pyfleet-hello", specifier = 1 }]\n',
                                     # finding 1: no receipt, the Python still there (uv writes the receipt last)
                                     None],
                         ids=["not-toml", "wrong-types", "not-utf8", "reader-type-error", "entry-type", "missing"])
def test_a_broken_receipt_is_reinstalled_or_removed(tool, receipt):
    def spoil():
        if receipt is None:
            os.unlink(os.path.join(tool.env, "uv-receipt.toml"))
            return
        with open(os.path.join(tool.env, "uv-receipt.toml"), "wb") as handle:
            handle.write(receipt if isinstance(receipt, bytes) else receipt.encode())

    tool()
    spoil()
    rc, fixed = tool()
    assert rc == 0 and fixed["changed"] and "receipt" in fixed["reason"], fixed["msg"]
    assert runs(tool.link) == "hello 1.0\n"
    spoil()
    rc, again = tool(state="reinstalled")
    assert rc == 0 and again["changed"] and runs(tool.link) == "hello 1.0\n", again["msg"]
    spoil()
    rc, check = tool(check_mode=True, state="absent")
    assert rc == 0 and check["changed"] and os.path.isdir(tool.env), check["msg"]
    rc, gone = tool(state="absent")
    assert rc == 0 and gone["changed"], gone["msg"]
    assert not os.path.exists(tool.env) and not os.path.lexists(tool.link)


def test_credentials_never_land_in_a_world_readable_receipt(tool, tmp_path, index):
    url, _counter = index
    files = url.replace("/simple/", "/files/").replace("http://", "http://deploy:s3cretpw@")
    rc, refused = tool(name="pyfleet-hello @ %s%s" % (files, WHEEL % "1.0"))
    assert rc == 1 and "credentials" in refused["msg"] and "index_url" in refused["msg"], refused["msg"]
    assert "s3cretpw" not in json.dumps(refused) and not os.path.exists(tool.env)
    rc, refused = tool(**{"with": ["six @ %ssix.whl?token=abcdefgh" % files.replace("deploy:s3cretpw@", "")]})
    assert rc == 1 and "credentials" in refused["msg"], refused["msg"]

    # uv 0.8.0 keeps the user name of an index URL in [tool.options]: the receipt is then root's only.
    old = real_uv("0.8.0", str(tmp_path / "old"))
    if old is None:
        pytest.skip("uv 0.8.0 is not in the cache")
    rc, made = tool(uv_path=old, index_url=url.replace("http://", "http://deploy:s3cretpw@"))
    assert rc == 0 and made["changed"], made["msg"]
    receipt = os.path.join(tool.env, "uv-receipt.toml")
    with open(receipt) as handle:
        text = handle.read()
    assert "s3cretpw" not in text
    if "deploy" in text:
        assert stat.S_IMODE(os.stat(receipt).st_mode) == 0o600
    assert runs(tool.link) == "hello 1.0\n"


@pytest.mark.parametrize("python", ["python3.11", "cp311", "3.11", "cpython@3.11"])
def test_a_python_request_in_other_words_settles(tool, monkeypatch, python):
    if not os.path.exists("/usr/bin/python3.11"):
        pytest.skip("needs /usr/bin/python3.11")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # uv finds the system's 3.11, not the test runner's
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    rc, made = tool(python=python)
    assert rc == 0 and made["changed"], made["msg"]
    rc, again = tool(python=python)
    assert rc == 0 and not again["changed"], again["reason"]
    rc, other = tool(python="3.10")  # another version is a change (and there is no 3.10 here)
    assert other["changed"] or rc == 1


def test_requests_uv_records_in_its_own_words_settle(tool, index, tmp_path):
    url, _counter = index
    local = build_tool_wheel(str(tmp_path), "1.1")
    for name, extra in (("pyfleet-hello >= 01.0, < 1.2 ; python_version >= '3.8'", []),
                        ("Pyfleet_Hello ==1.1.0", ["SIX>=1.16.0.0"]),
                        ("pyfleet-hello @ file://%s" % local, []),
                        ("pyfleet-hello @ %s" % url.replace("/simple/", "/files/") + WHEEL % "1.0", ["six ; sys_platform == \"linux\""])):
        rc, made = tool(name=name, **{"with": extra})
        assert rc == 0, made["msg"]
        rc, again = tool(name=name, **{"with": extra})
        assert rc == 0 and not again["changed"], (name, again["reason"])


def test_a_deleted_or_taken_over_link_is_noticed(tool):
    tool()
    os.unlink(tool.link)
    rc, check = tool(check_mode=True)
    assert rc == 0 and check["changed"] and "%s is missing" % tool.link in check["reason"], check["msg"]
    rc, fixed = tool()
    assert rc == 0 and fixed["changed"] and runs(tool.link) == "hello 1.0\n", fixed["msg"]
    os.unlink(tool.link)
    with open(tool.link, "w") as handle:
        handle.write("#!/bin/sh\necho mine\n")
    os.chmod(tool.link, 0o755)
    rc, refused = tool()
    assert rc == 1 and refused["msg"].startswith("%s exists and was not linked by uv for pyfleet-hello: a file owned by user"
                                                 % tool.link), refused["msg"]
    assert "force=true" in refused["msg"] and runs(tool.link) == "mine\n"
    rc, forced = tool(force=True)
    assert rc == 0 and forced["changed"] and runs(tool.link) == "hello 1.0\n", forced["msg"]
    rc, again = tool()
    assert rc == 0 and not again["changed"]


@pytest.fixture
def public_dir():
    """A directory every user can reach (pytest's own base directory is root's only, 0700)."""
    path = tempfile.mkdtemp(prefix="pyfleet-uv-tool-", dir="/tmp")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("version", ["0.13.8", "0.8.0"])
def test_umask_077_and_a_shared_cache_keep_the_tool_runnable_by_others(tool, public_dir, monkeypatch, version):
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root and runuser")
    uv_path = real_uv(version, os.path.join(public_dir, "uvs"))
    if uv_path is None:
        pytest.skip("uv %s is not in the cache" % version)
    config = os.path.join(public_dir, "xdg", "uv")
    os.makedirs(config)
    cache, bin_dir = os.path.join(public_dir, "cache"), os.path.join(public_dir, "bin")
    os.mkdir(bin_dir)
    with open(os.path.join(config, "uv.toml"), "w") as handle:
        handle.write('cache-dir = "%s"\n' % cache)
    monkeypatch.setenv("XDG_CONFIG_DIRS", os.path.join(public_dir, "xdg"))
    old = os.umask(0o077)
    try:
        rc, made = tool(tool_dir=os.path.join(public_dir, "opt", "tools"), bin_dir=bin_dir, uv_path=uv_path)
    finally:
        os.umask(old)
    assert rc == 0 and made["changed"], made["msg"]
    assert os.path.isdir(cache), "the shared cache of the system uv.toml was not used"
    link = os.path.join(bin_dir, "pyfleet-hello")
    ran = subprocess.run(["runuser", "-u", "nobody", "--", link], capture_output=True, text=True, check=False)
    assert ran.stdout == "hello 1.0\n", ran.stderr
    private = [os.path.join(d, n) for d, dirs, files in os.walk(cache) for n in dirs + files
               if not os.path.islink(os.path.join(d, n)) and not os.stat(os.path.join(d, n)).st_mode & stat.S_IROTH]
    assert private == []  # another user's later run can read the shared cache
    ran = subprocess.run(["runuser", "-u", "nobody", "--", uv_path, "--no-config", "--cache-dir", cache, "cache", "dir"],
                         capture_output=True, text=True, check=False, cwd=public_dir)
    assert ran.returncode == 0, ran.stderr


def snapshot(root):
    """Every path under ``root``, with the modification time of each file (a directory's changes
    when a file in it comes and goes)."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        out.update((os.path.join(dirpath, n), None) for n in dirs)
        out.update((os.path.join(dirpath, n), os.lstat(os.path.join(dirpath, n)).st_mtime_ns) for n in files)
    return out


def test_check_mode_and_a_noop_write_nothing(tool):
    tool()
    before = snapshot(tool.tool_dir)
    rc, check = tool(check_mode=True, name="pyfleet-hello==1.1")
    assert rc == 0 and check["changed"], check["msg"]
    rc, same = tool()
    assert rc == 0 and not same["changed"]
    assert snapshot(tool.tool_dir) == before


def test_a_failed_first_install_leaves_no_directories(tool, tmp_path):
    deep = tmp_path / "deep"
    rc, failed = tool(name="nosuchtool-pyfleet==1.0", tool_dir=str(deep / "opt" / "tools"))
    assert rc == 1, failed["msg"]
    assert not deep.exists()
    rc, failed = tool(name="pyfleet-hello==1.3", tool_dir=str(deep / "opt" / "tools"))
    assert rc == 1 and "Unsupported wheel major version" in failed["msg"], failed["msg"]
    assert not deep.exists() and not os.path.lexists(tool.link)


def test_offline_installs_from_find_links(tool, tmp_path):
    links = tmp_path / "links"
    links.mkdir()
    build_tool_wheel(str(links), "1.0")
    for wheel in venvindex.fetch(("six==1.17.0",)):
        shutil.copy(wheel, str(links))
    rc, made = tool(offline=True, find_links=[str(links)])  # index_url too, as module_defaults give it
    assert rc == 0 and made["changed"], made["msg"]
    assert runs(tool.link) == "hello 1.0\n"
    rc, again = tool(offline=True, find_links=[str(links)])
    assert rc == 0 and not again["changed"], again["msg"]


def test_offline_needs_find_links_or_a_shared_cache(tool, tmp_path, monkeypatch):
    rc, refused = tool(offline=True)
    assert rc == 1 and "offline=true: uv used only find_links and its cache" in refused["msg"], refused["msg"]
    assert not os.path.exists(tool.tool_dir)
    config = tmp_path / "xdg" / "uv"
    config.mkdir(parents=True)
    (config / "uv.toml").write_text('cache-dir = "%s"\n' % (tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "xdg"))
    rc, made = tool()  # online once: the shared cache holds the wheels
    assert rc == 0 and made["changed"], made["msg"]
    tool(state="absent")
    rc, again = tool(offline=True)
    assert rc == 0 and again["changed"] and runs(tool.link) == "hello 1.0\n", again["msg"]


def test_a_receipt_with_credentials_is_protected_on_every_run(tool, index):
    """A run killed between uv's install and the chmod leaves a world-readable receipt with an index
    user's token: the next run, a no-op, makes it the owner's only."""
    tool()
    receipt = os.path.join(tool.env, "uv-receipt.toml")
    with open(receipt) as handle:
        text = handle.read()
    with open(receipt, "w") as handle:
        handle.write(text.replace("http://", "http://deploy:s3cretpw@"))
    os.chmod(receipt, 0o644)
    rc, again = tool()
    assert rc == 0 and again["changed"], again["msg"]
    assert stat.S_IMODE(os.stat(receipt).st_mode) == 0o600
    assert "s3cretpw" not in json.dumps(again)
    rc, again = tool()
    assert rc == 0 and not again["changed"], again["msg"]


def test_a_changed_bin_dir_moves_the_links(tool, tmp_path):
    tool()
    other = tmp_path / "bin2"
    other.mkdir()
    new = str(other / "pyfleet-hello")
    rc, check = tool(check_mode=True, bin_dir=str(other))
    assert rc == 0 and check["changed"] and os.path.islink(tool.link) and not os.path.lexists(new), check["msg"]
    rc, moved = tool(bin_dir=str(other))
    assert rc == 0 and moved["changed"], moved["msg"]
    assert runs(new) == "hello 1.0\n" and not os.path.lexists(tool.link)
    assert moved["tool"]["executables"] == [{"name": "pyfleet-hello", "path": new}]
    rc, again = tool(bin_dir=str(other))
    assert rc == 0 and not again["changed"], again["msg"]


@pytest.mark.parametrize("marker", ["python_version ~= '3.9'", "python_version != '3.9'", "python_version > '3.8'",
                                    "python_version not in '2.7'", "python_version in '3.8 3.9 3.10 3.11 3.12 3.13 3.14'"])
def test_markers_with_every_operator_settle(tool, marker):
    rc, made = tool(name="pyfleet-hello==1.0 ; " + marker)
    assert rc == 0 and made["changed"], made["msg"]
    rc, again = tool(name="pyfleet-hello==1.0 ; " + marker)
    assert rc == 0 and not again["changed"], again["reason"]


def test_a_half_made_environment_is_replaced(tool):
    """No Python, no receipt (a first install killed early, a copy cut short): reinstalled, with a warning."""
    os.makedirs(os.path.join(tool.env, "lib"))
    with open(os.path.join(tool.env, "pyvenv.cfg"), "w") as handle:
        handle.write("home = /nowhere\n")
    rc, check = tool(check_mode=True)
    assert rc == 0 and check["changed"], check["msg"]
    rc, fixed = tool()
    assert rc == 0 and fixed["changed"] and runs(tool.link) == "hello 1.0\n", fixed["msg"]
    assert "half-made" in json.dumps(fixed.get("warnings")), fixed.get("warnings")
    assert leftovers(tool) == []
    rc, again = tool()
    assert rc == 0 and not again["changed"], again["msg"]


def test_the_lock_is_waited_for_a_bounded_time(tool):
    tool()
    lock = os.path.join(tool.tool_dir, ".pyfleet-hello.pyfleet-lock")
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | "
                               "os.O_CREAT, 0o644); fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)",
                               lock], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        rc, failed = tool(lock_timeout=1)
        assert holder.poll() is None
        assert rc == 1 and lock in failed["msg"] and "process %d" % holder.pid in failed["msg"], failed["msg"]
        assert "lock_timeout" in failed["msg"]
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def test_a_tool_dir_given_by_a_link_then_by_its_real_path(tool, tmp_path):
    """Review of uv_tool, finding 2: uv writes the links through tool_dir as given; the same tool_dir named
    by its real path later still owns them."""
    real = tmp_path / "realtools"
    real.mkdir()
    os.symlink(str(real), str(tmp_path / "linked"))
    rc, made = tool(tool_dir=str(tmp_path / "linked"))
    assert rc == 0 and made["changed"], made["msg"]
    rc, again = tool(tool_dir=str(real))
    assert rc == 0 and not again["changed"], again["msg"]
    rc, gone = tool(tool_dir=str(real), state="absent")
    assert rc == 0 and gone["changed"] and not os.path.lexists(tool.link), gone["msg"]


def test_a_deleted_environment_leaves_links_that_are_replaced(tool):
    """Review of uv_tool, finding 6: the tool's own links into its deleted environment do not stop a new install."""
    tool()
    shutil.rmtree(tool.tool_dir)
    assert os.path.islink(tool.link) and not os.path.exists(tool.link)
    rc, check = tool(check_mode=True)
    assert rc == 0 and check["changed"], check["msg"]
    rc, made = tool()
    assert rc == 0 and made["changed"] and runs(tool.link) == "hello 1.0\n", made["msg"]
    shutil.rmtree(tool.env)
    rc, failed = tool(name="pyfleet-hello==1.3")  # uv fails: the leftover link is put back as it was
    assert rc == 1 and os.path.islink(tool.link), failed["msg"]
    assert "restored" not in failed["msg"]


def test_a_file_set_aside_by_a_killed_absent_run_is_put_back(tool):
    """Review of uv_tool, finding 5: absent with force sets a foreign file aside while uv uninstalls; a run
    killed then left it aside, and the next run puts it back (and the force guard holds again)."""
    tool()
    os.unlink(tool.link)
    with open(tool.link + ".pyfleet-keep-pyfleet-hello", "w") as handle:
        handle.write("#!/bin/sh\necho mine\n")
    os.chmod(tool.link + ".pyfleet-keep-pyfleet-hello", 0o755)
    rc, refused = tool()
    assert rc == 1 and "was not linked by uv for pyfleet-hello" in refused["msg"], refused["msg"]
    assert runs(tool.link) == "mine\n" and not os.path.lexists(tool.link + ".pyfleet-keep-pyfleet-hello")
    os.rename(tool.link, tool.link + ".pyfleet-keep-pyfleet-hello")
    rc, gone = tool(state="absent", force=True)
    assert rc == 0 and gone["changed"] and runs(tool.link) == "mine\n", gone["msg"]
    assert "set aside by an interrupted run" in json.dumps(gone.get("warnings"))
    assert not os.path.exists(tool.env) and os.listdir(os.path.dirname(tool.link)) == ["pyfleet-hello"]


@pytest.mark.parametrize("state", ["absent", "present"])
def test_somebodys_folder_named_like_the_tool_is_left_alone(tool, state):
    """A ``python -m venv`` environment with data in it at ``tool_dir/<name>`` is not a broken tool of uv's:
    nothing removes or replaces it (second review of issue 30: absent deleted it, "removed pyfleet-hello ?")."""
    os.makedirs(os.path.dirname(tool.env), exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", tool.env], check=True)
    with open(os.path.join(tool.env, "mydata.txt"), "w") as handle:
        handle.write("precious\n")
    for check_mode in (True, False):
        rc, refused = tool(check_mode=check_mode, state=state)
        assert rc == 1 and "is not a uv tool environment" in refused["msg"] and "mydata.txt" in refused["msg"], refused
        assert open(os.path.join(tool.env, "mydata.txt")).read() == "precious\n"
