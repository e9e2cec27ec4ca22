"""``python -m sim`` runs the ``corridor`` command."""

from sim.cli.app import main

main()
