"""The ``entraide`` console command: the operator commands, grouped by domain.

``entraide audit verify``, ``entraide demo seed``, … are Django management commands; any other
``manage.py`` command works too (``entraide migrate``).
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "entraide.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["entraide", *sys.argv[1:]])


if __name__ == "__main__":
    main()
