# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The adhoc stage: the acceptance commands against a built and installed collection tarball."""

from __future__ import annotations

import os
import subprocess
import tempfile

from .common import UV_NEW, ansible_env, collection_dir, mirror_server, run, venv


def stage_adhoc(track: str, ctx: dict) -> None:
    """The acceptance commands: install from a built tarball, ad hoc, short name, ansible-doc."""
    path = venv(track)
    bindir = os.path.join(path, "bin")
    with tempfile.TemporaryDirectory(prefix="uv-adhoc-") as scratch:
        run([os.path.join(bindir, "ansible-galaxy"), "collection", "build", collection_dir(ctx["tree"]),
             "--output-path", scratch])
        tarball = [n for n in os.listdir(scratch) if n.endswith(".tar.gz")][0]
        size = os.path.getsize(os.path.join(scratch, tarball))
        if size > 1024 * 1024:
            raise RuntimeError("the collection tarball is %d bytes: build_ignore is missing something" % size)
        leaked = dev_members(os.path.join(scratch, tarball))
        if leaked:
            raise RuntimeError("development files in the collection tarball (galaxy.yml build_ignore): %s"
                               % ", ".join(leaked[:20]))
        installed = os.path.join(scratch, "collections")
        run([os.path.join(bindir, "ansible-galaxy"), "collection", "install", os.path.join(scratch, tarball),
             "-p", installed])
        env = ansible_env(installed)
        env.pop("ANSIBLE_ROLES_PATH")
        run([os.path.join(bindir, "ansible-doc"), "pyfleet.uv.uv_facts"], env=env, stdout=subprocess.DEVNULL)
        run([os.path.join(bindir, "ansible-doc"), "pyfleet.uv.uv_install"], env=env, stdout=subprocess.DEVNULL)
        out = run([os.path.join(bindir, "ansible"), "-m", "pyfleet.uv.uv_facts", "localhost"], env=env,
                  capture_output=True, text=True)
        print(out.stdout)
        if '"ansible_uv": {' not in out.stdout or '"targets"' not in out.stdout:
            raise RuntimeError("ansible -m pyfleet.uv.uv_facts printed no facts")
        with mirror_server(ctx["mirror"]) as url:
            dest = os.path.join(scratch, "bin")
            args = "version=%s mirror_url=%s/versioned/{version}/ install_dir=%s" % (UV_NEW, url, dest)
            out = run([os.path.join(bindir, "ansible"), "-m", "pyfleet.uv.uv_install", "-a", args, "localhost"],
                      env=env, capture_output=True, text=True)
            print(out.stdout)
            if "CHANGED" not in out.stdout:
                raise RuntimeError("ad hoc uv_install did not report a change")
            # The short name through the one documented setting: ANSIBLE_LIBRARY.
            env["ANSIBLE_LIBRARY"] = os.path.join(installed, "ansible_collections", "pyfleet", "uv", "plugins",
                                                  "modules")
            out = run([os.path.join(bindir, "ansible"), "-m", "uv_install", "-a", args, "localhost"],
                      env=env, capture_output=True, text=True)
            print(out.stdout)
            if "SUCCESS" not in out.stdout or '"changed": false' not in out.stdout:
                raise RuntimeError("short-name uv_install was not an idempotent no-op")
            # Without the action plugin, download_on=controller must refuse, not report a plan.
            out = run([os.path.join(bindir, "ansible"), "-m", "uv_install", "-a",
                       "%s install_dir=%s download_on=controller" % (args.rsplit(" install_dir=", 1)[0],
                                                                     os.path.join(scratch, "bin-no-action")),
                       "localhost"], env=env, capture_output=True, text=True, check=False)
            if out.returncode == 0 or "needs the collection's action plugin" not in out.stdout:
                raise RuntimeError("short-name download_on=controller without the action plugin did not refuse:\n"
                                   + out.stdout[-2000:])
            # The short name with the action plugins as well (README, "The short name"):
            # download_on=controller must really install, with the file from the controller.
            env["ANSIBLE_ACTION_PLUGINS"] = os.path.join(installed, "ansible_collections", "pyfleet", "uv",
                                                         "plugins", "action")
            env["XDG_CACHE_HOME"] = os.path.join(scratch, "cache")
            dest = os.path.join(scratch, "bin-controller")
            out = run([os.path.join(bindir, "ansible"), "-m", "uv_install", "-a",
                       "%s install_dir=%s download_on=controller" % (args.rsplit(" install_dir=", 1)[0], dest),
                       "localhost"], env=env, capture_output=True, text=True)
            print(out.stdout)
            if "CHANGED" not in out.stdout or '"download_on": "controller"' not in out.stdout \
                    or not os.access(os.path.join(dest, "uv"), os.X_OK):
                raise RuntimeError("short-name uv_install with the action plugins did not install from the controller")


# Development paths that must never reach the Galaxy tarball (galaxy.yml's build_ignore).
DEV_PATHS = ("hacking/", "benchmarks/", ".ci/", ".github/", ".cache/", ".venv/", ".pytest_cache/",
             "tests/output/", "docs/build/", "docs/_build/", "docs/docsite/build/", "docs/docsite/_build/",
             ".ansible-lint", "ansible.cfg", ".ansible/", ".gitignore", "changelogs/.plugin-cache.yaml")


def dev_members(tarball: str) -> list:
    """Members of a collection tarball that are development files (see DEV_PATHS)."""
    import tarfile

    with tarfile.open(tarball) as archive:
        names = [m.name[2:] if m.name.startswith("./") else m.name for m in archive.getmembers()]
    return sorted(n for n in names
                  if any(n == p.rstrip("/") or n.startswith(p) for p in DEV_PATHS)
                  or "__pycache__" in n.split("/") or n.endswith(".pyc"))
