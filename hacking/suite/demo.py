# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The main job (``hacking/demo.sh``): install uv and the rest of the story from loopback servers."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import threading
import time

from .common import CACHE, ROOT, UV_NEW, ansible_env, build_mirror, collection_tree, log, mirror_server, run, venv


def demo_material(out: dict) -> None:
    """What the demo's later steps need, into ``out``: the wheels of venvindex's packages and a
    python-build-standalone style archive of this machine's Debian interpreter (tests/utils/pbs.py).
    Built beside the venv and the mirror (a thread), both cached."""
    import pbs  # pylint: disable=import-outside-toplevel  # tests/utils/pbs.py
    import pbs_sources  # pylint: disable=import-outside-toplevel  # tests/utils/pbs_sources.py
    import venvindex  # pylint: disable=import-outside-toplevel  # tests/utils/venvindex.py

    try:
        out["wheels"] = venvindex.fetch()
        source = pbs_sources.debian_source("/", "demo")
        if source is None:
            raise RuntimeError("no Debian python3.X package on this machine to make the demo's Python archive from")
        # uv's interpreter query needs distutils below 3.10 only (Debian ships it apart).
        series = tuple(int(p) for p in source["series"].split("."))
        source["addons"] = pbs_sources.debian_addons(source, CACHE) if series < (3, 10) else []
        out["pbs"] = pbs.build(("demo",), sources=[source], hostile=False)
    except Exception as exc:  # pylint: disable=broad-exception-caught  # reported by the caller
        out["error"] = exc


def cmd_demo(_args) -> int:
    """The main job: build the mirror, serve it on loopback, install uv with a real playbook
    twice, then (hacking/demo.yml's second play) the uv.toml for a loopback index, a Python from
    loopback archives and an environment with packages, each step twice, the last one used by
    another user when run as root."""
    import pbs  # pylint: disable=import-outside-toplevel  # tests/utils/pbs.py
    import venvindex  # pylint: disable=import-outside-toplevel  # tests/utils/venvindex.py

    started = time.time()
    material: dict = {}
    builder = threading.Thread(target=demo_material, args=(material,), daemon=True)
    builder.start()
    path = venv("newest")
    mirror = build_mirror()
    top = collection_tree()
    builder.join()
    if "error" in material:
        raise RuntimeError("demo: %s" % material["error"])
    manifest = material["pbs"]
    archive = manifest["archives"][0]
    with tempfile.TemporaryDirectory(prefix="uv-demo-") as scratch, contextlib.ExitStack() as stack:
        os.chmod(scratch, 0o755)  # another user runs the environment's Python
        url = stack.enter_context(mirror_server(mirror))
        index, counter = stack.enter_context(venvindex.static_index(material["wheels"]))
        www = pbs.serve_root(manifest, os.path.join(scratch, "www"))
        pbs_url = stack.enter_context(mirror_server(www))
        jsons = pbs.write_jsons(manifest, www, pbs_url)
        config_dirs = os.path.join(scratch, "xdg")
        playbook = os.path.join(ROOT, "hacking", "demo.yml")
        extra = {"uv_mirror": url, "uv_version": UV_NEW, "uv_install_dir": os.path.join(scratch, "bin"),
                 "ansible_python_interpreter": sys.executable, "demo_root": scratch, "demo_index": index,
                 "demo_config": os.path.join(config_dirs, "uv", "uv.toml"), "demo_python": archive["version"],
                 "demo_python_json": "%s/%s" % (pbs_url, os.path.basename(jsons["demo"])),
                 "demo_unprivileged": os.geteuid() == 0}
        # uv reads its system uv.toml from $XDG_CONFIG_DIRS/uv/uv.toml first: the demo's stays in scratch.
        run([os.path.join(path, "bin", "ansible-playbook"), "-i", "localhost,", "-c", "local", playbook,
             "-e", json.dumps(extra)], env=ansible_env(top, {"XDG_CONFIG_DIRS": config_dirs}))
        asked = sorted({p.split("/")[2] for p in counter.paths if p.startswith("/simple/")})
        if "six" not in asked:
            raise RuntimeError("the environment's packages did not come from the index in the demo's uv.toml "
                               "(it was asked for %s)" % (asked or "nothing"))
        log("the loopback index served %d request(s), for %s" % (len(counter.paths), ", ".join(asked)))
    log("demo finished in %.0f s" % (time.time() - started))
    return 0
