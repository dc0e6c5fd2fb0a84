# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The module attributes of this collection, as community.crypto and community.docker write them.

    A module's own ``attributes`` entries win over these (ansible-core merges the
    fragment under the module's docs), so a module states ``support`` and may refine
    the ``description``.
    """

    # The attributes every module of the collection documents.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying the target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second run
        indicates no change.
"""

    # Modules that set ansible_facts.
    FACTS = r"""
options: {}
attributes:
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
"""

    # Members of the action group "uv" (meta/runtime.yml): the modules that share the source
    # options (mirror_url and the URL options), so that one module_defaults entry fits them all.
    ACTIONGROUP_UV = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/pyfleet.uv.uv) (or C(group/uv) with the play's C(collections) keyword) in
      C(module_defaults) to set defaults for this module, for example O(pyfleet.uv.uv_install#module:mirror_url).
    support: full
    membership:
      - pyfleet.uv.uv
"""
