# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Adversarial suite: uv_python against hostile Python archives and a full disk.

The material is real: CPython builds of this machine relocated into python-build-standalone's
layout by tests/utils/pbs.py (Debian's 3.11.2, pyenv's 3.11.7), with uv's downloads JSON,
served by uvmirror.py's counting server on 127.0.0.1, installed by the real uv 0.13.8 (from
the suite's uv mirror) through a real ``ansible``. Every case starts from an install_dir that
already holds a working 3.11.7 and asks for 3.11.2 from a hostile source:

- ``tampered``: a valid archive whose sha256 is not the JSON's;
- ``truncated``: the first half of the good archive;
- ``missing``: the JSON names a file the server does not have;
- ``escape``: an archive with a member ``python/../../(...)/tmp/pyfleet-escaped`` and a symlink to ``/``
  (the JSON carries that archive's own sha256);
- a full disk: install_dir on a tmpfs with room for nothing more.

And ``download_on: controller`` against what real hosts have, with the real uv 0.8.0 (the documented
floor, its wheel fetched once into the suite's cache) and 0.13.8: a ``python_install_mirror`` that
demands HTTP basic auth (uv 0.8 prints GitHub's URL for a mirrored download, 0.9+ the mirror's with
the password as ``****``; the password is never printed, even at ``-vvv``), a system uv.toml that sets
``python-install-mirror`` (uv refuses downloads JSON entries outside it), and a downloads JSON entry
whose file name decodes to ``../`` (refused before anything is pushed).

Afterwards: the task failed and its message names the cause, the install_dir listing is what it
was (no half-installed Python, no temp file), 3.11.7 still runs, uv lists only it, the module's
remote temp dir is empty and nothing was written outside install_dir. ``tampered`` and
``truncated`` also run with ``download_on: controller``, where the controller refuses them.

Needs (set by hacking/suite): ``ansible`` on PATH, ANSIBLE_COLLECTIONS_PATH with the
collection, PYFLEET_UV_MIRROR pointing at a tree built by tests/utils/uvmirror.py; root for the
tmpfs case.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "utils"))
import pbs  # noqa: E402  pylint: disable=wrong-import-position
import uvmirror  # noqa: E402  pylint: disable=wrong-import-position

UV_VERSION = "0.13.8"
MIRROR = os.environ.get("PYFLEET_UV_MIRROR", "")
ESCAPED = ["/tmp/" + pbs.ESCAPE_NAME, "/tmp/%s-via-link" % pbs.ESCAPE_NAME]

pytestmark = pytest.mark.skipif(not os.path.isdir(MIRROR) or not shutil.which("ansible"),
                                reason="run through hacking/suite (needs the mirror tree and ansible)")


@pytest.fixture(scope="session")
def material():
    """This machine's archives (built once, cached by pbs.py): the manifest."""
    manifest = pbs.build(("bookworm",))
    versions = sorted(a["version"] for a in manifest["archives"])
    if len(versions) < 2 or set(manifest["hostile"]) != set(pbs.HOSTILE_CASES):
        pytest.skip("pbs.py needs two 3.11 builds here (Debian's python3.11 and pyenv's 3.11.x): %s" % versions)
    return manifest


@pytest.fixture(scope="session")
def site(material, tmp_path_factory):
    """The archives and JSON files served on 127.0.0.1: (server, base URL)."""
    www = pbs.serve_root(material, str(tmp_path_factory.mktemp("pbs-www")))
    server = uvmirror.MirrorServer(www).start()
    pbs.write_jsons(material, www, server.url)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def uv(tmp_path_factory):
    """The real uv from the suite's mirror tree."""
    archive = os.path.join(MIRROR, "versioned", UV_VERSION, "uv-x86_64-unknown-linux-gnu.tar.gz")
    dest = tmp_path_factory.mktemp("uv")
    with tarfile.open(archive) as tar:
        data = tar.extractfile("uv-x86_64-unknown-linux-gnu/uv").read()
    path = dest / "uv"
    path.write_bytes(data)
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def env(tmp_path):
    remote_tmp = tmp_path / "remote-tmp"
    remote_tmp.mkdir()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    return dict(os.environ, ANSIBLE_REMOTE_TMP=str(remote_tmp), ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-tmp"),
                TMPDIR=str(scratch), ANSIBLE_NOCOLOR="1", XDG_CACHE_HOME=str(tmp_path / "controller-cache"),
                ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False")


def uv_python(env, args):
    """Run the module ad hoc; returns (result dict, whole output text)."""
    argv = ["ansible", "localhost", "-m", "pyfleet.uv.uv_python", "-a", json.dumps(args),
            "-e", "ansible_python_interpreter=%s" % sys.executable]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=900)
    output = proc.stdout + proc.stderr
    match = re.search(r"^localhost \| ([A-Z!]+)(?: \| rc=\d+)? => ", proc.stdout, re.MULTILINE)
    assert match, output[-3000:]
    result, _end = json.JSONDecoder().raw_decode(proc.stdout[match.end():])
    if match.group(1).startswith(("FAILED", "UNREACHABLE")):
        result["failed"] = True
    return result, output


@pytest.fixture(scope="session")
def uv_versions(uv, tmp_path_factory):
    """``{version: path}``: the floor uv 0.8.0 (from its wheel) and the suite's 0.13.8."""
    wheel = uvmirror.fetch_wheel("0.8.0", "manylinux2014_x86_64", os.path.join(uvmirror.cache_dir(), "wheels"))
    dest = tmp_path_factory.mktemp("uv-0.8.0")
    path = dest / "uv"
    path.write_bytes(uvmirror.binaries_from_wheel(wheel, "0.8.0")["uv"])
    path.chmod(0o755)
    return {"0.8.0": str(path), UV_VERSION: uv}


GITHUB = "https://github.com/astral-sh/python-build-standalone/releases/download/"
PASSWORD = "pa$$@w0rd-pyfleet"


def github_json(material, site, dest):
    """The host's downloads JSON with every entry below GitHub's release folder, as uv's own list."""
    data = pbs.downloads_json(material, GITHUB.rstrip("/"), host="bookworm")
    for entry in data.values():
        entry["url"] = entry["url"].replace(GITHUB + "releases/download/", GITHUB)
    path = os.path.join(str(dest), "github.json")
    with open(path, "w") as handle:
        json.dump(data, handle)
    return path


def authed_mirror(site):
    """The archives below /releases/download demand basic auth: the mirror URL with the credentials."""
    site.faults.clear()
    site.faults["/releases/*"] = {"auth": "alice:" + PASSWORD}
    return site.url.replace("http://", "http://alice:%s@" % PASSWORD.replace("$", "%24").replace("@", "%40")) \
        + "/releases/download"


def no_password(output):
    for form in (PASSWORD, PASSWORD.replace("$", "%24").replace("@", "%40"), "pa$$"):
        assert form not in output, "the password (%s) is in the output" % form


def listing(path):
    """Every path below ``path`` (relative), with the target of each symlink."""
    found = []
    for dirpath, dirs, files in os.walk(path):
        for name in sorted(dirs + files):
            full = os.path.join(dirpath, name)
            found.append((os.path.relpath(full, path), os.readlink(full) if os.path.islink(full) else None))
    return sorted(found)


def uv_lists(uv, install_dir, tmp_path):
    out = subprocess.run([uv, "python", "list", "--only-installed", "--managed-python", "--output-format", "json"],
                         capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "UV_NO_CONFIG": "1",
                              "UV_PYTHON_INSTALL_DIR": install_dir})
    return sorted(item["key"] for item in json.loads(out.stdout))


# The newer Python's install_dir as the module made it, once per pytest process (each xdist worker
# has its own): ``{"path", "python", "key"}``.
TEMPLATE = {}


def template_install(material, site, uv, tmp_path_factory):
    """install_dir holding the newer Python, installed by the module once per process."""
    if not TEMPLATE:
        new = max(material["archives"], key=lambda a: tuple(int(p) for p in a["version"].split(".")))
        base = tmp_path_factory.mktemp("template-python")
        for name in ("remote-tmp", "tmp"):
            (base / name).mkdir()
        env = dict(os.environ, ANSIBLE_REMOTE_TMP=str(base / "remote-tmp"), ANSIBLE_LOCAL_TEMP=str(base / "local-tmp"),
                   TMPDIR=str(base / "tmp"), ANSIBLE_NOCOLOR="1", XDG_CACHE_HOME=str(base / "controller-cache"),
                   ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False")
        path = str(base / "pythons")
        result, _out = uv_python(env, {"version": [new["version"]], "install_dir": path, "uv_path": uv,
                                       "python_downloads_json_url": site.url + "/bookworm.json"})
        assert result.get("changed") and result["installed"][0]["key"] == new["key"], result
        TEMPLATE.update(path=path, python=result["installed"][0]["path"], key=new["key"])
    return TEMPLATE


def copy_install(template, dest):
    """A copy of the template install_dir at ``dest`` (which may exist: a tmpfs mounted there), modes and
    times kept; a symlink into the template (uv's minor-version link) points into the copy instead."""
    shutil.copytree(template, dest, symlinks=True, dirs_exist_ok=True)
    shutil.copystat(template, dest)
    for dirpath, dirs, files in os.walk(dest):
        for name in dirs + files:
            full = os.path.join(dirpath, name)
            if os.path.islink(full) and os.readlink(full).startswith(template + os.sep):
                target = dest + os.readlink(full)[len(template):]
                os.remove(full)
                os.symlink(target, full)


@pytest.fixture
def installed(material, site, uv, env, tmp_path, tmp_path_factory):
    """An install_dir holding a working 3.11.7: yields a function that makes it and returns its path.

    The module installs 3.11.7 once per pytest process (``template_install``); each case gets a
    copy of that install_dir, so the state it starts from is the module's own without one more
    ansible run and Python unpacking per case. Afterwards the invariants of every case: the same
    listing, 3.11.7 runs and is all uv lists, the module's remote temp dir is empty, nothing was
    written outside install_dir.
    """
    install_dir = str(tmp_path / "pythons")
    yield_state = {}

    def prepare(path=install_dir):
        template = template_install(material, site, uv, tmp_path_factory)
        copy_install(template["path"], path)
        yield_state.update(path=path, before=listing(path), key=template["key"],
                           python=path + template["python"][len(template["path"]):])
        assert os.path.isfile(yield_state["python"]), yield_state["python"]
        return path

    for name in ESCAPED:
        assert not os.path.lexists(name), "%s exists before the test" % name
    yield prepare
    if not yield_state:
        return  # skipped before anything was installed
    path = yield_state["path"]
    try:
        assert listing(path) == yield_state["before"], "install_dir changed: %s" % sorted(
            set(listing(path)) ^ set(yield_state["before"]))
        out = subprocess.run([yield_state["python"], "-c", "import sys, ssl, sqlite3; print(sys.version)"],
                             capture_output=True, text=True, check=False)
        assert out.returncode == 0 and out.stdout.startswith(yield_state["key"].split("-")[1]), out
        assert uv_lists(uv, path, tmp_path) == [yield_state["key"]]
        remote = env["ANSIBLE_REMOTE_TMP"]
        assert os.listdir(remote) == [], "stray files in the remote temp dir: %s" % os.listdir(remote)
        assert os.listdir(env["TMPDIR"]) == [], "stray files in TMPDIR: %s" % os.listdir(env["TMPDIR"])
    finally:
        escaped = [name for name in ESCAPED if os.path.lexists(name)]
        for name in escaped:
            os.remove(name)
    assert not escaped, "the hostile archive wrote %s" % escaped


def hostile_args(site, material, case, install_dir, uv, **extra):
    args = {"version": [material["hostile"][case]["version"]], "install_dir": install_dir, "uv_path": uv,
            "python_downloads_json_url": "%s/hostile-%s.json" % (site.url, case)}
    args.update(extra)
    return args


def fails(result, *patterns):
    print("message: %s" % result.get("msg"))  # shown with -s, and on failure
    assert result.get("failed"), result
    for pattern in patterns:
        assert re.search(pattern, result["msg"]), "%r not in %r" % (pattern, result["msg"])


# -- the hostile archives, on the host ------------------------------------------------------

def test_tampered_archive(material, site, uv, env, installed):
    install_dir = installed()
    bad = material["hostile"]["tampered"]
    result, _out = uv_python(env, hostile_args(site, material, "tampered", install_dir, uv))
    fails(result, "(?i)hash mismatch", bad["sha256"], bad["actual_sha256"], re.escape(bad["key"]))
    # uv's error and cause lines first (both values), then the command; uv's whole output in stderr
    cause = result["msg"].split("uv python install")[0]
    assert result["msg"].startswith("error: ") and bad["sha256"] in cause and bad["actual_sha256"] in cause
    assert "Hash mismatch" in result["stderr"]


def test_truncated_archive(material, site, uv, env, installed):
    install_dir = installed()
    result, _out = uv_python(env, hostile_args(site, material, "truncated", install_dir, uv))
    fails(result, "(?i)failed to extract", "(?i)unexpected end of file")


def test_json_names_a_missing_file(material, site, uv, env, installed):
    install_dir = installed()
    site.stats.reset()
    result, _out = uv_python(env, hostile_args(site, material, "missing", install_dir, uv))
    wanted = "/" + pbs.quote_path(material["hostile"]["missing"]["path"])
    fails(result, "404", re.escape(site.url + wanted))
    assert result["msg"].startswith("error: ") and site.url + wanted in result["msg"].split("uv python install")[0]
    assert wanted in site.stats.paths, site.stats.paths


def test_archive_escaping_install_dir(material, site, uv, env, installed):
    install_dir = installed()
    result, _out = uv_python(env, hostile_args(site, material, "escape", install_dir, uv))
    fails(result, "(?i)unsafe member path|parent|outside", re.escape(pbs.ESCAPE_NAME))


# -- the controller refuses them before any host sees them ----------------------------------

@pytest.mark.parametrize("case,pattern", [("tampered", "(?i)sha256|checksum|mismatch"),
                                          ("truncated", "(?i)sha256|checksum|mismatch|short|truncat")])
def test_controller_refuses(material, site, uv, env, installed, case, pattern):
    install_dir = installed()
    result, _out = uv_python(env, hostile_args(site, material, case, install_dir, uv, download_on="controller"))
    fails(result, pattern)


# -- download_on: controller against the mirrors and configurations of real hosts --------------

@pytest.mark.parametrize("version", ["0.8.0", UV_VERSION])
def test_controller_through_a_mirror_with_credentials(material, site, uv_versions, env, tmp_path, version):
    mirror = authed_mirror(site)
    try:
        site.stats.reset()
        args = {"version": ["3.11.2"], "install_dir": str(tmp_path / "pythons"), "uv_path": uv_versions[version],
                "python_downloads_json_url": github_json(material, site, tmp_path), "python_install_mirror": mirror,
                "download_on": "controller", "bin_dir": str(tmp_path / "bin")}
        result, output = uv_python(dict(env, ANSIBLE_VERBOSITY="3"), args)
        print("message: %s" % result.get("msg"))
        no_password(output)
        assert not result.get("failed") and result["changed"], result.get("msg")
        assert result["installed"][0]["version"] == "3.11.2"
        old = [a for a in material["archives"] if a["version"] == "3.11.2"][0]
        assert [p for p in site.stats.paths if p.endswith(".tar.gz")] == ["/" + pbs.quote_path(old["path"])]
        again, output = uv_python(dict(env, ANSIBLE_VERBOSITY="3"), args)
        no_password(output)
        assert not again.get("failed") and not again["changed"], again.get("msg")
    finally:
        site.faults.clear()


@pytest.mark.parametrize("version", ["0.8.0", UV_VERSION])
def test_controller_mirror_only_names_uvs_file_below_the_mirror(material, site, uv_versions, env, tmp_path, version):
    # Without a downloads JSON the host's uv names its own archive: uv 0.8 below GitHub's folder, 0.9+
    # below the mirror with the password as ****. The controller takes it from the mirror with the
    # credentials; the mirror does not hold it (404), and the message shows no password.
    mirror = authed_mirror(site)
    try:
        site.stats.reset()
        args = {"version": ["3.12"], "install_dir": str(tmp_path / "pythons"), "uv_path": uv_versions[version],
                "python_install_mirror": mirror, "download_on": "controller"}
        result, output = uv_python(dict(env, ANSIBLE_VERBOSITY="3"), args)
        no_password(output)
        fails(result, "on the controller failed: HTTP 404", re.escape(site.url.replace("http://", "http://********@")))
        asked = [p for p in site.stats.paths if "cpython-3.12" in p]
        assert asked and all(p.startswith("/releases/download/") for p in asked), site.stats.paths
    finally:
        site.faults.clear()


@pytest.mark.parametrize("version", ["0.8.0", UV_VERSION])
def test_controller_with_a_system_python_install_mirror(material, site, uv_versions, env, tmp_path, version):
    # The system uv.toml (found through XDG_CONFIG_DIRS, as /etc/uv/uv.toml would be) names a mirror
    # the host cannot reach; the pushed archive is installed all the same.
    (tmp_path / "xdg" / "uv").mkdir(parents=True)
    (tmp_path / "xdg" / "uv" / "uv.toml").write_text('python-install-mirror = "https://mirror.invalid/pbs"\n')
    args = {"version": ["3.11.7"], "install_dir": str(tmp_path / "pythons"), "uv_path": uv_versions[version],
            "python_downloads_json_url": site.url + "/bookworm.json", "download_on": "controller"}
    result, _output = uv_python(dict(env, XDG_CONFIG_DIRS=str(tmp_path / "xdg")), args)
    assert not result.get("failed") and result["changed"], result.get("msg")
    assert result["installed"][0]["version"] == "3.11.7"


def test_controller_refuses_an_archive_name_that_leaves_the_folder(material, site, uv, env, tmp_path):
    data = pbs.downloads_json(material, site.url, host="bookworm")
    for entry in data.values():
        entry["url"] = site.url + "/..%2F..%2F..%2Fpyfleet-escaped-by-name"
    path = tmp_path / "escape-name.json"
    path.write_text(json.dumps(data))
    site.stats.reset()
    result, _output = uv_python(env, {"version": ["3.11.2"], "install_dir": str(tmp_path / "pythons"), "uv_path": uv,
                                      "python_downloads_json_url": str(path), "download_on": "controller"})
    fails(result, "refusing the archive file name '../../../pyfleet-escaped-by-name'")
    assert site.stats.paths == [] and not os.path.lexists("/tmp/pyfleet-escaped-by-name")
    assert os.listdir(env["ANSIBLE_REMOTE_TMP"]) == []


# -- a full disk under install_dir ------------------------------------------------------------

def test_full_disk_under_install_dir(material, site, uv, env, installed, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mount needs root")
    install_dir = str(tmp_path / "full")
    os.mkdir(install_dir)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", install_dir], check=True)
    try:
        installed(install_dir)
        # Shrink the tmpfs to what is used now plus 2 MB: the older patch cannot be unpacked there.
        stat = os.statvfs(install_dir)
        used = (stat.f_blocks - stat.f_bfree) * stat.f_frsize
        subprocess.run(["mount", "-o", "remount,size=%dk" % (used // 1024 + 2048), install_dir], check=True)
        old = min(material["archives"], key=lambda a: tuple(int(p) for p in a["version"].split(".")))
        result, _out = uv_python(env, {"version": [old["version"]], "install_dir": install_dir, "uv_path": uv,
                                       "python_downloads_json_url": site.url + "/bookworm.json"})
        fails(result, "(?i)no space left on device")
    finally:
        # The installed fixture checks the listing after this test: unmount only after that.
        request_unmount.append(install_dir)


request_unmount = []


@pytest.fixture(autouse=True)
def _unmount_after():
    """Unmount what a test mounted, after every other fixture's teardown."""
    yield
    while request_unmount:
        subprocess.run(["umount", request_unmount.pop()], check=False)
