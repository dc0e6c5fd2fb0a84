# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller stage: download_on=controller across a fleet of inventory hosts on this machine."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import sys
import tempfile

from .common import ROOT, TRACKS, ansible_env, expected_vars, find_python, mirror_server, run, venv
import uvindex_static  # on sys.path through .common
import uvindex_wheels  # on sys.path through .common


def stage_controller(track: str, ctx: dict) -> None:
    """download_on=controller across a fleet of inventory hosts (hacking/controller.yml).

    Hosts on this machine (local connection, each with its own root), one shared mirror
    whose counters are the fleet's mirror egress, the hosts' module environment pointed
    at a dead proxy, and an index whose yanked newest release is published mid-run.
    """
    path = venv(track)
    hosts = 3
    with tempfile.TemporaryDirectory(prefix="uv-controller-") as scratch, mirror_server(ctx["mirror"]) as url, \
            contextlib.ExitStack() as stack:
        group = {"vars": dict(expected_vars(ctx), uv_mirror=url, uv_cache=os.path.join(scratch, "cache")),
                 "hosts": {}}
        for number in range(1, hosts + 1):
            group["hosts"]["local%d" % number] = {
                "ansible_connection": "local",
                "ansible_python_interpreter": find_python(TRACKS[track]["managed"][-1]),
                "uv_test_root": os.path.join(scratch, "host%d" % number),
            }
        index = controller_index(stack, scratch)
        if index:
            group["vars"].update(index)
        inventory_file = os.path.join(scratch, "inventory.json")
        with open(inventory_file, "w") as handle:
            json.dump({"all": {"children": {"fleet": group}}}, handle, indent=1)
        run([os.path.join(path, "bin", "ansible-playbook"), "-i", inventory_file, "--forks", "5",
             os.path.join(ROOT, "hacking", "controller.yml")], env=ansible_env(ctx["tree"]))


def controller_index(stack, scratch: str) -> dict:
    """The index of hacking/controller.yml: a private copy of uvindex's static ``yanked`` tree.

    Its newest release (0.13.9) is yanked; ``uv_index_publish`` is the command that un-yanks
    it mid-run, in this copy only (the cached tree stays as it is).
    """
    built = os.path.join(uvindex_wheels.cache_dir(), "index-static")
    wheels = uvindex_wheels.fetch_wheels()
    with uvindex_wheels.cache_lock("index-static"):
        uvindex_static.build_static(built, wheels)
    root = os.path.join(scratch, "index")
    shutil.copytree(os.path.join(built, "yanked"), os.path.join(root, "yanked"), copy_function=os.link)
    page = os.path.join(root, "yanked", "simple", "uv", "index.html")
    os.unlink(page)  # a hard link to the cached page: this run edits its own copy
    shutil.copy(os.path.join(built, "yanked", "simple", "uv", "index.html"), page)
    server = uvindex_static.StaticServer(root).start()
    stack.callback(server.stop)
    unyank = "import re, sys; p = sys.argv[1]; t = open(p).read(); open(p, 'w').write(re.sub(' data-yanked=\"[^\"]*\"', '', t))"
    return {"uv_index": "http://127.0.0.1:%d/yanked/simple/" % server.server_address[1],
            "uv_index_publish": shlex.join([sys.executable, "-c", unyank, page])}
