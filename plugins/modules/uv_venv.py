#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: uv_venv
short_description: A virtual environment and the packages in it, made by the installed uv
version_added: 0.1.0
description:
  - Creates a virtual environment with C(uv venv) and installs, upgrades or removes packages in it with
    C(uv pip), using the uv that M(pyfleet.uv.uv_install) put on the host. A drop-in for
    M(ansible.builtin.pip) with a virtualenv - the option names are pip's where pip has them (see the
    guide "Environments and packages with uv").
  - Decides from state, never from uv's human-readable text. The packages before and after come from
    C(uv pip list --format json); whether a request is already satisfied, and what check mode reports,
    from the package lines of uv's own C(--dry-run) plan; whether the environment is kept, created or
    recreated from its C(pyvenv.cfg). C(changed) is true exactly when the package set or the
    environment changed.
  - A request that the environment already satisfies (a pinned version that is installed) makes no
    request to any index.
  - uv runs with the environment the notes describe; the system configuration's indexes are used when
    O(index_url) is not given. C(UV_PYTHON_INSTALL_DIR) is O(python_install_dir),
    and uv never downloads a Python here (C(UV_PYTHON_DOWNLOADS=never)); M(pyfleet.uv.uv_python)
    installs them.
  - A O(path) that exists but is not a virtual environment (no C(pyvenv.cfg)) and is not an empty
    directory is refused, never replaced.
  - A new environment, and one that replaces an existing one, is built beside O(path) (same parent
    directory, a hidden temporary name), its packages are installed there, and only then is it renamed
    into place; if anything fails, the temporary directory is removed and the old environment is left as
    it was. So that it works under its final name, it is made with C(uv venv --relocatable) (its
    activation scripts and console scripts find their directory at run time; C(pyvenv.cfg) says
    C(relocatable = true)). An empty directory at O(path) (perhaps a mount point) is built in place and
    emptied again on failure. A mount point that holds an environment cannot be renamed, so a recreate of
    it is refused (in check mode too); empty it and run again. The folder the environment is built in
    (the parent of O(path)) must be writable by the task's user.
  - A recreate is refused while the environment holds anything that is not its own and that no installed
    package lists in its C(RECORD) (a project's files beside C(bin/), a hook in C(bin/), a configuration under
    C(etc/), data under C(share/)), since the old environment is deleted when the new one is in place.
  - Needs uv 0.8.0 or newer on the host.
author:
  - pyfleet maintainers (@pyfleet)
extends_documentation_fragment:
  - pyfleet.uv.attributes
  - pyfleet.uv.uv_runner
  - pyfleet.uv.uv_runner.packages
  - pyfleet.uv.uv_runner.index
attributes:
  check_mode:
    support: full
    description:
      - Reports what uv's own dry run says it would install, upgrade, reinstall or remove, for every
        input (names, requirement and constraint files, V(latest) with upgrades allowed, V(absent),
        V(forcereinstall), V(exact)). An environment that would be created or recreated is planned with
        a dry run into an empty target. Nothing is written (the C(.lock) file uv makes in an environment for
        a dry run is removed again when there was none).
  diff_mode:
    support: full
    description: Shows the packages and their versions before and after, one C(name==version) a line.
  idempotent:
    support: full
    description:
      - A second run with the same options reports no change; with pinned requests it makes no network
        request. V(forcereinstall) and O(recreate=always) change on every run, as asked, and so does a project
        directory in O(name) with O(state=exact) or O(state=latest) (uv builds it again; see O(editable)).
options:
  path:
    description:
      - The virtual environment's directory. It is created when missing (its missing parents too, mode 0755
        unless O(umask) says otherwise).
      - A relative path starts from O(chdir), as with M(ansible.builtin.pip); without O(chdir) it is refused
        (pip would put it in a temporary directory).
      - A symbolic link stays one - the environment is made, kept or recreated in the directory it leads to.
    type: path
    required: true
    aliases: [virtualenv]
  python:
    description:
      - The Python of the environment, as uv takes requests - V(3.12), V(3.12.7), V(312), V(cp312),
        V(cpython@3.13), V(cpython-3.12), V(python3.12), V(3.13t), or the path of an interpreter.
      - Default, what uv finds first (uv-managed Pythons in O(python_install_dir) included).
      - Quote versions in YAML (V("3.10")), or YAML reads them as numbers.
    type: str
    aliases: [virtualenv_python]
  name:
    description:
      - Requirements (PEP 508), as C(uv pip install) takes them - V(six), V(six==1.17.0),
        V(requests>=2.31), V(pkg @ https://...).
      - With O(state=absent), the names of the packages to remove.
    type: list
    elements: str
    default: []
  version:
    description:
      - The version of the single package in O(name) (pip's option); the same as V(name==version). Extras
        and markers of the name are kept (V(requests[socks]) with V(2.31.0) is V(requests[socks]==2.31.0)).
    type: str
  editable:
    description:
      - Install each item of O(name) in editable mode (C(uv pip install -e)), as M(ansible.builtin.pip)'s
        option does - usually the directory of a project on the host (relative paths start from O(chdir)).
      - With O(state=present), a project directory that the environment already holds as an editable
        install from that same directory is left alone (its code is used where it lies) until its
        dependencies or its static version change; a dynamic version (C(dynamic = ["version"])) bumped
        alone needs O(state=forcereinstall). With O(state=exact) and O(state=latest) uv builds the project
        again on every run, which is reported as reinstalled (a change), as with any project directory.
        Other editable requests (VCS URLs) are reinstalled on every run.
      - Building a project needs its build backend (C(build-system.requires)) from the index or O(find_links).
    type: bool
    default: false
  requirements:
    description:
      - Requirement files on the host (C(-r)); relative paths are relative to O(chdir).
    type: list
    elements: path
    default: []
  constraints:
    description:
      - Constraint files on the host (C(-c)); relative paths are relative to O(chdir).
    type: list
    elements: path
    default: []
  state:
    description:
      - V(present) installs what is missing and leaves what satisfies the request alone.
      - V(latest) also upgrades the requested packages and their dependencies to the newest versions
        the request allows (C(--upgrade)).
      - V(forcereinstall) reinstalls the requested packages and their dependencies (C(--reinstall));
        it changes on every run.
      - V(exact) installs the request and removes every package it does not need (C(--exact)).
      - V(absent) removes the named packages (and those named in O(requirements)); a missing
        environment is left missing.
    type: str
    default: present
    choices: [present, latest, absent, forcereinstall, exact]
  recreate:
    description:
      - When an existing environment is replaced by a new one.
      - V(on_python_change) replaces it when O(python) is given and the environment's interpreter does not
        match it (another version or implementation, another interpreter, or its interpreter is gone), or
        when O(system_site_packages) differs from its C(pyvenv.cfg), then installs what was asked for into
        the new one. A path in O(python) is compared by the interpreter it runs, so a pyenv shim or a
        wrapper script matches the environment made from it.
      - V(never) keeps it whatever its Python and O(system_site_packages), with a warning naming the
        difference. V(always) replaces it on every run.
    type: str
    default: on_python_change
    choices: [never, on_python_change, always]
  index_url:
    description:
      - The package index (C(--index-url)); default, the system uv.toml's index, else uv's default.
      - Credentials in the URL are masked in every result and message. uv gets this option, O(extra_index_urls)
        and O(find_links) in its environment (C(UV_INDEX_URL), C(UV_EXTRA_INDEX_URL), C(UV_FIND_LINKS)),
        never on its command line, which every user of the host can read; the same options in O(extra_args)
        are moved there too.
    type: str
  offline:
    description:
      - Use no network at all (C(--offline)). uv then installs only from local O(find_links) directories
        and from a cache directory that the system uv.toml names (C(cache-dir)); this task's own cache is
        private and starts empty. A request the environment already satisfies needs nothing anyway.
      - When a package cannot be found offline, the message says so and what was asked.
    type: bool
    default: false
  require_hashes:
    description: Every requirement must carry a hash (C(--require-hashes)).
    type: bool
    default: false
  system_site_packages:
    description:
      - The environment sees the base Python's site-packages (C(--system-site-packages)).
      - An existing environment whose C(pyvenv.cfg) says otherwise is recreated (see O(recreate)).
    type: bool
    default: false
    aliases: [virtualenv_site_packages]
  extra_args:
    description:
      - More arguments for C(uv pip install) (or C(uv pip uninstall)); each item is split like a shell
        command line, so pip's single string V(--pre --no-deps) works too.
    type: list
    elements: str
    default: []
  chdir:
    description:
      - The directory uv runs in, and that a relative O(path), O(requirements) and O(constraints) start from.
        uv reads a project's C(uv.toml) or C(pyproject.toml) found from there. Default, C(/).
    type: path
  umask:
    description:
      - The umask uv runs with, as an octal string (V("0022")), as M(ansible.builtin.pip) takes it.
      - Default V("0022"), so the environment is readable by every user whatever the connection's umask.
    type: raw
notes:
  - A new or recreated environment is built beside O(path), as C(.<name>.uv-venv-<random>) in the same directory,
    and renamed into place. A run killed while it builds (lost connection, task timeout) leaves that hidden
    directory behind; remove it by hand. The environment at O(path) stays as it was.
  - A recreate refuses a directory that holds more than an environment (for example a project made with
    C(python -m venv .)), since the old environment is deleted as a whole.
  - uv's own warnings (C(warning:) lines, for example an option a requirements file may not hold) become
    task warnings, credentials masked.
seealso:
  - module: ansible.builtin.pip
  - module: pyfleet.uv.uv_python
  - module: pyfleet.uv.uv_config
"""

EXAMPLES = r"""
- name: An environment for the app on the uv-managed Python 3.12, with pinned packages
  pyfleet.uv.uv_venv:
    path: /opt/app/venv
    python: "3.12"
    name:
      - six==1.17.0
      - python-dateutil==2.9.0.post0

- name: Packages from a requirements file, with constraints, from the internal index
  pyfleet.uv.uv_venv:
    path: /opt/app/venv
    requirements: [/opt/app/requirements.txt]
    constraints: [/opt/app/constraints.txt]
    index_url: https://pypi.internal.example.com/simple/

- name: Keep a tool at its newest release
  pyfleet.uv.uv_venv:
    path: /opt/tools/venv
    name: [six]
    state: latest

- name: Exactly these packages, nothing else
  pyfleet.uv.uv_venv:
    path: /opt/app/venv
    requirements: [/opt/app/requirements.lock]
    state: exact
    require_hashes: true
    no_build: true

- name: A project on the host in editable mode
  pyfleet.uv.uv_venv:
    path: /opt/dev/venv
    name: [/srv/src/myproject]
    editable: true

- name: A package with its extras at a pinned version
  pyfleet.uv.uv_venv:
    path: /opt/app/venv
    name: ["requests[socks]"]
    version: 2.32.3

- name: Remove a package
  pyfleet.uv.uv_venv:
    path: /opt/app/venv
    name: [six]
    state: absent
"""

RETURN = r"""
msg:
  description: What was done, or would be done in check mode.
  returned: always
  type: str
  sample: created /opt/app/venv; installed six 1.17.0, python-dateutil 2.9.0.post0
path:
  description: The environment's directory, as given (a symbolic link stays one; a relative path joined to O(chdir)).
  returned: always
  type: str
python:
  description: The environment's Python (in check mode, before it exists, its C(base) is the one it would get).
  returned: always
  type: dict
  contains:
    version:
      description: Its version (from C(pyvenv.cfg)); null when not known yet.
      type: str
      sample: 3.12.7
    executable:
      description: The environment's C(bin/python).
      type: str
      sample: /opt/app/venv/bin/python
    base:
      description: The interpreter the environment is (or would be) made from.
      type: str
      sample: /opt/uv/python/cpython-3.12-linux-x86_64-gnu/bin/python3.12
created:
  description: Whether the environment was (or would be) created.
  returned: always
  type: bool
recreated:
  description: Whether an existing environment was (or would be) replaced; C(reason) says why.
  returned: always
  type: bool
reason:
  description: Why the environment was created or recreated; null when it was kept.
  returned: always
  type: str
packages:
  description: What changed (or would change) in the environment.
  returned: always
  type: dict
  contains:
    installed:
      description: Packages that were not there, each C({name, version}).
      type: list
      elements: dict
    removed:
      description: Packages that are gone, each C({name, version}).
      type: list
      elements: dict
    upgraded:
      description: Packages whose version went up, each C({name, from, to}).
      type: list
      elements: dict
    downgraded:
      description: Packages whose version went down (PEP 440 order), each C({name, from, to}).
      type: list
      elements: dict
    reinstalled:
      description: Packages reinstalled at the same version (V(forcereinstall)), each C({name, version}).
      type: list
      elements: dict
before:
  description: The packages before, name -> version.
  returned: always
  type: dict
  sample: {"six": "1.16.0"}
after:
  description: The packages after (in check mode, as the dry run says they would be), name -> version.
  returned: always
  type: dict
  sample: {"six": "1.17.0", "python-dateutil": "2.9.0.post0"}
uv_version:
  description: The version of the uv that ran.
  returned: when uv was found
  type: str
  sample: 0.13.8
uv:
  description: The path of the uv that ran.
  returned: when uv was found
  type: str
cmd:
  description:
    - The uv commands that ran, in order (credentials masked).
    - The index options uv got in its environment come first, as C(VAR=value).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import masking_module_class
from ansible_collections.pyfleet.uv.plugins.module_utils._uv_runner import finish
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._venv_task import UvVenv

SECRET_OPTIONS = ["index_url", "extra_index_urls", "find_links", "extra_args", "name"]


def main():
    module_class = masking_module_class(AnsibleModule, SECRET_OPTIONS)
    module = module_class(
        argument_spec=dict(
            path=dict(type="path", required=True, aliases=["virtualenv"]),
            python=dict(type="str", aliases=["virtualenv_python"]),
            python_install_dir=dict(type="path", default="/opt/uv/python"),
            name=dict(type="list", elements="str", default=[]),
            version=dict(type="str"),
            editable=dict(type="bool", default=False),
            requirements=dict(type="list", elements="path", default=[]),
            constraints=dict(type="list", elements="path", default=[]),
            state=dict(type="str", default="present", choices=["present", "latest", "absent", "forcereinstall", "exact"]),
            recreate=dict(type="str", default="on_python_change", choices=["never", "on_python_change", "always"]),
            index_url=dict(type="str"),
            extra_index_urls=dict(type="list", elements="str", default=[]),
            find_links=dict(type="list", elements="str", default=[]),
            no_index=dict(type="bool", default=False),
            offline=dict(type="bool", default=False),
            require_hashes=dict(type="bool", default=False),
            no_build=dict(type="bool", default=False),
            system_site_packages=dict(type="bool", default=False, aliases=["virtualenv_site_packages"]),
            extra_args=dict(type="list", elements="str", default=[]),
            chdir=dict(type="path"),
            umask=dict(type="raw"),
            uv_path=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    venv = UvVenv(module)
    finish(module, venv, venv.commands)


if __name__ == "__main__":
    main()
