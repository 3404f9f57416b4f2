"""``python -m verify``: see ``verify.cli``."""
import sys

from verify.interrupts import route_sigint_to_main

route_sigint_to_main()          # before numpy, torch and cvxpy start their threads

from verify.cli import main  # noqa: E402

sys.exit(main())
