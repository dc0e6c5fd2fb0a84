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
  - Every call to uv runs with an explicit environment, as in M(pyfleet.uv.uv_venv) (a private empty C(HOME),
    no C(UV_*) variable of the connection, the system C(uv.toml) still applies); uv never downloads a Python
    here (C(UV_PYTHON_DOWNLOADS=never)). Index URLs reach uv as environment variables (C(UV_DEFAULT_INDEX),
    C(UV_INDEX), C(UV_FIND_LINKS)), never as arguments, so their credentials never appear in a process list.
  - Needs uv 0.8.0 or newer on the host.
author:
  - pyfleet maintainers (@pyfleet)
extends_documentation_fragment:
  - pyfleet.uv.attributes
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
  python_install_dir:
    description: Where uv's managed Pythons are (C(UV_PYTHON_INSTALL_DIR)), where M(pyfleet.uv.uv_python) puts them.
    type: path
    default: /opt/uv/python
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
      - V(controller) (air-gapped hosts) is not yet available in this release; the task fails saying so. It will
        download each locked wheel once for the whole fleet on the controller and install with no index at all.
    type: str
    default: host
    choices: [host, controller]
  controller_cache_dir:
    description: The controller's cache of wheels for O(download_on=controller) (not yet available).
    type: path
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
  uv_path:
    description:
      - The uv to run. Default, the uv that M(pyfleet.uv.uv_install) recorded in C(/usr/local/bin), else the
        first C(uv) on C(PATH).
    type: path
notes:
  - The versioned environments are built at their final path (a virtual environment's scripts name their own
    directory), so C(<environment>.d/) must stay beside O(environment). A service runs V(<environment>/bin/...);
    after a switch, restart it (a handler) to load the new code.
  - uv's cache for a task is a private temporary directory, removed at the end, unless the system uv.toml
    sets C(cache-dir); files are copied into the environment (C(UV_LINK_MODE=copy)), never linked to a cache.
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
    - With O(wheelhouse_dir) (and O(download_on=controller)), the wheels on the host, C({path, files, bytes}), and
      C(files_pushed), how many the controller pushed; null otherwise.
  returned: always
  type: dict
missing_wheels:
  description: With O(download_on=controller), the locked packages with no wheel for some host; empty otherwise.
  returned: always
  type: list
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
from ansible_collections.pyfleet.uv.plugins.module_utils._sync_task import UvSync

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
