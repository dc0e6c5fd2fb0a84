# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """How the modules that run the installed uv run it (plugins/module_utils/_uv_runner.py).

    ``pyfleet.uv.uv_runner``: which uv, and the environment of every uv call (uv_config, uv_python,
    uv_sync, uv_tool, uv_venv; uv_config documents its own O(uv_path), which wins).
    ``pyfleet.uv.uv_runner.packages``: what the modules that install packages add (uv_sync, uv_tool,
    uv_venv): the managed Pythons' directory, uv's cache, index URLs and their credentials.
    ``pyfleet.uv.uv_runner.index``: the index options whose text uv_tool and uv_venv share (not
    O(index_url) nor O(offline), which each module words for what it does).
    """

    DOCUMENTATION = r"""
options:
  uv_path:
    description:
      - The uv to run. Default, the uv that M(pyfleet.uv.uv_install) recorded (its receipt in C(/usr/local/bin)),
        else the first C(uv) on C(PATH).
    type: path
notes:
  - Every call to uv runs with an explicit environment. C(HOME) and the XDG user directories point at an empty
    private directory, so the calling user's C(~/.config/uv/uv.toml), C(.netrc) and uv cache are never used, and
    every C(UV_*) variable of the task's C(environment) is dropped (use the module's options instead). The system
    configuration (C(/etc/uv/uv.toml), written by M(pyfleet.uv.uv_config)) still applies.
"""

    PACKAGES = r"""
options:
  python_install_dir:
    description: Where uv's managed Pythons are (C(UV_PYTHON_INSTALL_DIR)), where M(pyfleet.uv.uv_python) puts them.
    type: path
    default: /opt/uv/python
notes:
  - uv's cache for a task is a private temporary directory, removed at the end, unless the system uv.toml sets
    C(cache-dir).
  - Index URLs reach uv in its environment variables (C(UV_DEFAULT_INDEX), C(UV_INDEX_URL), C(UV_INDEX),
    C(UV_EXTRA_INDEX_URL), C(UV_FIND_LINKS)), never on its command line, which every user of the host can read;
    credentials in them are masked in every result and message.
"""

    INDEX = r"""
options:
  extra_index_urls:
    description: More indexes (C(--extra-index-url)).
    type: list
    elements: str
    default: []
  find_links:
    description: Directories or URLs of distribution files (C(--find-links)).
    type: list
    elements: str
    default: []
  no_index:
    description: Use no index, only O(find_links) (C(--no-index)).
    type: bool
    default: false
  no_build:
    description: Install wheels only, never build from a source distribution (C(--no-build)).
    type: bool
    default: false
"""
