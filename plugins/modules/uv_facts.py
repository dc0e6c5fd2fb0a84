#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: uv_facts
short_description: Gather the facts that decide which uv build a host can run
version_added: 0.1.0
description:
  - Reports the host's CPU architecture, its C library (family, version and how that
    was found out), the uv targets that run on it best first, and the uv that is
    installed, if any.
  - The libc is probed with C(os.confstr), the ELF interpreter of C(/bin/sh) (and the
    musl loader's own version output), C(ldd --version) and C(getconf GNU_LIBC_VERSION),
    in that order. A host without C(ldd) is not taken for musl.
  - The architecture is what C(uname -m) prints, except on a 32-bit userland under a
    64-bit kernel (an i386 Debian on an x86_64 kernel, where C(uname -m) still says
    C(x86_64)). When the ELF header of the Python running the module is 32-bit C(EM_386)
    on an x86_64 kernel the architecture is V(i686), when it is 32-bit C(EM_ARM) on an
    aarch64 kernel it is V(armv8l) (which takes the armv7 builds), as pypa/packaging
    does for the wheel tags of a 32-bit interpreter.
    RV(ansible_facts.uv.arch_detected_by) says which rule decided.
  - Also lists the configuration files uv would read (RV(ansible_facts.uv.config_files)), such as the
    one M(pyfleet.uv.uv_config) writes.
  - Also lists the command-line tools that M(pyfleet.uv.uv_tool) (or C(uv tool install)) put under
    O(tool_dir) (RV(ansible_facts.uv.tools)), from uv's receipt C(uv-receipt.toml) and the tool's
    environment; uv is not run for them.
  - Also sets C(ansible_facts.ruff) and C(ansible_facts.ty) - the ruff and ty targets that run on the
    host and what is installed of each - for M(pyfleet.uv.ruff_install), M(pyfleet.uv.ty_install) and
    M(pyfleet.uv.uv_mirror_check) with O(pyfleet.uv.uv_mirror_check#module:tool).
  - Sets C(ansible_facts.uv); nothing on the host is changed.
author:
  - pyfleet maintainers (@pyfleet)
extends_documentation_fragment:
  - pyfleet.uv.attributes
  - pyfleet.uv.attributes.facts
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to show.
  facts:
    support: full
    description: Sets C(ansible_facts.uv), C(ansible_facts.ruff) and C(ansible_facts.ty).
  idempotent:
    support: full
    description: Gathering facts never changes the host.
options:
  install_dir:
    description:
      - Directory to look for C(uv) in, as given to O(pyfleet.uv.uv_install#module:install_dir).
      - When not set, the first C(uv) on the module's C(PATH) is reported.
    type: path
  libc:
    description:
      - Override the libc family used to compute RV(ansible_facts.uv.targets).
      - V(auto) uses what the host reports.
      - The values name uv's target triples (V(gnu) as in C(x86_64-unknown-linux-gnu), V(musl) as
        in C(x86_64-unknown-linux-musl)), like O(pyfleet.uv.uv_install#module:libc). The facts name
        the C library itself; V(gnu) builds need RV(ansible_facts.uv.libc.family=glibc), V(musl)
        builds are static and run with either family.
      - This does not change RV(ansible_facts.uv.libc), which always says what the host has.
    type: str
    choices: [auto, gnu, musl]
    default: auto
  arch:
    description:
      - Override the architecture, as C(uname -m) would print it.
      - By default the host's own C(uname -m) is used, corrected to the userland's
        architecture on a 32-bit userland under a 64-bit kernel (see the description).
    type: str
  tool_dir:
    description:
      - Directory of the tools' environments to report in RV(ansible_facts.uv.tools), as given to
        O(pyfleet.uv.uv_tool#module:tool_dir).
      - When it does not exist, RV(ansible_facts.uv.tools) is empty.
    type: path
    default: /opt/uv/tools
requirements:
  - Python 3.6 or newer on the managed host.
notes:
  - The module only reads, so it needs no C(become). To see the uv that
    M(pyfleet.uv.uv_install) put in its default O(pyfleet.uv.uv_install#module:install_dir)
    C(/usr/local/bin), pass that directory as O(install_dir); without it only the
    C(PATH) of the connecting user is searched.
  - The libc family is named twice on purpose. RV(ansible_facts.uv.libc.family) names the
    host's C library (V(glibc) or V(musl)); the O(libc) option and the target triples name
    the build (V(gnu) or V(musl)). V(glibc) hosts run V(gnu) builds whose glibc minimum they
    meet, and every host runs V(musl) builds.
  - The facts are returned as C(ansible_uv), C(ansible_ruff) and C(ansible_ty), which ansible
    files under C(ansible_facts) without their C(ansible_) prefix (C(ansible_facts.uv)), as it does
    the facts of M(ansible.builtin.setup). With C(INJECT_FACTS_AS_VARS) (on by default) the
    top-level variables are C(ansible_uv), C(ansible_ruff) and C(ansible_ty), so variables named
    C(uv), C(ruff) or C(ty) in an inventory or a play are left alone. A registered result holds
    them under those prefixed names.
  - The minimum glibc of each gnu build is that of the build itself (2.17 for
    x86_64, i686, armv7, ppc64le and s390x; 2.28 for aarch64; 2.31 for riscv64), not the
    2.31 that some versions of uv's shell installer demanded.
seealso:
  - module: pyfleet.uv.uv_install
  - module: pyfleet.uv.uv_config
"""

EXAMPLES = r"""
- name: Gather uv facts
  pyfleet.uv.uv_facts:

- name: Show which build this host would get
  ansible.builtin.debug:
    msg: "{{ ansible_facts.uv.arch }} {{ ansible_facts.uv.libc.family }} {{ ansible_facts.uv.libc.version }}: {{ ansible_facts.uv.targets | first }}"

- name: Look for uv in a private directory
  pyfleet.uv.uv_facts:
    install_dir: /opt/tools/bin

- name: Report the uv that uv_install put in its default directory
  pyfleet.uv.uv_facts:
    install_dir: /usr/local/bin

- name: Fail early on hosts that can only run the static musl build
  ansible.builtin.assert:
    that:
      - ansible_facts.uv.targets | first is search('-gnu')
    fail_msg: "{{ inventory_hostname }} has {{ ansible_facts.uv.libc.family }} {{ ansible_facts.uv.libc.version }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to C(ansible_facts).
  returned: always
  type: dict
  contains:
    uv:
      description: What decides the uv build of this host, and what is installed.
      returned: always
      type: dict
      contains:
        arch:
          description:
            - The architecture whose builds run here, as C(uname -m) prints it (or as overridden).
            - V(i686) on a 32-bit i386 userland under an x86_64 kernel.
          type: str
          returned: always
          sample: x86_64
        arch_detected_by:
          description:
            - How RV(ansible_facts.uv.arch) was decided. V(option) (the O(arch) option),
              V(uname) (C(uname -m) as printed) or V(uname+elf:<python>) (C(uname -m)
              corrected by the ELF class and machine of the Python running the module,
              a 32-bit userland on a 64-bit kernel).
          type: str
          returned: always
          sample: uname
        libc:
          description: The host's C library.
          type: dict
          returned: always
          contains:
            family:
              description:
                - The C library of the host, V(glibc) or V(musl), or V(null) when no probe could tell.
                - This names the library; target triples and the O(libc) option name the build,
                  V(gnu) for V(glibc).
              choices: [glibc, musl]
              type: str
              returned: always
              sample: glibc
            version:
              description: The version as the library printed it, or V(null).
              type: str
              returned: always
              sample: "2.28"
            detected_by:
              description: Which probes decided, for example V(confstr), V(elf:/bin/sh+loader), V(ldd), V(none).
              type: str
              returned: always
              sample: confstr
        targets:
          description: The uv target triples that run on this host, best first.
          type: list
          elements: str
          returned: always
          sample: [x86_64-unknown-linux-gnu, x86_64-unknown-linux-musl]
        installed:
          description: The installed uv, or V(null) when none is found.
          type: dict
          returned: always
          contains:
            path:
              description: Path of the C(uv) binary.
              type: str
              returned: when uv is found
              sample: /usr/local/bin/uv
            version:
              description: Its version as C(uv --version) prints it.
              type: str
              returned: when uv is found
              sample: 0.13.8
            target:
              description: >-
                Its target triple, from C(uv --version) (uv 0.10.12 and later) or from the
                receipt of M(pyfleet.uv.uv_install); V(null) when neither tells.
              type: str
              returned: when uv is found
              sample: x86_64-unknown-linux-gnu
        config_files:
          description:
            - The configuration files uv would consider on this host, for the user the module runs as,
              in uv's order, present or not, so that a playbook can spot a stray one.
            - First the system candidates, each C($XDG_CONFIG_DIRS) entry's C(uv/uv.toml) (C(/etc/xdg/uv/uv.toml)
              when the variable is unset) and C(/etc/uv/uv.toml), of which uv uses the first that exists;
              then the user's C($XDG_CONFIG_HOME/uv/uv.toml) (C(~/.config/uv/uv.toml)), read on top of it.
            - The module's environment decides C($XDG_CONFIG_DIRS) and C($HOME); with C(become) they are
              those of the become user. A project's C(uv.toml) or C(pyproject.toml) is not listed.
          type: list
          elements: dict
          returned: always
          sample:
            - {path: /etc/xdg/uv/uv.toml, scope: system, exists: false, used: false}
            - {path: /etc/uv/uv.toml, scope: system, exists: true, used: true}
            - {path: /root/.config/uv/uv.toml, scope: user, exists: false, used: false}
          contains:
            path:
              description: The file.
              type: str
              returned: always
            scope:
              description: V(system) or V(user).
              type: str
              returned: always
            exists:
              description: Whether the file exists.
              type: bool
              returned: always
            used:
              description: Whether uv reads it (the first existing system file; the user file when it exists).
              type: bool
              returned: always
        tools:
          description:
            - The tools under O(tool_dir), by name, read from uv's receipt C(uv-receipt.toml) and the
              tool's environment without running uv. Empty when O(tool_dir) does not exist.
            - A tool whose receipt cannot be read is listed with an C(error) that says why.
          type: list
          elements: dict
          returned: always
          sample:
            - name: ansible-lint
              version: 25.1.3
              requested: ansible-lint==25.*
              with: [jmespath]
              python: {version: 3.12.8, path: /opt/uv/python/cpython-3.12.8-linux-x86_64-gnu/bin/python3.12}
              executables: [{name: ansible-lint, path: /usr/local/bin/ansible-lint}]
              environment: /opt/uv/tools/ansible-lint
              error: null
          contains:
            name:
              description: The tool's name (its environment's directory under O(tool_dir)).
              type: str
              returned: always
            version:
              description: The version installed in the tool's environment, or V(null) when none is found.
              type: str
              returned: always
            requested:
              description: The requirement the tool was installed from, as uv recorded it (credentials masked).
              type: str
              returned: always
            with:
              description: The extra requirements installed beside it (O(pyfleet.uv.uv_tool#module:with)).
              type: list
              elements: str
              returned: always
            python:
              description: The Python the tool runs on, C(version) (from C(pyvenv.cfg)) and C(path) (the real interpreter).
              type: dict
              returned: always
            executables:
              description: The executables uv linked for the tool, each C(name) and C(path).
              type: list
              elements: dict
              returned: always
            environment:
              description: The tool's environment.
              type: str
              returned: always
            error:
              description: Why the tool's receipt cannot be read (the tool needs a reinstall), or V(null).
              type: str
              returned: always
    ruff:
      description:
        - What decides the ruff build of this host, and the installed ruff. C(ty) has the same keys for ty.
        - Architecture and libc are those of RV(ansible_facts.uv).
      returned: always
      type: dict
      contains:
        targets:
          description:
            - The ruff target triples that run on this host, best first. They may differ from uv's (ruff's
              aarch64 gnu build needs glibc 2.17, uv's 2.28).
          type: list
          elements: str
          returned: always
          sample: [aarch64-unknown-linux-gnu, aarch64-unknown-linux-musl]
        installed:
          description:
            - The installed ruff (C(path), C(version), C(target)), or V(null). Its target comes from the
              receipt of M(pyfleet.uv.ruff_install), else from how the binary is linked (C(ruff --version)
              does not print it).
          type: dict
          returned: always
          sample: {path: /usr/local/bin/ruff, version: 0.17.6, target: x86_64-unknown-linux-gnu}
    ty:
      description: What decides the ty build of this host, and the installed ty, with the keys of RV(ansible_facts.ruff).
      returned: always
      type: dict
      sample: {targets: [x86_64-unknown-linux-gnu, x86_64-unknown-linux-musl], installed: null}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyfleet.uv.plugins.module_utils._probe import module_runner
from ansible_collections.pyfleet.uv.plugins.module_utils.config._config_file import config_paths
from ansible_collections.pyfleet.uv.plugins.module_utils.libc import detect_libc
from ansible_collections.pyfleet.uv.plugins.module_utils.targets import candidate_targets, detect_machine
from ansible_collections.pyfleet.uv.plugins.module_utils.install._installed import find_binary, find_uv, installed_state
from ansible_collections.pyfleet.uv.plugins.module_utils.tools import TOOLS
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._tool_facts import DEFAULT_TOOL_DIR, gather_tools as gather_uv_tools


def gather(run, install_dir=None, libc="auto", arch=None, tool_dir=DEFAULT_TOOL_DIR):
    """Collect the facts as a dict with the fixed keys of ``ansible_facts.uv``."""
    machine, arch_detected_by = detect_machine(arch)
    facts = detect_libc(run)
    return {
        "arch": machine,
        "arch_detected_by": arch_detected_by,
        "libc": dict(facts._asdict()),
        "targets": candidate_targets(machine, facts.family, facts.version, libc),
        "installed": installed_state(find_uv(install_dir), run),
        "config_files": config_paths(),
        "tools": gather_uv_tools(tool_dir),
    }


def gather_tools(run, uv, install_dir=None, libc="auto"):
    """``{tool: {"targets", "installed"}}`` for the other tools of ``tools.TOOLS`` (ruff, ty).

    ``uv`` is what ``gather`` found: its architecture and libc are the host's, probed once.
    """
    machine, family, version = uv["arch"], uv["libc"]["family"], uv["libc"]["version"]
    found = {}
    for name, tool in sorted(TOOLS.items()):
        if name != "uv":
            found[name] = {
                "targets": candidate_targets(machine, family, version, libc, tool),
                "installed": installed_state(find_binary(tool, install_dir), run, machine, tool),
            }
    return found


def main():
    module = AnsibleModule(
        argument_spec=dict(
            install_dir=dict(type="path"),
            libc=dict(type="str", default="auto", choices=["auto", "gnu", "musl"]),
            arch=dict(type="str"),
            tool_dir=dict(type="path", default=DEFAULT_TOOL_DIR),
        ),
        supports_check_mode=True,
    )
    try:
        run = module_runner(module)
        uv = gather(run, module.params["install_dir"], module.params["libc"], module.params["arch"],
                    module.params["tool_dir"])
        others = gather_tools(run, uv, module.params["install_dir"], module.params["libc"])
    except ValueError as exc:
        module.fail_json(msg="cannot compute uv targets: %s" % exc)
    others["uv"] = uv
    # Returned as ansible_uv, ansible_ruff and ansible_ty: ansible strips the "ansible_" prefix
    # under ansible_facts (ansible_facts.uv), while INJECT_FACTS_AS_VARS (on by default) injects
    # each fact as a top-level variable under the name returned. Plain "uv" would overwrite a
    # play's or inventory's own variable "uv"; "ansible_uv" is the namespace setup's facts use.
    module.exit_json(changed=False, ansible_facts=dict(("ansible_%s" % name, facts) for name, facts in others.items()))


if __name__ == "__main__":
    main()
