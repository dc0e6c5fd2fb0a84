# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""uv_tool in-process with the real uv (0.13.8 and 0.8.0 from the suite's mirror) and a real loopback index.

The index serves six (from venvindex's cache) and two releases of a small tool built here,
``pyfleet-hello`` 1.0 and 1.1: one console script, ``pyfleet-hello``, and a dependency on six.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile

import pytest

from ansible_collections.pyfleet.uv.plugins.modules import uv_tool

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "module_utils"))
from real_uv import needs_mirror, real_uv  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "utils"))
import venvindex  # noqa: E402  pylint: disable=wrong-import-position

# A system interpreter every user can run (the test runner's own Python may live in /root).
SYSTEM_PYTHON = "/usr/bin/python3"
WHEELS = os.path.join(venvindex.cache_dir(), "wheels")  # read before the tests point HOME elsewhere
pytestmark = [needs_mirror, pytest.mark.skipif(not os.path.exists(SYSTEM_PYTHON), reason="needs /usr/bin/python3")]


def build_tool_wheel(dest: str, version: str, wheel_version: str = "1.0") -> str:
    """``pyfleet_hello-<version>-py3-none-any.whl``: a console script that prints its version; needs six.

    Another ``wheel_version`` (``9.0``) makes a wheel that uv resolves but fails to install.
    """
    name = "pyfleet_hello-%s-py3-none-any.whl" % version
    info = "pyfleet_hello-%s.dist-info" % version
    files = {
        "pyfleet_hello/__init__.py": "import six\n\n\ndef main():\n    print('hello %s')\n" % version,
        info + "/METADATA": "Metadata-Version: 2.1\nName: pyfleet-hello\nVersion: %s\nRequires-Dist: six\n" % version,
        info + "/WHEEL": "Wheel-Version: " + wheel_version + "\nGenerator: pyfleet-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        info + "/entry_points.txt": "[console_scripts]\npyfleet-hello = pyfleet_hello:main\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (path, digest, len(text.encode())))
    files[info + "/RECORD"] = "\n".join(record + [info + "/RECORD,,"]) + "\n"
    out = os.path.join(dest, name)
    with zipfile.ZipFile(out, "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)
    return out


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    dest = str(tmp_path_factory.mktemp("toolwheels"))
    wheels = venvindex.fetch(("six==1.16.0", "six==1.17.0", "packaging==24.2"))
    wheels += [build_tool_wheel(dest, "1.0"), build_tool_wheel(dest, "1.1")]
    with venvindex.static_index(wheels) as (url, counter):
        yield url, counter


@pytest.fixture
def tool(run_module, tmp_path, uv, index, monkeypatch):
    url, _counter = index
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # the connection user's home: nothing may be written there
    (tmp_path / "bin").mkdir()

    def call(check_mode=False, diff=False, **args):
        base = {"name": "pyfleet-hello==1.0", "python": SYSTEM_PYTHON, "uv_path": uv, "index_url": url,
                "tool_dir": str(tmp_path / "opt" / "tools"), "bin_dir": str(tmp_path / "bin"),
                "python_install_dir": str(tmp_path / "pythons")}
        base.update(args)
        return run_module(uv_tool.main, base, check_mode=check_mode, diff=diff)
    call.home = str(home)
    call.uv = uv
    call.env = str(tmp_path / "opt" / "tools" / "pyfleet-hello")
    call.link = str(tmp_path / "bin" / "pyfleet-hello")
    call.tool_dir = str(tmp_path / "opt" / "tools")
    return call


def listing(env):
    out = subprocess.run([os.path.join(env, "bin", "python"), "-c",
                          "import importlib.metadata as m, json; print(json.dumps({d.metadata['Name'].lower(): d.version "
                          "for d in m.distributions()}))"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_check_install_noop_without_index_requests_whatever_the_umask(tool, index):
    _url, counter = index
    rc, check = tool(check_mode=True, diff=True)
    assert rc == 0 and check["changed"], check["msg"]
    assert check["msg"].startswith("would install pyfleet-hello 1.0")
    assert check["after"] == {"pyfleet-hello": "1.0", "six": "1.17.0"} and check["before"] == {}
    assert check["diff"]["after"] == "pyfleet-hello==1.0\nsix==1.17.0\n"
    assert not os.path.exists(tool.tool_dir) and not os.path.lexists(tool.link)

    old = os.umask(0o027)
    try:
        rc, made = tool()
    finally:
        os.umask(old)
    assert rc == 0 and made["changed"], made["msg"]
    assert made["tool"]["version"] == "1.0" and made["tool"]["requested"] == "pyfleet-hello==1.0"
    assert made["tool"]["executables"] == [{"name": "pyfleet-hello", "path": tool.link}]
    assert made["tool"]["python"]["request"] == SYSTEM_PYTHON and made["tool"]["environment"] == tool.env
    assert made["packages"]["installed"] == [{"name": "pyfleet-hello", "version": "1.0"}, {"name": "six", "version": "1.17.0"}]
    assert made["uv_version"] == "0.13.8"
    assert subprocess.run([tool.link], capture_output=True, text=True, check=True).stdout == "hello 1.0\n"
    # Every user can read and run it: directories 0755, files readable by others, under umask 027.
    for dirpath, dirs, files in os.walk(os.path.dirname(tool.tool_dir)):
        for name in dirs + files:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                assert os.stat(path).st_mode & stat.S_IROTH, path
        assert stat.S_IMODE(os.stat(dirpath).st_mode) == 0o755, dirpath
    assert os.listdir(tool.home) == []  # nothing written to the connection user's home

    counter.reset()
    rc, again = tool()
    assert rc == 0 and not again["changed"] and again["msg"].endswith("nothing to do")
    rc, check_again = tool(check_mode=True)
    assert rc == 0 and not check_again["changed"]
    assert counter.paths == []  # the pinned, satisfied request asked the index nothing
    assert again["tool"]["version"] == "1.0" and again["before"] == again["after"]
    # Decided from the receipt and the environment's files: no uv command (uv's first one on the
    # environment would run its Python to query it, about a second with the task's empty cache).
    assert [c.split()[1:] for c in again["cmd"] + check_again["cmd"]] == [["--version"], ["--version"]]
    listed = subprocess.run([tool.uv, "pip", "list", "--format", "json", "--python", tool.env], capture_output=True,
                            text=True, check=True, env=dict(os.environ, UV_CACHE_DIR=os.path.join(tool.home, "..", "c")))
    assert {p["name"]: p["version"] for p in json.loads(listed.stdout)} == again["before"]  # what uv lists

    # What the files cannot prove is asked of uv: a dependency removed by hand is put back.
    for path in glob.glob(os.path.join(tool.env, "lib", "python*", "site-packages", "six*")):
        shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
    rc, check = tool(check_mode=True)
    assert rc == 0 and check["changed"] and check["packages"]["installed"] == [{"name": "six", "version": "1.17.0"}]
    rc, fixed = tool()
    assert rc == 0 and fixed["changed"] and listing(tool.env)["six"] == "1.17.0"
    assert counter.paths != []  # six was asked for


def test_with_latest_python_change_reinstalled_absent(tool, monkeypatch):
    tool()
    rc, check = tool(check_mode=True, **{"with": ["packaging==24.2"]})
    assert rc == 0 and check["changed"] and check["packages"]["installed"] == [{"name": "packaging", "version": "24.2"}]
    rc, added = tool(**{"with": ["packaging==24.2"]})
    assert rc == 0 and added["changed"] and listing(tool.env)["packaging"] == "24.2"
    assert added["tool"]["with"] == ["packaging==24.2"]
    rc, same = tool(**{"with": ["packaging==24.2"]})
    assert rc == 0 and not same["changed"]
    rc, check = tool(check_mode=True)  # packaging no longer asked for: removed
    assert rc == 0 and check["changed"] and check["packages"]["removed"] == [{"name": "packaging", "version": "24.2"}]
    tool()
    assert "packaging" not in listing(tool.env)

    rc, check = tool(check_mode=True, diff=True, name="pyfleet-hello", state="latest")
    assert rc == 0 and check["changed"]
    assert check["packages"]["upgraded"] == [{"name": "pyfleet-hello", "from": "1.0", "to": "1.1"}]
    assert "pyfleet-hello==1.0" in check["diff"]["before"] and "pyfleet-hello==1.1" in check["diff"]["after"]
    assert listing(tool.env)["pyfleet-hello"] == "1.0"
    rc, latest = tool(name="pyfleet-hello", state="latest")
    assert rc == 0 and latest["changed"] and latest["tool"]["version"] == "1.1"
    assert subprocess.run([tool.link], capture_output=True, text=True, check=True).stdout == "hello 1.1\n"
    rc, again = tool(name="pyfleet-hello", state="latest")
    assert rc == 0 and not again["changed"]
    rc, present = tool(name="pyfleet-hello")
    assert rc == 0 and not present["changed"]

    # Another request for the tool's Python reinstalls it (the receipt records the request); another
    # path to the same interpreter is the same request.
    rc, same = tool(name="pyfleet-hello", python=os.path.realpath(SYSTEM_PYTHON))
    assert rc == 0 and not same["changed"], same["reason"]
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # uv finds the system's Python, not the test runner's
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    other = ".".join(os.path.basename(os.path.realpath(SYSTEM_PYTHON))[len("python"):].split(".")[:2])
    rc, check = tool(check_mode=True, name="pyfleet-hello", python=other)
    assert rc == 0 and check["changed"] and "python %s was asked for" % other in check["reason"]
    rc, moved = tool(name="pyfleet-hello", python=other)
    assert rc == 0 and moved["changed"] and moved["tool"]["python"]["request"] == other
    rc, again = tool(name="pyfleet-hello", python=other)
    assert rc == 0 and not again["changed"]

    rc, forced = tool(name="pyfleet-hello", python=other, state="reinstalled")
    assert rc == 0 and forced["changed"] and {p["name"] for p in forced["packages"]["reinstalled"]} == {"pyfleet-hello", "six"}

    rc, check = tool(check_mode=True, state="absent")
    assert rc == 0 and check["changed"] and os.path.isdir(tool.env) and check["tool"] is None
    rc, gone = tool(state="absent")
    assert rc == 0 and gone["changed"] and gone["msg"] == "removed pyfleet-hello 1.1"
    assert not os.path.exists(tool.env) and not os.path.lexists(tool.link)
    rc, again = tool(state="absent")
    assert rc == 0 and not again["changed"] and "nothing to remove" in again["msg"]


def test_refuses_an_executable_it_did_not_link(tool, tmp_path):
    foreign = tmp_path / "bin" / "pyfleet-hello"
    foreign.write_text("#!/bin/sh\necho mine\n")
    foreign.chmod(0o755)
    rc, refused = tool()
    assert rc == 1
    assert refused["msg"].startswith("%s exists and was not linked by uv for pyfleet-hello: a file owned by user root" % foreign)
    assert "force=true" in refused["msg"] and "Executable already exists" in refused["msg"]
    assert foreign.read_text() == "#!/bin/sh\necho mine\n" and not os.path.exists(tool.env)
    rc, forced = tool(force=True)
    assert rc == 0 and forced["changed"] and os.path.islink(str(foreign))


def test_names_ruff_install_as_the_owner(tool, tmp_path, index):
    wheels = [w for w in (os.listdir(WHEELS) if os.path.isdir(WHEELS) else [])
              if w.startswith("ruff-0.16.10-") and w.endswith("manylinux2014_x86_64.whl")]
    if not wheels or os.uname().machine != "x86_64":
        pytest.skip("ruff's x86_64 wheel is not in the cache")
    ruff = tmp_path / "bin" / "ruff"
    ruff.write_text("#!/bin/sh\necho ruff 0.17.6\n")
    (tmp_path / "bin" / ".pyfleet-ruff.json").write_text(json.dumps({"schema": 2, "version": "0.17.6"}))
    rc, refused = tool(name="ruff==0.16.10", find_links=[WHEELS],
                       no_index=True)
    assert rc == 1, refused["msg"]
    assert refused["msg"].startswith("%s exists and was not linked by uv for ruff: placed by pyfleet.uv.ruff_install" % ruff)
    assert ruff.read_text() == "#!/bin/sh\necho ruff 0.17.6\n"


def test_bad_input_is_named_and_changes_nothing(tool, tmp_path, index):
    url, _counter = index
    rc, bad = tool(name="pyfleet-hello=>1")
    assert rc == 1 and "is not a valid requirement" in bad["msg"]
    secret = url.replace("http://", "http://deploy:s3cretpw@")
    rc, unknown = tool(name="nosuchtool-pyfleet==1.0", index_url=secret)
    assert rc == 1 and "nosuchtool-pyfleet" in unknown["msg"] and "indexes asked: --index-url http://********@127.0.0.1" in unknown["msg"]
    assert "s3cretpw" not in json.dumps(unknown)
    rc, six = tool(name="six==1.17.0")
    assert rc == 1 and six["msg"].startswith("No executables are provided by package `six`")
    assert "six is not a command-line tool" in six["msg"]
    rc, nobin = tool(bin_dir=str(tmp_path / "nope"))
    assert rc == 1 and "bin_dir %s does not exist" % (tmp_path / "nope") in nobin["msg"]
    rc, not_python = tool(python="/bin/true")  # a path is not asked of uv python find: uv tool install refuses it
    assert rc == 1 and "/bin/true" in not_python["msg"], not_python["msg"]
    rc, private = tool(python=os.path.realpath(sys.executable)) if sys.executable.startswith("/root/") else (None, None)
    if private is not None:
        assert rc == 1 and "is not usable by every user: /root is mode 07" in private["msg"]
        # A readable wrapper that runs it is no way round (second review of issue 30: a path skipped the check).
        wrapper = tmp_path / "python-wrapper"
        wrapper.write_text('#!/bin/sh\nexec "%s" "$@"\n' % os.path.realpath(sys.executable))
        wrapper.chmod(0o755)
        rc, wrapped = tool(python=str(wrapper))
        assert rc == 1 and "/root is mode 07" in wrapped["msg"], wrapped["msg"]
    assert not os.path.exists(tool.tool_dir) and os.listdir(str(tmp_path / "bin")) == []


def test_the_oldest_uv_it_takes(tool, tmp_path, index):
    old = real_uv("0.8.0", str(tmp_path / "old"))
    if old is None:
        pytest.skip("uv 0.8.0 is not in the cache")
    _url, counter = index
    rc, made = tool(uv_path=old)
    assert rc == 0 and made["changed"] and made["uv_version"] == "0.8.0", made["msg"]
    counter.reset()
    rc, again = tool(uv_path=old)
    assert rc == 0 and not again["changed"] and counter.paths == []


def test_a_changed_request_never_shows_the_credentials_of_the_recorded_one(tool, index):
    """The reason of an update quotes the receipt's requirement: its URL's user info is masked
    there too, although that secret is not an option of this run (a rotated password)."""
    url, _counter = index
    files = url.replace("/simple/", "/files/")
    wheel = "pyfleet_hello-%s-py3-none-any.whl"
    rc, first = tool(name="pyfleet-hello @ %s%s" % (files, wheel % "1.0"))
    assert rc == 0 and first["changed"], first["msg"]
    # A tool installed by hand with credentials in its URL (uv_tool refuses them, uv does not).
    receipt = os.path.join(tool.env, "uv-receipt.toml")
    with open(receipt) as handle:
        text = handle.read()
    with open(receipt, "w") as handle:
        handle.write(text.replace("http://", "http://deploy:s3cretpw@"))
    rc, second = tool(name="pyfleet-hello @ %s%s" % (files, wheel % "1.1"))
    assert rc == 0 and second["changed"], second["msg"]
    assert "was installed as" in second["reason"]
    assert "s3cretpw" not in json.dumps(second)
