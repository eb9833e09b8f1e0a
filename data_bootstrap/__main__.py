"""``python -m data_bootstrap``: see ``data_bootstrap.cli``."""

from data_bootstrap.cli import main

raise SystemExit(main())
