"""`python -m debugbox`: the same entry point as the `debugbox` console script."""

from debugbox.cli import main

raise SystemExit(main())
