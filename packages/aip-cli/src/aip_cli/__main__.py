"""``python -m aip_cli`` runs the ``aip`` command."""

from aip_cli import main

main()
