"""``python -m caseharvest``: the same CLI as the ``caseharvest`` command."""

from caseharvest.cli import main

main()
