"""Run the `ppas` command with `python -m ppas`."""
from ppas.cli import main

main()
