# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docs stage: antsibull-docs lint, an offline Sphinx build, and the guides' examples run."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time

from .common import (TRACKS, UV_NEW, build_tarball, collection_dir, find_python, log, mirror_server, private_tree,
                     run, tool_env, tool_venv, venv)
import uvindex  # on sys.path through .common


# Labels that the generated plugin pages point at in the Ansible docs (module_defaults,
# action plugins, ansible.builtin.get_url, ...): only intersphinx could resolve them, and the
# site is built offline without it. Exactly these are let through; any other dangling
# reference (one of the guides', a typo) still fails the build.
ANSIBLE_DOCS_LABELS = ("ansible_configuration_settings", "action_plugins", "common_return_values",
                       "ansible_collections.ansible.builtin.get_url_module",
                       "ansible_collections.ansible.builtin.file_module",
                       "ansible_collections.ansible.builtin.pip_module",
                       "ansible_collections.ansible.builtin.copy_module",
                       "ansible_collections.ansible.builtin.setup_module")


SPHINX_OFFLINE_CONF = """
# Appended by hacking/suite/docs.py (docs stage): built offline, so no intersphinx at all.
extensions = [name for name in extensions if name != 'sphinx.ext.intersphinx']
intersphinx_mapping = {}
nitpick_ignore = [('std:ref', label) for label in %r]
"""


def stage_docs(track: str, ctx: dict) -> None:
    """The docs site: antsibull-docs lint, an offline Sphinx build, and the guides' examples run.

    ``antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs`` on the collection; the collection
    built and installed from its tarball (so the docs that ship are the ones checked);
    ``antsibull-docs sphinx-init --use-current`` and its build.sh (Sphinx with warnings as
    errors) with intersphinx removed and every proxy variable pointing at a tripwire on
    127.0.0.1 (a connection to it fails the stage); then hacking/docs_examples.py checks every
    YAML block of docs/docsite/rst and README.md with this track's ansible-core against the
    loopback mirror and a pypiserver index (the environments guide's against tests/utils/venvindex.py's
    index of small real packages), and the Python guide's against real CPython
    archives (tests/utils/pbs.py's ``docs`` set: this machine's pyenv 3.12 and 3.13 builds,
    with its docs.json) served on 127.0.0.1 too, with uv 0.13.8 from the mirror.
    """
    import tarfile  # pylint: disable=import-outside-toplevel
    import docs_examples  # pylint: disable=import-outside-toplevel  # hacking/docs_examples.py
    import pbs  # pylint: disable=import-outside-toplevel  # tests/utils/pbs.py
    import pbs_sources  # pylint: disable=import-outside-toplevel  # tests/utils/pbs_sources.py
    import venvindex  # pylint: disable=import-outside-toplevel  # tests/utils/venvindex.py

    docs = tool_venv("docs")
    bindir = os.path.join(docs, "bin")
    with private_tree(ctx) as top, tempfile.TemporaryDirectory(prefix="uv-docs-") as scratch:
        coll = collection_dir(top)
        started = time.time()
        # --check-extra-docs-refs: the guides' :ansplugin:/:ansopt:/:ansretval: must name real plugins and options.
        run([os.path.join(bindir, "antsibull-docs"), "lint-collection-docs", "--plugin-docs", "--check-extra-docs-refs",
             "."], cwd=coll,
            env=tool_env(docs, {"ANSIBLE_COLLECTIONS_PATH": top}))
        log("antsibull-docs lint-collection-docs: clean in %.1f s" % (time.time() - started))
        installed = os.path.join(scratch, "collections")
        run([os.path.join(bindir, "ansible-galaxy"), "collection", "install",
             build_tarball(bindir, coll, scratch), "-p", installed], env=tool_env(docs), stdout=subprocess.DEVNULL)
        rst = os.path.join(collection_dir(installed), "docs", "docsite", "rst")
        if not os.path.isfile(os.path.join(collection_dir(installed), "docs", "docsite", "extra-docs.yml")):
            raise RuntimeError("the installed collection has no docs/docsite/extra-docs.yml")
        site = os.path.join(scratch, "site")
        os.mkdir(site, 0o700)  # antsibull-docs wants a directory only its owner can write
        env = tool_env(docs, {"ANSIBLE_COLLECTIONS_PATH": installed})
        run([os.path.join(bindir, "antsibull-docs"), "sphinx-init", "--use-current", "--fail-on-error",
             "--dest-dir", site, "pyfleet.uv"], env=env, stdout=subprocess.DEVNULL)
        with open(os.path.join(site, "conf.py"), "a") as handle:
            handle.write(SPHINX_OFFLINE_CONF % (ANSIBLE_DOCS_LABELS,))
        started = time.time()
        with docs_examples.Tripwire() as tripwire:
            out = run(["bash", os.path.join(site, "build.sh")], env=dict(env, **tripwire.env()), check=False,
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(out.stdout[-6000:])
        if out.returncode:
            raise RuntimeError("the Sphinx build failed (exit %d), see the output above" % out.returncode)
        if tripwire.hits:
            raise RuntimeError("the docs build tried to reach the network (%d connection(s) to the proxy tripwire)"
                               % tripwire.hits)
        html = os.path.join(site, "build", "html", "collections", "pyfleet", "uv")
        guides = sorted(n[:-4] for n in os.listdir(rst) if n.endswith(".rst"))
        missing = [g for g in guides if not os.path.isfile(os.path.join(html, "docsite", g + ".html"))]
        with open(os.path.join(html, "index.html")) as handle:
            index_page = handle.read()
        missing += ["a link to %s on the collection page" % g for g in guides if "docsite/%s.html" % g not in index_page]
        if missing:
            raise RuntimeError("the built site lacks %s" % ", ".join(missing))
        log("Sphinx site built offline in %.1f s: %d guides, no connection attempted" % (
            time.time() - started, len(guides)))
        manifest = pbs.build(("docs",))
        if sorted(a["series"] for a in manifest["archives"]) != sorted(pbs_sources.DOCS_SERIES):
            raise RuntimeError("pbs.py found no pyenv build of each of %s for the Python guide (it built %s)"
                               % (", ".join(pbs_sources.DOCS_SERIES), [a["key"] for a in manifest["archives"]]))
        www = pbs.serve_root(manifest, os.path.join(scratch, "pbs"))
        uv = os.path.join(scratch, "uv-bin", "uv")
        os.makedirs(os.path.dirname(uv))
        with tarfile.open(os.path.join(ctx["mirror"], "versioned", UV_NEW, "uv-x86_64-unknown-linux-gnu.tar.gz")) as tar, \
                open(uv, "wb") as handle:
            handle.write(tar.extractfile("uv-x86_64-unknown-linux-gnu/uv").read())
        os.chmod(uv, 0o755)
        with mirror_server(ctx["mirror"]) as url, uvindex.indexes(("pypiserver",)) as indexes, \
                mirror_server(www) as pbs_url, venvindex.static_index(venvindex.fetch()) as (venv_index, _count):
            pbs.write_jsons(manifest, www, pbs_url)  # docs.json only
            index = indexes["pypiserver"]
            config = {"ansible_bin": os.path.join(venv(track), "bin"), "collections": installed,
                      "python": find_python(TRACKS[track]["managed"][-1]), "mirror": url,
                      "index": index.url, "index_auth": index.auth_url,
                      "index_username": index.username, "index_password": index.password,
                      "pbs": pbs_url, "uv": uv, "venv_index": venv_index}
            config_file = os.path.join(scratch, "examples.json")
            with open(config_file, "w") as handle:
                json.dump(config, handle)
            started = time.time()
            run([os.path.join(venv(track), "bin", "python"), os.path.join(coll, "hacking", "docs_examples.py"),
                 "check", "--rst", rst, "--markdown", os.path.join(collection_dir(installed), "README.md"),
                 "--config", config_file])
            log("the guides' examples passed in %.1f s" % (time.time() - started))
