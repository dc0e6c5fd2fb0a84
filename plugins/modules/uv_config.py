#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: uv_config
short_description: Write uv's system configuration file (uv.toml), checked by uv itself
version_added: 0.1.0
description:
  - Owns uv's system configuration file, by default C(/etc/uv/uv.toml), so that every uv on
    the host (C(uv pip install), C(uv tool install), C(uv python install)) uses the
    company's package index and Python mirror instead of the public internet.
  - The module writes the whole file, with a header saying that it manages it. Two runs
    with the same options give byte-identical files; a second run reports no change.
  - Keys are checked before anything is written, against the table of uv.toml keys and
    types taken from uv's own JSON schema and checked against the real uv 0.13.8 binary.
    An unknown key or a value of the wrong type fails with the key named and the nearest
    valid key suggested. Keys that uv takes only from a project's C(pyproject.toml)
    (C(managed), C(workspace), C(sources), ...) are refused.
  - The new file is first read by the installed uv from the module's temporary directory
    (C(uv --config-file <staged> cache dir), which parses the file as uv parses its system
    configuration and needs no network). A file that uv rejects is never put in place (nor
    is its directory created); RV(msg) then starts with uv's own C(error:) and cause lines, then the
    command, and RV(stderr) holds uv's whole output. Warnings that uv prints about the file (such as
    V(native-tls) being deprecated in favour of V(system-certs)) become the task's warnings.
  - uv runs as every uv call of this collection does (see the notes), from C(/), so neither the calling
    user's configuration nor a C(pyproject.toml) in the working directory takes part in the check.
  - A URL that carries credentials is refused in a file that other users can read, and
    allowed, with a warning, when O(mode) is V(0600) or V(0640). Credentials are the URL's
    user info of any shape, up to the last C(@) as uv reads it (C(https://user:secret@host/simple),
    a token given as the user C(https://TOKEN@host/simple)), and its query values. They are
    masked (C(https://********@host/simple)) in the results, the diff and the module's
    arguments (the invocation shown at C(-vvv)) before anything else is checked, so a task
    that fails on another key does not show them either.
  - The new file is written beside O(path) and gets its mode, owner and group before it is
    renamed into place; O(owner) and O(group) are looked up first. A failure leaves the
    previous file as it was (content, mode, owner and group).
  - uv reads the first of C($XDG_CONFIG_DIRS/uv/uv.toml) (C(/etc/xdg/uv/uv.toml) when the variable
    is unset) and C(/etc/uv/uv.toml) that exists, and the user's C(~/.config/uv/uv.toml) on top.
    M(pyfleet.uv.uv_facts) reports which of these files exist on a host
    (RV(pyfleet.uv.uv_facts#module:ansible_facts.uv.config_files)).
author:
  - pyfleet maintainers (@pyfleet)
extends_documentation_fragment:
  - pyfleet.uv.attributes
  - pyfleet.uv.uv_runner
attributes:
  check_mode:
    support: full
    description: Nothing is written; the wanted file is still checked, and read by uv in a temporary directory.
  diff_mode:
    support: full
    description: Shows the file's text before and after, with credentials masked.
  idempotent:
    support: full
options:
  path:
    description:
      - The configuration file. uv reads C(/etc/uv/uv.toml) unless a C($XDG_CONFIG_DIRS/uv/uv.toml)
        exists (see the description).
      - Its directory is created when missing, with mode V(0755) whatever the umask (uv, run by
        any user, must reach the file; under a hardened umask such as V(027) a directory made
        with the umask's bits would hide the file from every other user).
      - A symbolic link at O(path) is refused (with O(state=absent) too); the module writes a
        regular file, and never follows a link to read, change or show its target (unlike
        M(ansible.builtin.copy), which replaces the link with a file by default). Remove the link
        or give the file it points to. Links in the directories above O(path) are followed.
    type: path
    default: /etc/uv/uv.toml
  settings:
    description:
      - Top-level uv.toml keys, spelled as uv spells them (V(python-install-mirror),
        V(python-downloads), V(system-certs), V(cache-dir), V(allow-insecure-host)), with values
        of the types uv expects (booleans, integers, strings, lists, and dicts for tables
        such as V(pip)).
      - A key set to V(null) is left out of the file.
      - The known keys are those of uv 0.13.8 (see C(plugins/module_utils/config/_uv_settings.py)); an
        older uv on the host may not know some of them, and then rejects the file.
    type: dict
    default: {}
  indexes:
    description:
      - Package indexes, written as C([[index]]) tables in this order (uv tries them in order).
      - Each is a dict of uv's index keys, such as V(name), V(url), V(default), V(explicit),
        V(format), V(authenticate), V(publish-url) and V(ignore-error-codes). V(url) is required.
      - V(default=true) replaces PyPI as the index of last resort; without it uv still falls back
        to PyPI for packages the other indexes lack.
      - Give credentials with the environment variables C(UV_INDEX_<NAME>_USERNAME) and
        C(UV_INDEX_<NAME>_PASSWORD), a C(.netrc) file or a keyring, not in V(url).
    type: list
    elements: dict
    default: []
  state:
    description:
      - V(present) writes the file; V(absent) removes it (the directory stays).
    type: str
    choices: [present, absent]
    default: present
  mode:
    description:
      - The file's permissions, as for M(ansible.builtin.file) (V(0644), V(u=rw,g=r,o=r)), exactly,
        whatever the umask.
      - A file holding credentials must not be readable by others (V(0600) or V(0640)).
    type: raw
    default: '0644'
  owner:
    description:
      - Name (or numeric uid) of the user that should own the file, as for M(ansible.builtin.file).
      - Looked up before anything is written. When not given, a replaced file keeps its owner.
    type: str
  group:
    description:
      - Name (or numeric gid) of the group that should own the file, as for M(ansible.builtin.file).
      - Looked up before anything is written. When not given, a replaced file keeps its group.
    type: str
  backup:
    description: Keep a timestamped copy of the previous file beside it when it changes or is removed.
    type: bool
    default: false
  uv_path:
    description:
      - The uv binary that reads the staged file before it is put in place.
      - By default the uv that M(pyfleet.uv.uv_install) recorded in its default
        O(pyfleet.uv.uv_install#module:install_dir) (C(/usr/local/bin)), else the first C(uv)
        on C(PATH). When there is none, the file is written unchecked by uv, with a warning.
      - It must be uv 0.5.11 or newer (the oldest uv CI runs; reading a file needs only C(uv --config-file));
        an older uv is refused by name (nothing is written).
    type: path
requirements:
  - Python 3.6 or newer on the managed host.
notes:
  - Writing C(/etc/uv) needs C(become).
  - C(uv tool) commands read only the user and system files, never a project's; the system
    file is the one place that reaches them all.
  - The options C(--config-file) and C(--no-config) of uv, and the environment variables
    C(UV_CONFIG_FILE) and C(UV_NO_CONFIG), make uv skip this file.
seealso:
  - module: pyfleet.uv.uv_install
  - module: pyfleet.uv.uv_facts
  - name: uv's settings reference
    description: Every key, its type and its meaning.
    link: https://docs.astral.sh/uv/reference/settings/
  - name: uv behind the corporate mirror
    description: The scenario guide of this collection.
    link: https://github.com/pyfleet/uv/blob/main/docs/docsite/rst/guide_corporate_mirror.rst
"""

EXAMPLES = r"""
- name: Make every uv on the host use the company's index and Python mirror
  pyfleet.uv.uv_config:
    settings:
      python-install-mirror: https://mirror.example.com/python-build-standalone
      python-downloads: manual
    indexes:
      - name: corp
        url: https://pypi.example.com/simple
        default: true
  become: true

- name: Trust the company's TLS inspection proxy through the system certificate store
  pyfleet.uv.uv_config:
    settings:
      system-certs: true
      pip:
        index-url: https://pypi.example.com/simple
    indexes:
      - name: corp
        url: https://pypi.example.com/simple
        default: true
  become: true

- name: Remove the file
  pyfleet.uv.uv_config:
    state: absent
  become: true
"""

RETURN = r"""
path:
  description: The configuration file.
  returned: always
  type: str
  sample: /etc/uv/uv.toml
settings:
  description:
    - The document as written (or as it would be written), with the indexes under V(index)
      and every URL's user info and query values replaced by C(********).
  returned: always
  type: dict
  sample:
    python-downloads: manual
    index:
      - name: corp
        url: https://pypi.example.com/simple
        default: true
msg:
  description: What was done, and which uv checked the file.
  returned: always
  type: str
  sample: wrote /etc/uv/uv.toml (read and accepted by uv 0.13.8 at /usr/local/bin/uv)
validated_by:
  description: The uv that read the file (C(path), C(version), C(how) it was found), or V(null) when none did.
  returned: when O(state=present)
  type: dict
  sample:
    path: /usr/local/bin/uv
    version: 0.13.8
    how: recorded by uv_install
stderr:
  description: When uv rejected the file, uv's whole output (credentials masked); RV(msg) starts with its C(error:) lines.
  returned: when uv rejected the file
  type: str
backup_file:
  description: The copy of the previous file made by O(backup).
  returned: when a backup was made
  type: str
  sample: /etc/uv/uv.toml.12345.2026-12-04@15:30:00~
"""

import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyfleet.uv.plugins.module_utils.config._config_file import (
    ConfigFileError,
    make_dirs,
    prepare,
    read_current,
    remove_dirs,
    remove_quietly,
    resolve_group,
    resolve_owner,
    stage,
    validate,
)
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import masking_module_class, redact_text
from ansible_collections.pyfleet.uv.plugins.module_utils.config._uv_config import (
    build_document,
    credentials_problem,
    redact,
    render,
)
from ansible_collections.pyfleet.uv.plugins.module_utils._uv_runner import UvRunError, UvRunner, failure_message, locate_uv

# uv_config only has uv read the file (``uv --config-file <file> cache dir``): the oldest uv CI runs does.
MIN_UV_CONFIG = (0, 5, 11)

# The options whose URL secrets are masked before anything else happens (even the argument
# spec's own checks), so that no failure can return them in the invocation.
SECRET_OPTIONS = ["settings", "indexes"]


class _Stat(object):
    """Stands in for the stat of a file that does not exist yet (symbolic modes apply to it)."""

    st_mode = stat.S_IFREG | 0o600


class UvConfig(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.path = self.params["path"]
        self.check = module.check_mode

    def wanted_mode(self, info):
        """The permission bits O(mode) gives the file (symbolic modes worked out like the file module)."""
        mode = self.params["mode"]
        if isinstance(mode, int):
            return mode
        text = str(mode)
        if text.isdigit():
            try:
                return int(text, 8)
            except ValueError:
                raise ConfigFileError("mode %r is not a valid octal mode: give digits 0-7 such as '0644' "
                                      "or a symbolic mode such as 'u=rw,g=r,o=r'" % text)
        try:
            return self.module._symbolic_mode_to_octal(info or _Stat(), text)  # pylint: disable=protected-access
        except ValueError as exc:
            raise ConfigFileError("mode %r is not a valid mode: %s" % (text, exc))

    def validate(self, text):
        """Let uv read ``text``, staged in the module's temp dir; returns ``validated_by`` (``None`` without uv).

        Nothing next to O(path) exists yet: a file uv rejects leaves the host as it was.
        """
        try:
            uv, how = locate_uv(self.params["uv_path"])
        except UvRunError as exc:
            if self.params["uv_path"]:
                raise
            self.module.warn("the file was not read by uv before being written: %s" % exc.msg)
            return None
        # uv runs as every uv call of this collection does: without the connection's UV_* variables
        # or user configuration, from / (a pyproject.toml in the task's directory is not read).
        runner = UvRunner(self.module, uv, tempfile.mkdtemp(prefix="uv-home-", dir=self.module.tmpdir), name="uv_config",
                          min_version=MIN_UV_CONFIG)
        version = runner.version_string()
        cache_dir = os.path.join(self.module.tmpdir, "uv-cache")
        staged = stage(self.module.tmpdir, text)
        try:
            rc, out, err, warnings = validate(lambda args: runner.run(args, check=False), staged, self.path, cache_dir)
        finally:
            remove_quietly(staged)
        label = "uv %s at %s" % (version, uv)
        for warning in warnings:
            self.module.warn("%s: %s" % (label, redact_text(warning)))
        if rc != 0:
            # uv's error lines first (the staged name shown as path), then the command, then the verdict.
            raise ConfigFileError("%s\n%s rejects the configuration for %s, so nothing was changed" % (
                failure_message("reading the new configuration", runner.commands[-1], rc, out, err), label, self.path),
                uv_rc=rc, stderr=redact_text(err))
        return {"path": uv, "version": version, "how": how}

    def put_in_place(self, text, mode, uid, gid, current, backup):
        """Stage ``text`` beside O(path), give it its mode, owner and group, then rename it over O(path).

        A failure at any step removes the staged file and the directories made for it: the
        file in place (content, mode, owner) is as it was.
        """
        directory = os.path.dirname(self.path) or "."
        created = make_dirs(directory)
        staged = None
        try:
            staged = stage(directory, text)
            prepare(staged, mode, uid, gid)
            if self.module.selinux_enabled():
                context = (self.module.selinux_context(self.path) if current is not None
                           else self.module.selinux_default_context(self.path))
                self.module.set_context_if_different(staged, context, False)
            backup = self.module.backup_local(self.path) if backup and current is not None else None
            try:
                os.rename(staged, self.path)
            except OSError as exc:
                raise ConfigFileError("cannot replace %s: %s; nothing was changed" % (self.path, exc.strerror or exc))
            staged = None
            return backup
        finally:
            if staged:
                remove_quietly(staged)
                remove_dirs(created)

    def present(self):
        # Everything that can fail without writing is decided first: the current file (a
        # symbolic link is refused), the mode, the owner and group, the document and uv's verdict.
        current, info = read_current(self.path)
        mode = self.wanted_mode(info)
        uid = resolve_owner(self.params["owner"])
        gid = resolve_group(self.params["group"])
        document = build_document(self.params["settings"], self.params["indexes"])
        error, warning = credentials_problem(document, mode)
        if error:
            raise ConfigFileError(error)
        if warning:
            self.module.warn(warning)
        text = render(document)
        validated_by = self.validate(text)
        content_changed = current != text
        attributes_changed = info is not None and (
            stat.S_IMODE(info.st_mode) != mode or uid not in (None, info.st_uid) or gid not in (None, info.st_gid))
        result = {"changed": content_changed or attributes_changed, "path": self.path, "settings": redact(document),
                  "validated_by": validated_by}
        if result["changed"] and not self.check:
            # A replaced file keeps its owner and group unless new ones are given.
            keep_uid = info.st_uid if info is not None and uid is None else uid
            keep_gid = info.st_gid if info is not None and gid is None else gid
            backup = self.put_in_place(text, mode, keep_uid, keep_gid, current,
                                       backup=self.params["backup"] and content_changed)
            if backup:
                result["backup_file"] = backup
        if self.module._diff:  # pylint: disable=protected-access
            result["diff"] = {"before_header": self.path, "after_header": self.path,
                              "before": redact_text(current or ""), "after": redact_text(text)}
        checked = ("read and accepted by uv %s at %s" % (validated_by["version"], validated_by["path"])
                   if validated_by else "not read by uv: none found")
        if not result["changed"]:
            result["msg"] = "%s is up to date (%s)" % (self.path, checked)
        elif not content_changed:
            result["msg"] = "%s: %s its owner, group or mode (%s)" % (
                self.path, "would change" if self.check else "changed", checked)
        else:
            result["msg"] = "%s %s (%s)" % ("would write" if self.check else "wrote", self.path, checked)
        return result

    def absent(self):
        current, _info = read_current(self.path)
        result = {"changed": current is not None, "path": self.path, "settings": {}}
        if current is not None and not self.check:
            if self.params["backup"]:
                result["backup_file"] = self.module.backup_local(self.path)
            try:
                os.unlink(self.path)
            except OSError as exc:
                raise ConfigFileError("cannot remove %s: %s" % (self.path, exc.strerror or exc))
        if self.module._diff:  # pylint: disable=protected-access
            result["diff"] = {"before_header": self.path, "after_header": self.path,
                              "before": redact_text(current or ""), "after": ""}
        if current is None:
            result["msg"] = "%s is absent" % self.path
        else:
            result["msg"] = "%s %s" % ("would remove" if self.check else "removed", self.path)
        return result


def main():
    module = masking_module_class(AnsibleModule, SECRET_OPTIONS)(
        argument_spec=dict(
            path=dict(type="path", default="/etc/uv/uv.toml"),
            settings=dict(type="dict", default={}),
            indexes=dict(type="list", elements="dict", default=[]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            mode=dict(type="raw", default="0644"),
            owner=dict(type="str"),
            group=dict(type="str"),
            backup=dict(type="bool", default=False),
            uv_path=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    config = UvConfig(module)
    try:
        result = config.present() if module.params["state"] == "present" else config.absent()
    except UvError as exc:
        extra = {"stderr": exc.details["stderr"]} if exc.details.get("stderr") else {}
        module.fail_json(msg=exc.msg, path=config.path, **extra)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
