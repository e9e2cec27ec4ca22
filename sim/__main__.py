"""``python -m sim`` runs the ``corridor`` command."""

from sim.cli.entry import main

main()
