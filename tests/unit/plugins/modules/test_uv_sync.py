# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""uv_sync in-process with the real uv (0.13.8 from the suite's mirror), a real small application locked
by the test with ``uv lock``, and a real loopback index that serves sha256 links (tests/utils/lockindex.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.pyfleet.uv.plugins.modules import uv_sync

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "module_utils"))
from real_uv import needs_mirror  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "utils"))
import lockindex  # noqa: E402  pylint: disable=wrong-import-position

PYTHON = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
PYPROJECT = """[project]
name = "app"
version = "0.1.0"
description = "a small application for uv_sync's tests"
requires-python = ">=3.8"
dependencies = [%(deps)s]

[project.optional-dependencies]
pkg = ["packaging==24.1"]

[dependency-groups]
dev = ["iniconfig==2.0.0"]
%(groups)s

[build-system]
requires = ["flit_core>=4,<5"]
build-backend = "flit_core.buildapi"
"""
DEPS = '"six==1.16.0", "python-dateutil==2.9.0.post0"'


@pytest.fixture
def index(wheels):
    with lockindex.hashed_index(wheels) as served:
        yield served


class App:
    """A project directory on disk, locked by the real uv against ``index_url``."""

    def __init__(self, top, uv, index_url):
        self.top, self.uv, self.index_url = str(top), uv, index_url
        os.makedirs(os.path.join(self.top, "src", "app"), exist_ok=True)
        self.code('__version__ = "0.1.0"\n')

    def code(self, text):
        with open(os.path.join(self.top, "src", "app", "__init__.py"), "w") as handle:
            handle.write('"""The application."""\n' + text)

    def write(self, deps=DEPS, lock=True, groups=""):
        with open(os.path.join(self.top, "pyproject.toml"), "w") as handle:
            handle.write(PYPROJECT % {"deps": deps, "groups": groups})
        if lock:
            home = os.path.join(self.top, "..", "lock-home")
            env = dict(os.environ, HOME=home, UV_DEFAULT_INDEX=self.index_url, UV_PYTHON_DOWNLOADS="never",
                       UV_NO_PROGRESS="1", XDG_CACHE_HOME=os.path.join(home, "cache"))
            env = {k: v for k, v in env.items() if k not in ("VIRTUAL_ENV", "UV_INDEX_URL")}
            subprocess.run([self.uv, "lock", "--python", PYTHON], cwd=self.top, env=env, check=True,
                           capture_output=True)
        return self


@pytest.fixture
def sync(run_module, tmp_path, uv, index):
    environment = str(tmp_path / "srv" / "app" / ".venv")
    app = App(tmp_path / "project", uv, index.url).write()

    def call(check_mode=False, diff=False, **args):
        base = {"project_dir": app.top, "environment": environment, "python": PYTHON, "uv_path": uv,
                "python_install_dir": str(tmp_path / "pythons")}
        base.update(args)
        base = {k: v for k, v in base.items() if v is not None}
        return run_module(uv_sync.main, base, check_mode=check_mode, diff=diff)
    call.environment, call.app, call.store = environment, app, environment + ".d"
    return call


def site_listing(environment):
    found = {}
    for root, dirs, _files in os.walk(os.path.join(environment, "lib")):
        for name in dirs:
            if name.endswith(".dist-info"):
                dist, version = name[:-len(".dist-info")].split("-", 1)
                found[dist.lower().replace("_", "-")] = version
    return found


def run_app(environment, code="import app, six, dateutil; print(app.__version__, six.__version__)"):
    out = subprocess.run([os.path.join(environment, "bin", "python"), "-c", code], capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def state(sync):
    """What a failure must leave as it was: the link's target and the store's entries."""
    target = os.readlink(sync.environment) if os.path.islink(sync.environment) else None
    return target, sorted(os.listdir(sync.store)) if os.path.isdir(sync.store) else None


@needs_mirror
def test_check_then_deploy_then_noop_without_index_requests(sync, index):
    rc, check = sync(check_mode=True, diff=True)
    assert rc == 0 and check["changed"], check
    assert check["msg"].startswith("would switch %s" % sync.environment)
    assert check["after"] == {"app": "0.1.0", "six": "1.16.0", "python-dateutil": "2.9.0.post0"}
    assert "six==1.16.0" in check["diff"]["after"] and check["before"] == {}
    assert not os.path.lexists(sync.environment) and not os.path.exists(sync.store)

    rc, made = sync()
    assert rc == 0 and made["changed"], made
    assert os.path.islink(sync.environment)
    current = made["environment"]["current"]
    assert os.path.realpath(sync.environment) == current and os.path.dirname(current) == sync.store
    assert os.path.basename(current).startswith(made["lock"]["sha256"][:12] + "-")
    assert run_app(sync.environment) == "0.1.0 1.16.0"
    assert site_listing(sync.environment) == {"app": "0.1.0", "six": "1.16.0", "python-dateutil": "2.9.0.post0"}
    assert sorted(p["name"] for p in made["packages"]["installed"]) == ["app", "python-dateutil", "six"]
    assert made["environment"]["python"]["version"] == "%d.%d.%d" % sys.version_info[:3]
    assert made["uv_version"] == "0.13.8" and made["wheelhouse"] is None and made["missing_wheels"] == []
    assert any(" lock --locked" in c for c in made["cmd"]) and any(" sync --frozen --no-editable" in c for c in made["cmd"])

    index.reset()
    rc, again = sync()
    assert rc == 0 and not again["changed"], again
    assert again["msg"].endswith("nothing to do") and again["packages"] == dict(installed=[], removed=[], upgraded=[])
    assert index.paths == []  # decided on the host: no request to the index
    rc, check_again = sync(check_mode=True)
    assert rc == 0 and not check_again["changed"] and index.paths == []


@needs_mirror
def test_new_lock_switches_keeps_earlier_and_rolls_back_without_download(sync, index):
    assert sync()[0] == 0
    first = os.path.realpath(sync.environment)
    old_files = {n: open(os.path.join(sync.app.top, n)).read() for n in ("pyproject.toml", "uv.lock")}
    sync.app.write(deps='"six==1.17.0", "python-dateutil==2.9.0.post0"')
    rc, check = sync(check_mode=True)
    assert rc == 0 and check["changed"] and check["packages"]["upgraded"] == [{"name": "six", "from": "1.16.0", "to": "1.17.0"}]
    assert os.path.realpath(sync.environment) == first
    rc, second = sync(diff=True)
    assert rc == 0 and second["changed"] and second["environment"]["previous"] == first
    assert run_app(sync.environment) == "0.1.0 1.17.0"
    assert os.path.isdir(first)  # kept for a rollback
    assert "six==1.16.0" in second["diff"]["before"] and "six==1.17.0" in second["diff"]["after"]

    for name, text in old_files.items():  # roll back: the first lock again
        with open(os.path.join(sync.app.top, name), "w") as handle:
            handle.write(text)
    index.reset()
    rc, back = sync()
    assert rc == 0 and back["changed"] and back["environment"]["current"] == first, back
    assert "an earlier environment" in back["msg"] and index.paths == []
    assert run_app(sync.environment) == "0.1.0 1.16.0"

    sync.app.write(deps='"six==1.17.0"')
    rc, third = sync(keep=1)
    assert rc == 0 and third["changed"]
    kept = sorted(n for n in os.listdir(sync.store) if not n.startswith("."))
    assert len(kept) == 2 and os.path.basename(first) in kept and len(third["removed_environments"]) == 1


@needs_mirror
def test_dev_group_extras_and_no_project(sync):
    saved = os.umask(0o077)  # a connection's strict umask: the services' users must still read the environment
    try:
        rc, made = sync(no_dev=False, extras=["pkg"], install_project=False)
    finally:
        os.umask(saved)
    assert rc == 0 and made["changed"], made
    for path in (sync.store, made["environment"]["current"], os.path.join(made["environment"]["current"], "uv-sync.json")):
        assert os.stat(path).st_mode & 0o755 in (0o755, 0o644), path
    assert site_listing(sync.environment) == {"six": "1.16.0", "python-dateutil": "2.9.0.post0", "iniconfig": "2.0.0",
                                              "packaging": "24.1"}
    rc, other = sync(groups=["dev"], no_dev=False)
    assert rc == 0 and other["changed"] and "iniconfig" in site_listing(sync.environment)
    assert "app" in site_listing(sync.environment)


@needs_mirror
@pytest.mark.parametrize("source", ["index", "wheelhouse"])
def test_no_dev_leaves_out_every_default_group(sync, wheels, tmp_path, source):
    """``[tool.uv] default-groups`` beyond dev (here docs): no_dev installs none of them, only ``groups``."""
    sync.app.write(groups='docs = ["packaging==24.1"]\n\n[tool.uv]\ndefault-groups = ["dev", "docs"]')
    args = {}
    if source == "wheelhouse":
        wheelhouse = tmp_path / "wheelhouse"
        wheelhouse.mkdir()
        for wheel in wheels:
            shutil.copy(wheel, str(wheelhouse))
        args = dict(wheelhouse_dir=str(wheelhouse), download_on="controller")
    base = {"app": "0.1.0", "six": "1.16.0", "python-dateutil": "2.9.0.post0"}
    if source == "index":
        rc, check = sync(check_mode=True, **args)
        assert rc == 0 and check["after"] == base, check
    rc, made = sync(**args)
    assert rc == 0 and made["changed"], made
    assert site_listing(sync.environment) == base
    assert any("--no-default-groups" in c for c in made["cmd"]), made["cmd"]
    rc, docs = sync(groups=["docs"], **args)
    assert rc == 0 and docs["changed"] and site_listing(sync.environment) == dict(base, packaging="24.1"), docs
    rc, everything = sync(no_dev=False, **args)  # uv's defaults: every default group
    assert rc == 0 and site_listing(sync.environment) == dict(base, packaging="24.1", iniconfig="2.0.0"), everything
    before = state(sync)
    rc, refused = sync(groups=["dev", "docs"], **args)
    assert rc == 1 and "groups names dev, which no_dev=true leaves out" in refused["msg"], refused
    assert state(sync) == before and refused["cmd"] == []


@needs_mirror
@pytest.mark.parametrize("case", ["stale", "missing-lock", "newer-lock", "no-python", "tampered", "import-fails"])
def test_bad_input_leaves_the_running_environment(sync, index, case):
    assert sync()[0] == 0
    before = state(sync)
    args = {}
    if case == "stale":
        sync.app.write(deps='"six==1.17.0", "packaging==24.1"', lock=False)  # packaging: never asked for yet
        # The counting index is the task's own index (without it uv would resolve against its default index,
        # never counted here, and the check would pass online too), and uv's cache is the task's fresh one.
        args["index_url"] = index.url
        expect = "run `uv lock` in the project"
    elif case == "missing-lock":
        os.unlink(os.path.join(sync.app.top, "uv.lock"))
        expect = "has no uv.lock: run `uv lock`"
    elif case == "newer-lock":
        path = os.path.join(sync.app.top, "uv.lock")
        text = open(path).read().replace("version = 1\n", "version = 2\n", 1)
        with open(path, "w") as handle:
            handle.write(text)
        expect = "written by a newer uv than the host's uv 0.13.8 (lock version 2"
    elif case == "no-python":
        args["python"] = "3.99"
        expect = "no Python on the host satisfies python=3.99"
    elif case == "tampered":
        index.tamper("packaging-24.1-py3-none-any.whl")
        args["extras"] = ["pkg"]
        expect = "hash"
    else:
        sync.app.code("raise RuntimeError('broken release')\n")
        expect = "failed its check (its Python imports app)"
    index.reset()
    rc, failed = sync(**args)
    assert rc == 1 and failed["failed"], failed
    if case == "stale":
        assert index.paths == []  # the lock is checked offline: no index request, not even for a stale one
    assert expect in failed["msg"].lower() if case == "tampered" else expect in failed["msg"], failed["msg"]
    assert state(sync) == before  # the link and the store exactly as they were
    assert failed["environment"]["current"] == os.path.realpath(sync.environment)
    assert run_app(sync.environment) == "0.1.0 1.16.0"


@needs_mirror
def test_real_directory_at_environment_is_refused(sync):
    os.makedirs(os.path.join(sync.environment, "bin"))
    rc, failed = sync()
    assert rc == 1 and "never replaces it" in failed["msg"] and os.path.isdir(os.path.join(sync.environment, "bin"))
    assert not os.path.islink(sync.environment)


@needs_mirror
def test_an_environment_below_a_file_says_what_to_fix(sync, tmp_path):
    (tmp_path / "srv").mkdir(exist_ok=True)
    (tmp_path / "srv" / "app.conf").write_text("not a folder\n")
    below = str(tmp_path / "srv" / "app.conf" / "venv" / ".venv")
    rc, failed = sync(environment=below)
    assert rc == 1 and failed["failed"], failed
    assert failed["msg"].startswith("environment %s cannot be made: %s is a file, not a folder" % (
        below, tmp_path / "srv" / "app.conf")), failed["msg"]
    assert "choose an environment path" in failed["msg"] and "Traceback" not in json.dumps(failed)
    # A parent that links to nothing (an unmounted volume) is said to be one (second review of issue 31).
    (tmp_path / "srv" / "data").symlink_to(tmp_path / "mnt" / "volume")
    dangling = str(tmp_path / "srv" / "data" / "app" / ".venv")
    rc, failed = sync(environment=dangling)
    assert rc == 1 and "%s is a symbolic link to %s, which does not exist" % (
        tmp_path / "srv" / "data", tmp_path / "mnt" / "volume") in failed["msg"], failed["msg"]


@needs_mirror
def test_a_lock_that_is_not_utf8_says_what_to_fix(sync):
    path = os.path.join(sync.app.top, "uv.lock")
    with open(path, "rb") as handle:
        data = handle.read()
    with open(path, "wb") as handle:
        handle.write(data + b"# caf\xe9\n")
    rc, failed = sync()
    assert rc == 1 and failed["failed"], failed
    assert "uv.lock is not UTF-8 text" in failed["msg"] and "run `uv lock`" in failed["msg"], failed["msg"]
    assert failed["cmd"] == [] and not os.path.lexists(sync.environment)


@needs_mirror
def test_credentials_reach_uv_only_through_its_environment(run_module, tmp_path, uv, wheels):
    with lockindex.hashed_index(wheels, auth=("deploy", "s3cr3t-pass")) as served:
        authed = served.url.replace("http://", "http://deploy:s3cr3t-pass@")
        app = App(tmp_path / "project", uv, authed).write()
        base = {"project_dir": app.top, "environment": str(tmp_path / "env"), "python": PYTHON, "uv_path": uv}
        rc, made = run_module(uv_sync.main, dict(base, index_url=authed))
        assert rc == 0 and made["changed"], made
        assert "s3cr3t-pass" not in json.dumps(made)
        assert not any("s3cr3t" in c or "--index" in c for c in made["cmd"])
        shutil.rmtree(str(tmp_path / "project" / "src"))  # another build: the sources changed
        App(tmp_path / "project", uv, authed)
        with open(os.path.join(app.top, "src", "app", "extra.py"), "w") as handle:
            handle.write("")
        wrong = served.url.replace("http://", "http://deploy:wrong-password@")
        rc, failed = run_module(uv_sync.main, dict(base, index_url=wrong, environment=str(tmp_path / "env2")))
        assert rc == 1 and "wrong-password" not in json.dumps(failed), failed


@needs_mirror
def test_wheelhouse_installs_with_no_index(sync, index, wheels, tmp_path):
    """The controller mode's host half: the locked wheels in a directory, uv export + uv pip sync offline."""
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    for wheel in wheels:
        shutil.copy(wheel, str(wheelhouse))
    index.reset()
    rc, made = sync(wheelhouse_dir=str(wheelhouse), download_on="controller")
    assert rc == 0 and made["changed"], made
    assert index.paths == []  # no index at all
    assert run_app(sync.environment) == "0.1.0 1.16.0"
    assert any("pip sync" in c and "--require-hashes" in c and "--offline" in c for c in made["cmd"])
    assert made["wheelhouse"]["files"] == len(wheels)
    rc, again = sync(wheelhouse_dir=str(wheelhouse), download_on="controller")
    assert rc == 0 and not again["changed"]


def test_controller_mode_without_wheelhouse_is_refused(run_module, tmp_path):
    rc, failed = run_module(uv_sync.main, {"project_dir": str(tmp_path), "environment": str(tmp_path / "e"),
                                           "download_on": "controller"})
    assert rc == 1 and "action plugin" in failed["msg"]


@needs_mirror
def test_project_archive_from_the_action_plugin(sync, tmp_path):
    from ansible_collections.pyfleet.uv.plugins.action.uv_sync import pack_project
    os.makedirs(os.path.join(sync.app.top, ".git"))
    with open(os.path.join(sync.app.top, ".git", "HEAD"), "w") as handle:
        handle.write("ref: x\n")
    archive = str(tmp_path / "project.tar.gz")
    count = pack_project(sync.app.top, archive)
    assert count == 3  # pyproject.toml, uv.lock, src/app/__init__.py; never .git
    rc, made = sync(project_dir=None, project_src=sync.app.top, project_archive=archive)
    assert rc == 0 and made["changed"] and made["lock"]["path"] == os.path.join(sync.app.top, "uv.lock"), made
    assert run_app(sync.environment) == "0.1.0 1.16.0"
    rc, again = sync(project_dir=None, project_src=sync.app.top, project_archive=archive)
    assert rc == 0 and not again["changed"]  # the same sources in another temporary directory
    rc, direct = sync()
    assert rc == 0 and not direct["changed"]  # and the same sources on the host: the same environment


@needs_mirror
def test_an_environment_inside_the_project_is_a_noop_the_second_time(sync, index):
    """uv's usual layout (<project>/.venv): the link and its store are not part of the project's digest."""
    inside = os.path.join(sync.app.top, ".venv")
    rc, first = sync(environment=inside)
    assert rc == 0 and first["changed"], first
    index.reset()
    rc, again = sync(environment=inside)
    assert rc == 0 and not again["changed"], again
    assert index.paths == [] and len([n for n in os.listdir(inside + ".d") if not n.startswith(".")]) == 1


@needs_mirror
def test_a_running_environment_whose_python_is_gone_is_replaced(sync, monkeypatch):
    from ansible.module_utils.basic import AnsibleModule  # pylint: disable=import-outside-toplevel
    warned, real = [], AnsibleModule.warn
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, text, *a, **k: (warned.append(text), real(self, text, *a, **k)))
    assert sync()[0] == 0
    running = os.path.realpath(sync.environment)
    for name in os.listdir(os.path.join(running, "bin")):
        if name.startswith("python"):
            os.unlink(os.path.join(running, "bin", name))
            os.symlink("/nonexistent/python3", os.path.join(running, "bin", name))
    sync.app.write(deps='"six==1.17.0", "python-dateutil==2.9.0.post0"')
    rc, out = sync()
    assert rc == 0 and out["changed"], out
    assert any("could not be listed" in w for w in warned), (warned, out)
    assert run_app(sync.environment) == "0.1.0 1.17.0"


@needs_mirror
def test_the_running_environment_is_never_rebuilt_in_place(sync):
    """A running environment without its receipt (a power loss after the switch): refused, kept as it is."""
    assert sync()[0] == 0
    running = os.path.realpath(sync.environment)
    os.unlink(os.path.join(running, "uv-sync.json"))
    before = state(sync)
    rc, out = sync()
    assert rc != 0 and "never rebuilds the environment services run from in place" in out["msg"], out
    assert state(sync) == before and run_app(sync.environment) == "0.1.0 1.16.0"


def _save(app):
    return {n: open(os.path.join(app.top, n)).read() for n in ("pyproject.toml", "uv.lock")}


def _restore(app, files):
    for name, text in files.items():
        with open(os.path.join(app.top, name), "w") as handle:
            handle.write(text)


@needs_mirror
def test_a_kept_environment_that_fails_its_check_is_rebuilt(sync):
    """A kept environment is checked like a new one before a switch (its Python runs and imports the project);
    a broken one (half deleted, a disk error) is discarded and built again, not a failure on every run."""
    assert sync()[0] == 0
    first = os.path.realpath(sync.environment)
    old_files = _save(sync.app)
    sync.app.write(deps='"six==1.17.0", "python-dateutil==2.9.0.post0"')
    assert sync()[0] == 0
    for root, dirs, _files in os.walk(os.path.join(first, "lib")):
        if root.endswith("site-packages") and "app" in dirs:
            shutil.rmtree(os.path.join(root, "app"))
    _restore(sync.app, old_files)
    rc, back = sync()
    assert rc == 0 and back["changed"] and back["environment"]["current"] == first, back
    assert "built from the lock" in back["msg"], back["msg"]
    assert run_app(sync.environment) == "0.1.0 1.16.0"
    assert not [n for n in os.listdir(sync.store) if n.startswith(".trash-")]


@needs_mirror
def test_the_running_environment_is_read_under_the_host_lock(sync, monkeypatch):
    """Another run switches the link while this one waits for the host lock: this run's previous environment
    (the one it bumps for keep, and reports) is the one running when it got the lock, not when it started."""
    from ansible_collections.pyfleet.uv.plugins.module_utils.environments import _sync_env  # pylint: disable=import-outside-toplevel
    assert sync()[0] == 0
    first = os.path.realpath(sync.environment)
    one = _save(sync.app)
    sync.app.write(deps='"six==1.17.0", "python-dateutil==2.9.0.post0"')
    assert sync()[0] == 0
    other = os.path.realpath(sync.environment)
    _restore(sync.app, one)
    assert sync()[1]["environment"]["current"] == first  # running: first; kept: other
    sync.app.write(deps='"six==1.17.0"')
    real = _sync_env.Environments.prepare

    def racing(self):
        self.switch(os.path.basename(other))  # the parallel run's switch, just before this one holds the lock
        monkeypatch.setattr(_sync_env.Environments, "prepare", real)
        return real(self)

    monkeypatch.setattr(_sync_env.Environments, "prepare", racing)
    rc, out = sync(keep=1)
    assert rc == 0 and out["changed"], out
    assert out["environment"]["previous"] == other, out["environment"]
    assert os.path.isdir(other) and out["removed_environments"] == [first]
    assert out["before"]["six"] == "1.17.0"


def _archive(path, app_top, extra=()):
    """The project as the action plugin sends it (pyproject.toml, uv.lock, sources), plus ``extra`` members:
    ``(name, bytes)`` for a file, ``(name, ("symlink"|"hardlink", target))`` for a link."""
    import io  # pylint: disable=import-outside-toplevel
    import tarfile  # pylint: disable=import-outside-toplevel
    with tarfile.open(path, "w:gz") as tar:
        for rel in ("pyproject.toml", "uv.lock", os.path.join("src", "app", "__init__.py")):
            if os.path.exists(os.path.join(app_top, rel)):
                tar.add(os.path.join(app_top, rel), arcname=rel)
        for name, data in extra:
            info = tarfile.TarInfo(name)
            if isinstance(data, tuple):
                info.type = tarfile.SYMTYPE if data[0] == "symlink" else tarfile.LNKTYPE
                info.linkname = data[1]
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


@needs_mirror
def test_project_archive_members_named_like_dotdot_are_inside(sync, tmp_path):
    """``..notes`` (two dots, then more) is an ordinary name inside the project, not a way out of it."""
    extra = [("..notes", b"release notes\n"), ("src/..cfg/x.txt", b"x\n")]
    archive = _archive(str(tmp_path / "p.tar.gz"), sync.app.top, extra)
    rc, made = sync(project_dir=None, project_src=sync.app.top, project_archive=archive)
    assert rc == 0 and made["changed"], made
    assert run_app(sync.environment) == "0.1.0 1.16.0"


@pytest.mark.parametrize("member", [
    ("../evil", b"x"), ("/tmp/uv-sync-evil-abs", b"x"), ("src/../../evil", b"x"), ("src/../..", b"x"),
], ids=["parent", "absolute", "parent-inside", "parent-only"])
def test_project_archive_members_outside_the_project_are_refused(run_module, tmp_path, member):
    top = tmp_path / "project"
    top.mkdir()
    (top / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    archive = _archive(str(tmp_path / "p.tar.gz"), str(top), [member])
    args = {"project_src": str(top), "project_archive": archive, "environment": str(tmp_path / "env")}
    rc, failed = run_module(uv_sync.main, args)
    assert rc == 1 and "outside the project" in failed["msg"], failed
    assert not os.path.exists(str(tmp_path / "evil")) and not os.path.exists("/tmp/uv-sync-evil-abs")


def test_project_archive_links_are_never_extracted(run_module, tmp_path):
    top = tmp_path / "project"
    top.mkdir()
    (top / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    archive = _archive(str(tmp_path / "p.tar.gz"), str(top), [
        ("out", ("symlink", str(tmp_path))), ("hard", ("hardlink", "pyproject.toml")), ("out/written", b"x")])
    rc, failed = run_module(uv_sync.main, {"project_src": str(top), "project_archive": archive,
                                           "environment": str(tmp_path / "env")})
    assert rc == 1 and "has no uv.lock" in failed["msg"], failed
    assert not os.path.exists(str(tmp_path / "written"))


def test_project_archive_members_are_streamed_to_disk(run_module, tmp_path):
    """A large file of the project is copied in blocks, never read whole into memory."""
    import tracemalloc  # pylint: disable=import-outside-toplevel
    top = tmp_path / "project"
    top.mkdir()
    (top / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    archive = _archive(str(tmp_path / "p.tar.gz"), str(top), [("data/big.bin", b"\0" * (48 << 20))])
    tracemalloc.start()
    try:
        rc, failed = run_module(uv_sync.main, {"project_src": str(top), "project_archive": archive,
                                               "environment": str(tmp_path / "env")})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rc == 1 and "has no uv.lock" in failed["msg"], failed
    assert peak < (16 << 20), peak


@needs_mirror
def test_a_code_change_builds_again_only_when_the_project_is_installed(sync, index):
    """install_project=true installs the project's code, so any change to its files builds a new environment;
    install_project=false installs only the locked dependencies: a change to the code alone is a no-op."""
    rc, deps = sync(install_project=False)
    assert rc == 0 and deps["changed"] and "app" not in site_listing(sync.environment), deps
    sync.app.code('__version__ = "0.1.1"\n')
    with open(os.path.join(sync.app.top, "README.md"), "w") as handle:
        handle.write("notes\n")
    index.reset()
    rc, again = sync(install_project=False)
    assert rc == 0 and not again["changed"] and index.paths == [], again
    rc, made = sync()
    assert rc == 0 and made["changed"] and run_app(sync.environment, "import app; print(app.__version__)") == "0.1.1"
    sync.app.code('__version__ = "0.1.2"\n')
    rc, code = sync()
    assert rc == 0 and code["changed"] and run_app(sync.environment, "import app; print(app.__version__)") == "0.1.2"
