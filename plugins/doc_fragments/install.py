# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The options of the install modules (uv_install, ruff_install, ty_install) besides the source."""

    DOCUMENTATION = r"""
options:
  state:
    description:
      - V(present) installs O(version); V(absent) removes the tool's binaries (C(uv) and C(uvx),
        C(ruff), C(ty)) and its receipt from O(install_dir).
    type: str
    choices: [present, absent]
    default: present
  install_dir:
    description:
      - Directory for the tool's binaries and its receipt, as an absolute path. Created (mode 0755,
        whatever the umask, missing parents too) when missing. uv, ruff and ty can share one directory
        (each has its own receipt, C(.pyfleet-<tool>.json)).
      - The module runs the binaries it finds there (C(uv --version)), as root under C(become), so it
        refuses an O(install_dir) that another user could have written to, before it runs anything.
        Refused are a directory, one of its parents or one of the tool's binaries in it that a user
        other than root and the remote user owns, or that every user may write (a parent with the
        sticky bit, such as C(/tmp), is fine). Fix it with C(chown root) and C(chmod go-w), or choose
        another O(install_dir). One writable by a group other than root's (Debian's C(staff) on
        C(/usr/local), on request) gives a warning.
      - The default C(/usr/local/bin) needs root, so run the task with C(become=true), or choose a
        directory the remote user owns.
    type: path
    default: /usr/local/bin
  libc:
    description:
      - Which builds to consider. V(auto) decides from the host's libc; V(gnu) or V(musl)
        force that family (an installed build of the other family is then replaced).
    type: str
    choices: [auto, gnu, musl]
    default: auto
  arch:
    description:
      - Override the architecture, as C(uname -m) would print it (V(x86_64), V(aarch64),
        V(armv7l), ...). By default the host's own is used.
    type: str
  force:
    description:
      - Download and install even if the wanted version is already installed.
    type: bool
    default: false
  download_on:
    description:
      - V(host) (the default) lets each host download from the source itself.
      - V(controller) downloads each needed artifact once, on the controller, into
        O(controller_cache_dir), and copies it to the hosts with Ansible's own file transfer, for
        hosts that cannot reach the source, and to pull each artifact once for the whole fleet.
        Each host first plans from its own state (no network); only hosts that need an install
        get a file. Needs the Python package C(requests) on the controller.
    type: str
    choices: [host, controller]
    default: host
  controller_cache_dir:
    description:
      - With O(download_on=controller), the controller directory that keeps downloaded artifacts,
        named by their sha256 and verified again before each use; shared by all forks under a lock.
      - Defaults to C(pyfleet-uv/artifacts) under C($XDG_CACHE_HOME) (C(~/.cache) when unset).
      - Missing folders are created mode 0700. What the cache holds is installed on every host, so a
        cache folder, subfolder, lock or entry that another user owns, or that group or other may write
        (a 0777 folder under C(/tmp)), is refused with a message naming it, and so is a folder above it
        that another user owns or every user may write without the sticky bit. Fix it with C(chown) and
        C(chmod -R go-w), or choose another O(controller_cache_dir).
    type: path
  src:
    description:
      - Install from a release archive of the tool (C(<tool>-<target>.tar.gz)) or one of its wheels
        already on the host, instead of downloading. Its build is read from the file itself (an
        archive's folder C(<tool>-<target>/); a wheel's C(.dist-info/WHEEL) tags, compressed tag sets
        expanded, which must agree with its file name when that is a wheel name of the tool) and must
        run on the host.
      - Needs O(checksum=sha256:<hex>) unless O(allow_missing_checksum=true).
      - The action plugin uses this for O(download_on=controller).
    type: path
  src_origin:
    description:
      - Where O(src) was downloaded from, as C(source) (V(mirror) or V(index)) and C(url); recorded
        in the receipt and the results instead of the path of O(src).
      - Set by the action plugin with O(download_on=controller); there is no need to set it by hand.
    type: dict
  plan_only:
    description:
      - Decide from the host alone and return the plan without installing anything.
      - Set by the action plugin as the first step of O(download_on=controller); there is no need to set
        it by hand. With O(download_on=controller) and no O(src), the module refuses to run without it,
        which happens when it is called without its action plugin (through a module path).
    type: bool
    default: false
"""
