"""`python -m biasprobe` is the `biasprobe` command."""

from biasprobe.cli import main

raise SystemExit(main())
