# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python3 hacking/suite test|demo ...`` (what hacking/test.sh and hacking/demo.sh run): see __init__.py."""

import os
import sys

# Run as a folder, Python puts hacking/suite itself first on sys.path: its files are the
# package's modules, never top-level ones, so hacking/ takes that place and ``suite`` is imported.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
sys.path.insert(0, os.path.dirname(HERE))

import suite  # noqa: E402  pylint: disable=wrong-import-position

if __name__ == "__main__":
    sys.exit(suite.main())
