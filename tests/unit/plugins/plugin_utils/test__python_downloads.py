# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils._python_downloads: the downloads JSON once per run, archives once into the cache."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import threading

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ChecksumError, MirrorError
from ansible_collections.pyfleet.uv.plugins.plugin_utils._python_downloads import (
    DEFAULT_PYTHON_MIRROR,
    FileFetcher,
    PythonArchive,
    PythonDownloads,
    host_entries,
    mirror_relative_path,
    mirrored_url,
)


@contextlib.contextmanager
def counting_server(directory):
    """A loopback HTTP server of ``directory``; yields ``(base URL, list of requested paths)``."""
    seen = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(directory), **kwargs)

        def do_GET(self):
            seen.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("url, mirror, expected", [
    (DEFAULT_PYTHON_MIRROR + "/20241016/cpython-3.12.7%2B20241016-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz",
     None, "20241016/cpython-3.12.7+20241016-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"),
    ("http://127.0.0.1:9/pbs/20241016/a.tar.gz", "http://127.0.0.1:9/pbs/", "20241016/a.tar.gz"),
    ("http://127.0.0.1:9/pbs/20241016/a.tar.gz", "http://127.0.0.1:9/pbs", "20241016/a.tar.gz"),
], ids=["github", "slash", "no-slash"])
def test_mirror_relative_path(url, mirror, expected):
    assert mirror_relative_path(url, mirror) == expected


@pytest.mark.parametrize("url, mirror", [
    ("http://other/pbs/20241016/a.tar.gz", "http://127.0.0.1:9/pbs"),
    ("http://127.0.0.1:9/pbs/20241016/../../etc/passwd", "http://127.0.0.1:9/pbs"),
    ("http://127.0.0.1:9/pbs/", "http://127.0.0.1:9/pbs"),
], ids=["elsewhere", "escape", "empty"])
def test_mirror_relative_path_refusals(url, mirror):
    with pytest.raises(MirrorError):
        mirror_relative_path(url, mirror)


GITHUB_ASSET = DEFAULT_PYTHON_MIRROR + "/20261204/cpython-3.11.7%2B20261204-x86_64-unknown-linux-gnu-install_only.tar.gz"


@pytest.mark.parametrize("url", [
    # uv 0.9 and newer print the mirror with the password masked as ****.
    "http://alice:****@127.0.0.1:9/pbs/20261204/cpython-3.11.7%2B20261204-x86_64-unknown-linux-gnu-install_only.tar.gz",
    # uv 0.8.x prints the GitHub URL even with a mirror (seen with the real uv 0.8.0).
    GITHUB_ASSET,
], ids=["masked", "github-0.8"])
def test_mirror_relative_path_with_credentials_in_the_mirror(url):
    mirror = "http://alice:s3cr%40t@127.0.0.1:9/pbs/"
    assert mirror_relative_path(url, mirror) == "20261204/cpython-3.11.7+20261204-x86_64-unknown-linux-gnu-install_only.tar.gz"
    # What the controller downloads: the same file below the mirror as given, credentials and all.
    assert mirrored_url(url, mirror) == (
        "http://alice:s3cr%40t@127.0.0.1:9/pbs/20261204/cpython-3.11.7%2B20261204-x86_64-unknown-linux-gnu-install_only.tar.gz")


def test_mirror_refusal_never_shows_the_password():
    with pytest.raises(MirrorError) as exc:
        mirror_relative_path("http://elsewhere/pbs/20261204/a.tar.gz", "https://alice:s3cret@mirror.example/pbs")
    assert "s3cret" not in exc.value.msg and "mirror.example/pbs" in exc.value.msg


def test_mirrored_url_of_a_downloads_json_entry():
    # As uv does: with python_install_mirror, an entry below GitHub's release folder comes from the mirror.
    assert mirrored_url(GITHUB_ASSET, "file:///srv/pbs") == (
        "file:///srv/pbs/20261204/cpython-3.11.7%2B20261204-x86_64-unknown-linux-gnu-install_only.tar.gz")
    assert mirrored_url(GITHUB_ASSET, None) == GITHUB_ASSET
    assert mirrored_url("http://127.0.0.1:9/a.tar.gz", "file:///srv/pbs") == "http://127.0.0.1:9/a.tar.gz"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/pbs/..%2F..%2F..%2Fetc%2Fcron.d%2Fx",
    "http://127.0.0.1:9/pbs/%2e%2e",
    "http://127.0.0.1:9/pbs/a%2Fb.tar.gz",
    "http://127.0.0.1:9/pbs/a%00b.tar.gz",
    "http://127.0.0.1:9/pbs/.",
], ids=["dotdot-slash", "dotdot", "slash", "nul", "dot"])
def test_archive_file_names_that_leave_the_folder_are_refused(url):
    with pytest.raises(MirrorError, match="refusing the archive file name"):
        PythonArchive(url)


def test_host_entries_point_below_uvs_own_mirror_prefixes():
    entries = {
        "cpython-3.11.7-linux-x86_64-gnu": dict(name="cpython", url="http://127.0.0.1:9/x/cpython-3.11.7%2Bb.tar.gz"),
        "pypy-3.10.14-linux-x86_64-gnu": dict(name="pypy", url="http://127.0.0.1:9/x/pypy3.10-v7.3.17-linux64.tar.bz2"),
        "graalpy-3.11.0-linux-x86_64-gnu": dict(name="graalpy", url="http://127.0.0.1:9/x/graalpy.tar.gz"),
    }
    hosted = host_entries(entries, "/tmp/remote/mirror")
    # uv refuses entries outside a python-install-mirror (a system uv.toml may set one), so the host
    # gets URLs below the prefix that uv replaces with the pushed folder (UV_PYTHON_INSTALL_MIRROR).
    assert hosted["cpython-3.11.7-linux-x86_64-gnu"]["url"] == DEFAULT_PYTHON_MIRROR + "/pyfleet/cpython-3.11.7%2Bb.tar.gz"
    assert hosted["pypy-3.10.14-linux-x86_64-gnu"]["url"] == (
        "https://downloads.python.org/pypy/pyfleet/pypy3.10-v7.3.17-linux64.tar.bz2")
    assert hosted["graalpy-3.11.0-linux-x86_64-gnu"]["url"] == "file:///tmp/remote/mirror/pyfleet/graalpy.tar.gz"
    assert entries["cpython-3.11.7-linux-x86_64-gnu"]["url"].startswith("http://127.0.0.1:9/")  # not changed


def test_file_fetcher(tmp_path):
    source = tmp_path / "a.tar.gz"
    source.write_bytes(b"x" * 1000)
    answer = FileFetcher().download("file://" + str(source), str(tmp_path / "copy"), 10000)
    assert answer.status == 200 and answer.body == (hashlib.sha256(b"x" * 1000).hexdigest(), 1000)
    assert FileFetcher().download(str(tmp_path / "missing"), str(tmp_path / "c2"), 10).status == 404
    assert "refused" in FileFetcher().download(str(source), str(tmp_path / "c3"), 10).note


def test_local_downloads_json(tmp_path):
    path = tmp_path / "downloads.json"
    path.write_text(json.dumps({"cpython-3.12.1-linux-x86_64-gnu": {"name": "cpython"}}))
    downloads = PythonDownloads({}, str(tmp_path / "cache"))
    assert list(downloads.downloads_json(str(path))) == ["cpython-3.12.1-linux-x86_64-gnu"]
    assert list(downloads.downloads_json("file://" + str(path))) == ["cpython-3.12.1-linux-x86_64-gnu"]
    path.write_text("[1]")
    with pytest.raises(MirrorError, match="not an object"):
        downloads.downloads_json(str(path))
    path.write_text("{")
    with pytest.raises(MirrorError, match="not valid JSON"):
        downloads.downloads_json(str(path))


def test_archive_is_verified_and_cached(tmp_path):
    archive = tmp_path / "cpython-3.12.1+20240107-x86_64-unknown-linux-gnu-install_only.tar.gz"
    archive.write_bytes(b"archive bytes")
    sha = hashlib.sha256(b"archive bytes").hexdigest()
    downloads = PythonDownloads({}, str(tmp_path / "cache"))
    path, got = downloads.fetch("file://" + str(archive), sha)
    assert got == sha and path.endswith(sha + "-" + archive.name)
    archive.unlink()  # the cache answers from now on
    assert downloads.fetch("file://" + str(archive), sha) == (path, sha)
    other = tmp_path / "other.tar.gz"
    other.write_bytes(b"tampered")
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        downloads.fetch("file://" + str(other), sha)


def test_http_json_and_archive_once_per_run(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    (served / "a.tar.gz").write_bytes(b"python")
    sha = hashlib.sha256(b"python").hexdigest()
    with counting_server(served) as (base, seen):
        (served / "downloads.json").write_text(json.dumps({"k": {"url": base + "/a.tar.gz", "sha256": sha}}))
        # Two forks of one run: each asks, the source sees one request per URL.
        for _fork in range(2):
            downloads = PythonDownloads({}, str(tmp_path / "cache"))
            data = downloads.downloads_json(base + "/downloads.json")
            path, got = downloads.fetch(data["k"]["url"], data["k"]["sha256"])
            assert got == sha
        with pytest.raises(MirrorError, match="HTTP 404"):
            PythonDownloads({}, str(tmp_path / "cache")).fetch(base + "/missing.tar.gz", "0" * 64)
    assert seen.count("/downloads.json") == 1 and seen.count("/a.tar.gz") == 1


def _entry(family, variant=None, build_variant=None, patch=2):
    return {"name": "cpython", "arch": {"family": family, "variant": variant}, "os": "linux", "libc": "gnu",
            "major": 3, "minor": 9, "patch": patch, "prerelease": "", "variant": build_variant,
            "url": "http://127.0.0.1:9/a.tar.gz", "sha256": "0" * 64}


@pytest.mark.parametrize("key, name", [
    ("cpython-3.9.2-linux-x86_64-gnu", "cpython-3.9.2-linux-x86_64-gnu"),
    # uv names the i686 family x86 in installation keys (seen with uv 0.13.8 on the i386 fleet host).
    ("cpython-3.9.2-linux-x86-gnu", "label-i686"),
    ("cpython-3.9.2-linux-x86_64_v3-gnu", "label-v3"),
    ("cpython-3.9.2+freethreaded-linux-x86_64-gnu", "label-ft"),
    ("cpython-3.9.3-linux-x86_64-gnu", None),
], ids=["same-name", "i686", "x86_64_v3", "freethreaded", "absent"])
def test_json_entry_for_matches_uvs_key(key, name):
    from ansible_collections.pyfleet.uv.plugins.plugin_utils._python_downloads import json_entry_for
    entries = {"cpython-3.9.2-linux-x86_64-gnu": _entry("x86_64"), "label-i686": _entry("i686"),
               "label-v3": _entry("x86_64", variant="v3"), "label-ft": _entry("x86_64", build_variant="freethreaded")}
    found, entry = json_entry_for(entries, key)
    assert found == name and (entry is None) == (name is None)
