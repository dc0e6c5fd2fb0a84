#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: uv_sync
short_description: Deploy a Python application's environment from its pyproject.toml and uv.lock, switched atomically
version_added: 0.1.0
description:
  - Builds the environment an application runs from, exactly as its C(uv.lock) pins it, with the uv that
    M(pyfleet.uv.uv_install) put on the host, and switches the application to it in one atomic step.
  - A lock that does not match C(pyproject.toml) (what C(uv sync --locked) checks, with C(uv lock --locked --offline),
    no request to the index) is refused before anything on the host changes; the message says to run C(uv lock).
  - O(environment) is a symbolic link to one of the versioned environments in C(<environment>.d/), each named
    C(<first 12 hex digits of the lock's sha256>-<8 hex digits of a digest of the options>); the options digest
    covers the project's files (C(pyproject.toml), C(uv.lock), the sources of the project and its workspace
    members; never C(.git), C(.venv), C(__pycache__), C(build), C(dist) or other environments), the
    interpreter, O(groups), O(extras), O(no_dev), O(install_project) and the source of the wheels.
  - So with O(install_project=true) (the default) a change to any file of the project (its code, a README)
    builds a new environment, since the project's own code is installed in it. With O(install_project=false),
    only C(pyproject.toml), C(uv.lock), C(uv.toml), C(.python-version) and the workspace members and path
    dependencies inside the project (still installed) are digested; a change elsewhere is a no-op.
  - When that name differs from the running one, the new environment is built beside the running one (with
    C(uv sync --frozen --no-editable), C(UV_PROJECT_ENVIRONMENT) at the new directory, so uv checks every file
    against the lock's sha256), its Python must run and import the top-level packages of the project's own
    distributions, and only then is O(environment) switched to it (a new link renamed over the old one, so
    a service sees the old environment or the new one, never a half-built one). If anything fails, the new
    directory is removed and O(environment) is left exactly as it was.
  - The same lock and options again are a no-op decided on the host, with no request to any index. A lock
    that was deployed before and is still kept (see O(keep)) is switched back to without building or
    downloading anything (a rollback).
  - An existing directory or file at O(environment) (not a link) is refused, never replaced or removed; move
    it away first.
  - uv never downloads a Python here (C(UV_PYTHON_DOWNLOADS=never)); the notes say how uv runs and gets index URLs.
  - Needs uv 0.8.0 or newer on the host.
author:
  - pyfleet maintainers (@pyfleet)
extends_documentation_fragment:
  - pyfleet.uv.attributes
  - pyfleet.uv.uv_runner
  - pyfleet.uv.uv_runner.packages
attributes:
  check_mode:
    support: full
    description:
      - Checks the lock, then says whether O(environment) would be switched and which packages would change
        (from C(uv sync --frozen --dry-run) into an empty path, which asks no index). Nothing is built or written.
  diff_mode:
    support: full
    description: Shows the packages and their versions before and after, one C(name==version) a line.
  idempotent:
    support: full
    description: The same lock and options again report no change and make no request to any index.
options:
  project_src:
    description:
      - The project's directory on the controller. The action plugin sends it to a temporary directory on the
        host (one tar archive, removed after the task) - C(pyproject.toml), C(uv.lock), C(.python-version), and
        the sources of the project and its workspace members, without C(.git), C(.venv), C(__pycache__),
        C(build), C(dist), C(*.egg-info), C(node_modules), caches or any other virtual environment.
      - Dotfiles and dot folders other than C(.python-version) and C(.python-versions) (C(.env), C(.netrc), C(.pypirc)
        often hold secrets) are never sent; nor are symbolic links to files outside the project, FIFOs, sockets or
        devices (each of these with a warning).
      - Exactly one of O(project_src) and O(project_dir).
    type: path
  project_dir:
    description:
      - The project's directory on the host (holding C(pyproject.toml) and C(uv.lock)). uv reads it and builds
        the project from it; it is not changed (a setuptools project may leave C(*.egg-info) there).
    type: path
  environment:
    description:
      - The path the application and its services run from (for example V(/srv/app/.venv)), a symbolic link that
        uv_sync manages, to C(<environment>.d/<name>). Its parent directories are created when missing.
    type: path
    required: true
  python:
    description:
      - The Python of the environment, as uv takes requests (V(3.12), V(cpython@3.12.7), or a path). It must also
        satisfy the project's C(requires-python).
      - Default, the project's C(.python-version), else what uv finds first among the system and uv-managed
        Pythons (in O(python_install_dir)) that the project accepts. Never a virtual environment.
      - Quote versions in YAML (V("3.10")).
    type: str
  groups:
    description:
      - Dependency groups (PEP 735) to install besides the project's dependencies (C(--group)).
      - With O(no_dev=true), the only groups installed; V(dev) is then refused.
    type: list
    elements: str
    default: []
  extras:
    description: Optional dependencies (extras) of the project to install (C(--extra)).
    type: list
    elements: str
    default: []
  no_dev:
    description:
      - Leave out the C(dev) dependency group and every other default group of the project (C(default-groups) of
        C([tool.uv])), as a production deployment does (C(--no-default-groups)); only O(groups) are installed.
      - V(false), uv's defaults (the default groups, C(dev) unless the project says otherwise), plus O(groups).
    type: bool
    default: true
  install_project:
    description:
      - Install the project itself (not editable, since its sources may be a temporary copy), besides its dependencies.
        V(false) installs only the dependencies (C(--no-install-project)); workspace members are still installed.
    type: bool
    default: true
  download_on:
    description:
      - V(host), the host's uv downloads the locked files from the indexes the lock names (with the credentials
        of O(index_url) and O(extra_index_urls) when they name the same hosts).
      - V(controller) (air-gapped hosts), needs O(project_src). The controller reads C(uv.lock) and chooses for the
        host the best locked wheel of each package it needs, for the Python of the environment (the module first runs
        in check mode and reports the interpreter it picks from O(python), C(.python-version) and C(requires-python)),
        and the host's architecture and C library (C(ansible_facts.uv), gathered with M(pyfleet.uv.uv_facts) when
        the play has not). It downloads each distinct file once for the whole fleet into the controller cache (one
        download for all forks and runs, under a file lock), checks its sha256 against the lock (a cached file
        that no longer matches is dropped and downloaded again), pushes the wheels into the task's remote tmp
        (C(<remote tmp>/wheelhouse/), removed after the task) and the host installs with no index at all (see
        O(wheelhouse_dir)). O(index_url) and O(extra_index_urls) (with their credentials) are used by the controller
        only; the hosts get no index option.
      - Nothing is downloaded or pushed when no new environment is built (the same lock again, or a kept earlier
        environment switched back to), so a second run makes no request anywhere.
      - A locked package with no wheel for a host (an sdist only, no build for its architecture, Python or libc)
        fails the task on every host of the play before any host is changed, with RV(missing_wheels). The other
        hosts of the play's batch are checked from their C(ansible_facts.uv) when the Python is pinned (O(python) as a
        version such as V("3.12"), or the project's C(.python-version)); otherwise each host is checked on its own
        run, and a warning says so.
      - Reading C(uv.lock) needs C(tomllib) on the controller (Python 3.11 and later), or the C(tomli) package before
        3.11 (C(pip install tomli) into the Python that runs ansible); without either the task fails saying so. The
        downloads need the C(requests) package on the controller.
    type: str
    default: host
    choices: [host, controller]
  controller_cache_dir:
    description:
      - The controller's cache of wheels for O(download_on=controller), files named by their sha256, shared by all forks
        and runs. Default, C($XDG_CACHE_HOME/pyfleet-uv/artifacts) (C(~/.cache/pyfleet-uv/artifacts)), as for
        M(pyfleet.uv.uv_install).
    type: path
  build_wheels:
    description:
      - With O(download_on=controller), wheel files on the controller (paths, found as O(project_src) is) pushed to the
        host beside the locked wheels - the build backend of the project and of its workspace members, with what it
        needs (for example C(flit_core-3.9.0-py3-none-any.whl), or C(hatchling) with C(packaging), C(pathspec),
        C(pluggy) and C(trove-classifiers)). uv.lock does not pin build backends, and the host, with no index, builds
        the project's own package from these alone.
      - These files are trusted as the project's sources are; uv.lock has no sha256 for them.
      - Required when the project is a package (its lock entry is C(editable)) and O(install_project=true); a project
        without a build system (a C(virtual) one) or O(install_project=false) needs none.
    type: list
    elements: path
    default: []
  keep:
    description:
      - How many earlier environments stay in C(<environment>.d/) for a rollback; older ones are removed after
        a switch (so are half-built leftovers of interrupted runs). The running one always stays.
    type: int
    default: 2
  index_url:
    description:
      - The default package index (C(UV_DEFAULT_INDEX)). A lock records the index of each package; uv downloads
        from there and uses the credentials of this URL for the same host.
      - Credentials in the URL are masked in every result and message.
    type: str
  extra_index_urls:
    description: More indexes (C(UV_INDEX)); credentials masked as in O(index_url).
    type: list
    elements: str
    default: []
  find_links:
    description: Directories or URLs of distribution files (C(UV_FIND_LINKS)).
    type: list
    elements: str
    default: []
  wheelhouse_dir:
    description:
      - A directory on the host that holds the locked wheels. The environment is then installed with no index
        at all - C(uv export --frozen) (with the lock's hashes) into C(uv pip sync --offline --no-index
        --find-links <dir> --require-hashes --no-build), then the project and its workspace members with
        C(uv pip install --no-deps) from the same directory (their build backend must be there too).
      - Set by the action plugin with O(download_on=controller); it may also name wheels put on the host by
        other means.
    type: path
  project_archive:
    description:
      - The tar archive of O(project_src) that the action plugin sent to the host; there is no need to set it by hand.
    type: path
requirements:
  - uv 0.8.0 or newer on the managed host.
  - With O(download_on=controller), on the controller - Python 3.11 or newer (C(tomllib)), or the C(tomli) package,
    to read C(uv.lock); and the C(requests) package.
notes:
  - The versioned environments are built at their final path (a virtual environment's scripts name their own
    directory), so C(<environment>.d/) must stay beside O(environment). A service runs V(<environment>/bin/...);
    after a switch, restart it (a handler) to load the new code.
  - Files are copied into the environment (C(UV_LINK_MODE=copy)), never linked to uv's cache.
seealso:
  - module: pyfleet.uv.uv_venv
  - module: pyfleet.uv.uv_python
  - module: pyfleet.uv.uv_install
"""

EXAMPLES = r"""
- name: Deploy the application from the lock in the repository checkout on the controller
  pyfleet.uv.uv_sync:
    project_src: "{{ playbook_dir }}/app"
    environment: /srv/app/.venv
    python: "3.12"
  notify: Restart app

- name: Deploy a project that is already on the host, with an extra and a group
  pyfleet.uv.uv_sync:
    project_dir: /srv/app/src
    environment: /srv/app/.venv
    extras: [postgres]
    groups: [prod]
    keep: 3

- name: Deploy to air-gapped hosts - the controller downloads the locked wheels once and pushes them
  pyfleet.uv.uv_sync:
    project_src: "{{ playbook_dir }}/app"
    environment: /srv/app/.venv
    python: "3.12"
    download_on: controller
    index_url: https://pypi.internal.example.com/simple/
    build_wheels:
      - "{{ playbook_dir }}/build-wheels/flit_core-3.9.0-py3-none-any.whl"
  notify: Restart app

- name: Only the dependencies, from the internal index
  pyfleet.uv.uv_sync:
    project_dir: /srv/app/src
    environment: /srv/app/.venv
    install_project: false
    index_url: https://pypi.internal.example.com/simple/
"""

RETURN = r"""
msg:
  description: What was done, or would be done in check mode.
  returned: always
  type: str
  sample: switched /srv/app/.venv to /srv/app/.venv.d/3f5c0a1b2c3d-9e8f7a6b (built from the lock)
environment:
  description: The environment.
  returned: always
  type: dict
  contains:
    path:
      description: O(environment).
      type: str
    current:
      description: The versioned environment it points at after the task (before it, in check mode); null if none.
      type: str
      sample: /srv/app/.venv.d/3f5c0a1b2c3d-9e8f7a6b
    previous:
      description: The versioned environment it pointed at before a switch; null otherwise.
      type: str
    python:
      description: The environment's Python, C({version, executable}); null when there is none yet.
      type: dict
lock:
  description: The lock that was deployed, C({path, sha256, version, revision}) (path on the controller for O(project_src)).
  returned: when the lock was read
  type: dict
packages:
  description: What changed (or would change), C({installed, removed, upgraded}), as in M(pyfleet.uv.uv_venv).
  returned: always
  type: dict
before:
  description: The packages of the running environment before, name -> version.
  returned: always
  type: dict
after:
  description: The packages of the environment after (in check mode, as uv's dry run says), name -> version.
  returned: always
  type: dict
removed_environments:
  description: The earlier environments removed by O(keep), and half-built leftovers.
  returned: always
  type: list
  elements: str
wheelhouse:
  description:
    - With O(wheelhouse_dir), the wheels on the host, C({path, files, bytes}); null otherwise.
    - With O(download_on=controller) there is no C(path) (the pushed folder was in the task's remote tmp, removed when
      the task ends), C(files) is the number of wheels the host needs (locked and O(build_wheels)),
      C(files_pushed) how many the controller pushed (none when no new environment is built), C(downloaded) how many of
      them it downloaded into its cache in this task (the others were cached already), C(bytes_pushed) their size.
  returned: always
  type: dict
missing_wheels:
  description:
    - With O(download_on=controller), the locked packages with no wheel for some host of the play, each C(name),
      C(version), C(reason) and C(hosts) (the hosts that need it); empty otherwise.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: oldlib, version: "1.0", reason: "sdist only: uv.lock has no wheel (the hosts install with --no-build)", hosts: [web1, web2]}
plan:
  description:
    - With O(download_on=controller), what the controller chose the wheels for - C(python) (C({executable, version,
      implementation}) of the environment's interpreter) and C(build) (whether a new environment is built, so
      wheels are needed).
  returned: with O(download_on=controller)
  type: dict
uv_version:
  description: The version of the uv that ran.
  returned: when uv was found
  type: str
cmd:
  description: The commands that ran, in order (credentials masked; index URLs are never arguments).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import masking_module_class
from ansible_collections.pyfleet.uv.plugins.module_utils._uv_runner import finish
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._sync_task import UvSync

SECRET_OPTIONS = ["index_url", "extra_index_urls", "find_links"]


def main():
    module_class = masking_module_class(AnsibleModule, SECRET_OPTIONS)
    module = module_class(
        argument_spec=dict(
            project_src=dict(type="path"),
            project_dir=dict(type="path"),
            environment=dict(type="path", required=True),
            python=dict(type="str"),
            python_install_dir=dict(type="path", default="/opt/uv/python"),
            groups=dict(type="list", elements="str", default=[]),
            extras=dict(type="list", elements="str", default=[]),
            no_dev=dict(type="bool", default=True),
            install_project=dict(type="bool", default=True),
            download_on=dict(type="str", default="host", choices=["host", "controller"]),
            controller_cache_dir=dict(type="path"),
            build_wheels=dict(type="list", elements="path", default=[]),
            keep=dict(type="int", default=2),
            index_url=dict(type="str"),
            extra_index_urls=dict(type="list", elements="str", default=[]),
            find_links=dict(type="list", elements="str", default=[]),
            uv_path=dict(type="path"),
            # Set by the action plugin: the project sent from project_src, and the pushed wheels.
            project_archive=dict(type="path"),
            wheelhouse_dir=dict(type="path"),
        ),
        mutually_exclusive=[("project_src", "project_dir")],
        required_one_of=[("project_src", "project_dir")],
        supports_check_mode=True,
    )
    sync = UvSync(module)
    finish(module, sync, sync.commands)


if __name__ == "__main__":
    main()
