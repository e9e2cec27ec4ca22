"""``python -m sim`` runs the ``corridor`` command."""

from sim.cli import main

main()
