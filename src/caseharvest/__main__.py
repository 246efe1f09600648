"""``python -m caseharvest``: the same CLI as the ``caseharvest`` command."""

from caseharvest.cli import main

# The guard matters: extraction worker processes import this module by name.
if __name__ == "__main__":
    main()
