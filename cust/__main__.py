"""Allow ``python -m cust``."""

from cust.cli.main import main

main()
