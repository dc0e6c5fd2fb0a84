# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""URL secrets never show in a real ``ansible -vvv`` run (issue 33 items 2 and 3).

Each case runs the real module in a playbook with ``-vvv`` and looks for every secret in the
whole output: a failure of the argument spec itself (``mirror_url`` with ``index_url``,
before the module could mask anything), a token given as the URL's user, query values,
the user info of a ``checksum`` URL, and the controller's own connection errors.

Needs (set by hacking/suite): ``ansible-playbook`` on PATH and ANSIBLE_COLLECTIONS_PATH with
the collection. No mirror: every URL points at a loopback port that refuses connections.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not shutil.which("ansible-playbook"), reason="run through hacking/suite (needs ansible)")

SECRETS = {
    "token_user": "tokuser-s3cret-value",
    "index_pw": "idxpw-s3cret-value",
    "sum_pw": "sumpw-s3cret-value",
    "sum_sig": "sumsig-s3cret-value",
    "query": "qsig-s3cret-value",
    "header": "hdr-s3cret-value",
    "password": "urlpw-s3cret-value",
}


def refused_url():
    """``http://127.0.0.1:<port>`` where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return "http://127.0.0.1:%d" % sock.getsockname()[1]


def options(**extra):
    base = refused_url()
    found = dict(
        version="0.5.11",
        mirror_url=base.replace("://", "://%s@" % SECRETS["token_user"]) + "/uv/{version}/?sig=" + SECRETS["query"],
        checksum="sha256:" + base.replace("://", "://sum:%s@" % SECRETS["sum_pw"]) + "/sha256.sum?sig=" + SECRETS["sum_sig"],
        headers={"X-Token": SECRETS["header"]},
        url_username="fleet",
        url_password=SECRETS["password"],
        download_retries=0,
        timeout=5,
    )
    found.update(extra)
    return found


OPTIONS = ("version", "mirror_url", "index_url", "checksum", "headers", "url_username", "url_password",
           "download_retries", "timeout", "install_dir", "download_on", "controller_cache_dir", "targets")


def run(module, args, tmp_path):
    """Run ``module`` in a playbook at ``-vvv``, its arguments taken from a vars file (as secrets
    come from vars or a vault: the playbook's own lines, which ansible quotes on errors, hold none)."""
    (tmp_path / "args.json").write_text(json.dumps({"a": args}))
    task = dict((name, "{{ a.%s | default(omit) }}" % name) for name in OPTIONS)
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [{module: task}]}]
    (tmp_path / "play.yml").write_text(json.dumps(play))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="False",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_REMOTE_TMP=str(tmp_path / "remote"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "local"), ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    argv = ["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", "@" + str(tmp_path / "args.json"),
            str(tmp_path / "play.yml"), "-vvv"]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def shown(output):
    return sorted(name for name, secret in SECRETS.items() if secret in output)


@pytest.mark.parametrize("module", ["pyfleet.uv.uv_install", "pyfleet.uv.ruff_install"])
def test_argument_spec_failure_masks_url_secrets(module, tmp_path):
    """mirror_url with index_url: the spec fails before the module runs a line of its own."""
    index = refused_url().replace("://", "://__token__:%s@" % SECRETS["index_pw"]) + "/simple/"
    code, output = run(module, dict(options(index_url=index), install_dir=str(tmp_path / "bin")), tmp_path)
    assert code != 0 and "mutually exclusive" in output, output[-3000:]
    assert shown(output) == [], output[-5000:]


@pytest.mark.parametrize("where", ["host", "controller"])
def test_failed_download_masks_url_secrets(where, tmp_path):
    """A token given as the URL's user, query values and the checksum URL's user info, at -vvv."""
    code, output = run("pyfleet.uv.uv_install", dict(options(), install_dir=str(tmp_path / "bin"), download_on=where,
                                                     controller_cache_dir=str(tmp_path / "cache")), tmp_path)
    assert code != 0 and "connection" in output.lower(), output[-3000:]
    assert shown(output) == [], output[-5000:]


def test_mirror_check_masks_url_secrets(tmp_path):
    index = refused_url().replace("://", "://__token__:%s@" % SECRETS["index_pw"]) + "/simple/"
    targets = ["x86_64-unknown-linux-gnu"]
    code, output = run("pyfleet.uv.uv_mirror_check", dict(options(index_url=index), targets=targets), tmp_path)
    assert code != 0 and "mutually exclusive" in output, output[-3000:]
    assert shown(output) == [], output[-5000:]
    code, output = run("pyfleet.uv.uv_mirror_check", dict(options(), targets=targets,
                                                          controller_cache_dir=str(tmp_path / "cache")), tmp_path)
    assert code != 0 and "connection" in output.lower(), output[-3000:]
    assert shown(output) == [], output[-5000:]
