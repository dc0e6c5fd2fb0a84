# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_wheelhouse.fetch: the wheels of a real uv.lock (tests/utils/lockapp.py, locked by the real uv 0.13.8)
downloaded once for a fleet from a real loopback index that counts every request."""

from __future__ import annotations

import concurrent.futures
import os
import sys

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ChecksumError, MirrorError
from ansible_collections.pyfleet.uv.plugins.plugin_utils._cache import sha256_file
from ansible_collections.pyfleet.uv.plugins.plugin_utils._uv_lock import host_target, load_lock, plan
from ansible_collections.pyfleet.uv.plugins.plugin_utils._wheelhouse import fetch, source_options

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "module_utils"))
from real_uv import needs_mirror, real_uv  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "utils"))
import lockapp  # noqa: E402  pylint: disable=wrong-import-position

pytestmark = needs_mirror
FACTS = {
    "x86": {"python": {"version": "3.11.9"}, "arch": "x86_64", "libc": {"family": "glibc", "version": "2.36"}},
    "arm": {"python": {"version": "3.9.2"}, "arch": "aarch64", "libc": {"family": "glibc", "version": "2.28"}},
    "i686": {"python": {"version": "3.9.2"}, "arch": "i686", "libc": {"family": "glibc", "version": "2.31"}},
}
OPTIONS = {"timeout": 10, "download_retries": 0}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("wheelhouse"))
    uv = real_uv("0.13.8", os.path.join(tmp, "uvs"))
    if uv is None:
        pytest.skip("uv 0.13.8 is not in the mirror")
    made = lockapp.app(tmp, uv)
    yield made
    made.index.stop()


@pytest.fixture
def index(app):
    app.index.reset()
    yield app.index
    app.index.auth, app.index.redirect_files, app.index.tampered = None, False, set()


@pytest.fixture
def fleet_plan(app):
    targets = {host: host_target(facts) for host, facts in FACTS.items()}
    return plan(load_lock(app.lock_text), targets, no_dev=False, extras=["yaml"])


def cached(cache_dir):
    folder = os.path.join(cache_dir, "sha256")
    return sorted(name for name in os.listdir(folder) if not name.startswith(".lock-")) if os.path.isdir(folder) else []


def _fork(args):
    """One fork of the play: fetch what its host needs (as the action plugin runs once per host)."""
    files, cache_dir = args
    return {name: entry["downloaded"] for name, entry in fetch(files, cache_dir, OPTIONS).items()}


def test_each_file_once_for_the_fleet_then_no_request(index, fleet_plan, tmp_path):
    cache_dir = str(tmp_path / "cache")
    per_host = [({name: fleet_plan["files"][name] for name in names}, cache_dir)
                for names in fleet_plan["hosts"].values()]
    # Three forks at once, as a play runs the action on three hosts (flock locks conflict between
    # the file descriptions of threads as between processes).
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        results = list(pool.map(_fork, per_host))
    got = index.file_requests()
    assert sorted(name for _server, name in got) == sorted(fleet_plan["files"]), "each distinct file asked once"
    downloaded = [name for result in results for name, fresh in result.items() if fresh]
    assert sorted(downloaded) == sorted(fleet_plan["files"])
    for name, entry in fleet_plan["files"].items():
        path = os.path.join(cache_dir, "sha256", "%s-%s" % (entry["sha256"], name))
        assert sha256_file(path) == entry["sha256"]
    assert not [n for n in os.listdir(os.path.join(cache_dir, "sha256")) if n.startswith(".download-")]

    index.reset()
    again = fetch(fleet_plan["files"], cache_dir, OPTIONS)
    assert index.requests == []  # verified again from the cache, nothing asked
    assert not any(entry["downloaded"] for entry in again.values())
    name = sorted(again)[0]
    assert again[name]["sha256"] == fleet_plan["files"][name]["sha256"]
    assert again[name]["size"] == fleet_plan["files"][name]["size"] == os.path.getsize(again[name]["path"])


def test_a_tampered_file_fails_with_both_hashes_and_leaves_nothing(index, fleet_plan, tmp_path):
    cache_dir = str(tmp_path / "cache")
    name = "MarkupSafe-2.1.5-cp39-cp39-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
    entry = fleet_plan["files"][name]
    index.tampered = {name}
    with pytest.raises(ChecksumError) as caught:
        fetch({name: entry}, cache_dir, OPTIONS)
    served = lockapp.sha256_of(lockapp.tampered_copy(index, name, str(tmp_path)))
    message = caught.value.msg
    assert message.startswith("%s does not match uv.lock: uv.lock says sha256 %s, the file downloaded from %s has "
                              "sha256 %s; nothing was kept" % (name, entry["sha256"], entry["url"], served)), message
    assert cached(cache_dir) == []
    assert not [n for n in os.listdir(os.path.join(cache_dir, "sha256")) if n.startswith(".download-")]


def test_a_cached_file_that_changed_is_downloaded_again(index, fleet_plan, tmp_path):
    cache_dir = str(tmp_path / "cache")
    name = "six-1.16.0-py2.py3-none-any.whl"
    first = fetch({name: fleet_plan["files"][name]}, cache_dir, OPTIONS)[name]
    with open(first["path"], "ab") as handle:
        handle.write(b"planted")
    warnings = []
    index.reset()
    again = fetch({name: fleet_plan["files"][name]}, cache_dir, OPTIONS, warn=warnings.append)[name]
    assert again["downloaded"] and sha256_file(again["path"]) == fleet_plan["files"][name]["sha256"]
    assert len(index.file_requests()) == 1 and "no longer matches" in warnings[0]


def test_credentials_go_to_the_locked_index_only(index, fleet_plan, tmp_path):
    name = "six-1.16.0-py2.py3-none-any.whl"
    files = {name: fleet_plan["files"][name]}
    index.auth = ("fleet", "s3cret-pw")
    with pytest.raises(MirrorError) as caught:  # no credentials: the index refuses
        fetch(files, str(tmp_path / "none"), OPTIONS)
    assert "HTTP 401" in caught.value.msg and name in caught.value.msg

    # Given as url_username/url_password: sent to the lock's index in answer to its challenge.
    index.reset()
    fetch(files, str(tmp_path / "basic"), dict(OPTIONS, url_username="fleet", url_password="s3cret-pw"))
    assert [(server, auth is not None) for server, _m, _p, auth in index.requests] == [("index", False), ("index", True)]

    # In the index URL's user info (as uv takes it); the index redirects the file to another origin,
    # which gets no credentials at all.
    index.reset()
    index.redirect_files = True
    url = index.url.replace("http://", "http://fleet:s3cret-pw@")
    fetch(files, str(tmp_path / "userinfo"), dict(OPTIONS, index_url=url, headers={"X-Token": "t0ken"}))
    seen = [(server, auth) for server, _m, _p, auth in index.requests]
    assert seen[0][0] == "index" and seen[0][1] is not None
    assert seen[1:] == [("cdn", None)]
    assert index.file_requests() == [("index", name), ("cdn", name)]

    # Credentials given for another index are not sent to the lock's.
    elsewhere = dict(url_username="u", index_url="http://u:p@127.0.0.9:1/simple/")
    options = source_options(elsewhere, index.url, files[name]["url"])
    assert options["index_url"] == index.url


def test_options_for_a_file_locked_from_an_extra_index(index):
    extra = index.url.replace("http://", "http://x:y@")
    options = source_options({"index_url": "https://main.example/simple/", "extra_index_urls": [extra]},
                             index.url, index.url + "six/six.whl")
    assert options["index_url"] == extra
    assert source_options({}, None, "https://files.example/a.whl")["index_url"] == "https://files.example/a.whl"


def test_a_killed_download_is_swept_and_a_live_one_is_kept(index, fleet_plan, tmp_path):
    """A run killed during a download leaves its ``.download-*`` file: the next run sweeps it (under no flock,
    older than a minute), never a download that another fork is still writing (it holds its flock)."""
    import fcntl  # pylint: disable=import-outside-toplevel
    import time  # pylint: disable=import-outside-toplevel

    cache_dir = str(tmp_path / "cache")
    name = "six-1.16.0-py2.py3-none-any.whl"
    fetch({name: fleet_plan["files"][name]}, cache_dir, OPTIONS)
    folder = os.path.join(cache_dir, "sha256")
    old = time.time() - 3600
    for debris in (".download-killed", ".download-writing", ".download-young"):
        with open(os.path.join(folder, debris), "wb") as handle:
            handle.write(b"part of a wheel")
        if debris != ".download-young":
            os.utime(os.path.join(folder, debris), (old, old))
    with open(os.path.join(folder, ".download-writing"), "rb") as live:
        fcntl.flock(live.fileno(), fcntl.LOCK_EX)
        again = fetch({name: fleet_plan["files"][name]}, cache_dir, OPTIONS)[name]
    assert not again["downloaded"]
    assert sorted(n for n in os.listdir(folder) if n.startswith(".download-")) == [".download-writing", ".download-young"]


def test_a_401_from_another_origin_says_why_it_got_no_credentials(index, fleet_plan, tmp_path):
    """A file locked on another origin than its index (a file server) gets none of the index's credentials:
    its 401 says which host answered and that credentials go to the index's origin only."""
    import http.server  # pylint: disable=import-outside-toplevel
    import threading  # pylint: disable=import-outside-toplevel

    class Refusing(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="files"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        name = "six-1.16.0-py2.py3-none-any.whl"
        files_host = "127.0.0.1:%d" % server.server_address[1]
        entry = dict(fleet_plan["files"][name], url="http://%s/files/%s" % (files_host, name))
        with pytest.raises(MirrorError) as caught:
            fetch({name: entry}, str(tmp_path / "cache"), dict(OPTIONS, url_username="fleet", url_password="s3cret-pw"))
    finally:
        server.shutdown()
        server.server_close()
    message = caught.value.msg
    assert "HTTP 401" in message and "s3cret-pw" not in message
    assert "http://%s answered 401" % files_host in message, message
    assert "credentials are sent only to the origin of the index %s" % index.url.split("/simple")[0] in message, message
