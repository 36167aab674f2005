"""`python -m biasprobe` is the `biasprobe` command."""

from biasprobe.cli import main

# Guarded: worker processes started by multiprocessing's spawn (Dask's LocalCluster) import this module
# as __mp_main__ and must not run the command again.
if __name__ == "__main__":
    raise SystemExit(main())
