# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ee stage: the collection in an execution environment (AWX/AAP), checked without building an image."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile

from .common import UV_NEW, build_tarball, collection_dir, log, mirror_server, private_tree, run, tool_env, tool_venv


def stage_ee(track: str, ctx: dict) -> None:
    """The collection in an execution environment (AWX/AAP), checked without building an image."""
    with private_tree(ctx) as top:
        ee_checks(collection_dir(top), ctx["mirror"])


def ee_checks(coll: str, mirror: str) -> None:
    """The checks of stage_ee on the collection at ``coll``, with the loopback mirror at ``mirror``.

    meta/execution-environment.yml against ansible-builder's version 3 schema;
    ``ansible-builder introspect`` of the installed tarball must list requirements.txt;
    ``ansible-builder create`` writes the build context of an EE holding the tarball, and
    what its galaxy and introspect steps would do is done here on that context; then the
    demo playbook runs through ``ansible-runner run`` (how AWX runs a job) against a
    loopback mirror, with the collection on the collections path.
    """
    ee = tool_venv("ee")
    bindir = os.path.join(ee, "bin")
    python = os.path.join(bindir, "python")
    env = tool_env(ee)
    run([python, "-c", "import sys, yaml\nfrom ansible_builder.ee_schema import validate_schema\n"
         "data = yaml.safe_load(open(sys.argv[1]))\n"
         "assert data.get('version') == 3, 'not the version 3 schema: %r' % data.get('version')\n"
         "validate_schema(data)\n", os.path.join(coll, "meta", "execution-environment.yml")], env=env)
    with open(os.path.join(coll, "requirements.txt")) as handle:
        wanted = [line.split("#")[0].strip() for line in handle if line.split("#")[0].strip()]
    with tempfile.TemporaryDirectory(prefix="uv-ee-") as scratch:
        definition = os.path.join(scratch, "definition")
        os.makedirs(definition)
        tarball = build_tarball(bindir, coll, definition)
        name = os.path.basename(tarball)
        installed = os.path.join(scratch, "collections")
        run([os.path.join(bindir, "ansible-galaxy"), "collection", "install", tarball, "-p", installed],
            env=env, stdout=subprocess.DEVNULL)
        out = run([os.path.join(bindir, "ansible-builder"), "introspect", installed], env=env,
                  capture_output=True, text=True)
        print(out.stdout)
        listed = r"^- '?%s\s+# from collection pyfleet\.uv"
        missing = [r for r in wanted if not re.search(listed % re.escape(r), out.stdout, re.MULTILINE)]
        if missing:
            raise RuntimeError("ansible-builder introspect does not list %s for pyfleet.uv" % ", ".join(missing))
        # What a fleet team writes to build its EE with this collection (the base image is
        # never pulled: only the build context is made).
        with open(os.path.join(definition, "execution-environment.yml"), "w") as handle:
            handle.write(
                "---\nversion: 3\nimages:\n  base_image:\n    name: registry.invalid/ee-minimal:latest\n"
                "dependencies:\n  ansible_core:\n    package_pip: ansible-core\n"
                "  ansible_runner:\n    package_pip: ansible-runner\n"
                "  galaxy:\n    collections:\n      - name: collections/%s\n        type: file\n"
                "additional_build_files:\n  - src: %s\n    dest: collections\n" % (name, name))
        context = os.path.join(scratch, "context")
        run([os.path.join(bindir, "ansible-builder"), "create", "-f",
             os.path.join(definition, "execution-environment.yml"), "-c", context, "--output-filename",
             "Containerfile"], env=env, stdout=subprocess.DEVNULL)
        build = os.path.join(context, "_build")
        for needed in ("Containerfile", os.path.join("_build", "requirements.yml"),
                       os.path.join("_build", "collections", name), os.path.join("_build", "scripts", "introspect.py")):
            if not os.path.isfile(os.path.join(context, needed)):
                raise RuntimeError("ansible-builder create made no %s" % needed)
        # The image's galaxy stage (collection install from the context) and its
        # introspection step, run here on the context.
        image_collections = os.path.join(scratch, "image-collections")
        run([os.path.join(bindir, "ansible-galaxy"), "collection", "install", "-r", "requirements.yml",
             "-p", image_collections], cwd=build, env=env, stdout=subprocess.DEVNULL)
        pip_file = os.path.join(scratch, "image-requirements.txt")
        run([python, os.path.join(build, "scripts", "introspect.py"), "introspect", "--write-pip", pip_file,
             image_collections], env=env, stdout=subprocess.DEVNULL)
        with open(pip_file) as handle:
            image_requirements = handle.read()
        missing = [r for r in wanted if not re.search(r"^%s\b" % re.escape(r), image_requirements, re.MULTILINE)]
        if missing:
            raise RuntimeError("the EE build would not install %s: %s" % (", ".join(missing), image_requirements))
        # The demo playbook through ansible-runner, as AWX runs a job.
        private = os.path.join(scratch, "runner")
        for sub in ("project", "inventory", "env"):
            os.makedirs(os.path.join(private, sub))
        shutil.copy(os.path.join(coll, "hacking", "demo.yml"), os.path.join(private, "project", "demo.yml"))
        with open(os.path.join(private, "inventory", "hosts"), "w") as handle:
            handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % python)
        with open(os.path.join(private, "env", "envvars"), "w") as handle:
            json.dump({"ANSIBLE_COLLECTIONS_PATH": image_collections, "ANSIBLE_NOCOLOR": "1"}, handle)
        install_dir = os.path.join(scratch, "bin")
        with mirror_server(mirror) as url:
            with open(os.path.join(private, "env", "extravars"), "w") as handle:
                json.dump({"uv_mirror": url, "uv_version": UV_NEW, "uv_install_dir": install_dir}, handle)
            run([os.path.join(bindir, "ansible-runner"), "run", private, "-p", "demo.yml", "--ident", "demo"],
                env=env)
        artifacts = os.path.join(private, "artifacts", "demo")
        with open(os.path.join(artifacts, "status")) as handle:
            status = handle.read().strip()
        changed = {}
        for event_file in os.listdir(os.path.join(artifacts, "job_events")):
            with open(os.path.join(artifacts, "job_events", event_file)) as handle:
                event = json.load(handle)
            if event.get("event") == "runner_on_ok":
                changed[event["event_data"]["task"]] = event["event_data"]["res"].get("changed")
        if status != "successful" or changed.get("Install uv") is not True or changed.get("Install uv again") is not False:
            raise RuntimeError("ansible-runner demo: status %s, changed per task %s" % (status, changed))
        version = run([os.path.join(install_dir, "uv"), "--version"], capture_output=True, text=True).stdout
        if not version.startswith("uv %s" % UV_NEW):
            raise RuntimeError("the uv installed through ansible-runner says %r" % version)
        log("ansible-runner demo: %s; %s" % (status, version.strip()))
