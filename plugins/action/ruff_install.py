# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller side of pyfleet.uv.ruff_install: uv_install's action plugin, for ruff."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pyfleet.uv.plugins.action.uv_install import ActionModule as _InstallAction


class ActionModule(_InstallAction):
    """See pyfleet.uv.uv_install's action plugin; only the tool differs."""

    TOOL = "ruff"
