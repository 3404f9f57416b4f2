"""A subprocess for tests/verify/test_interrupts_cluster.py: signals routed as by
``python -m verify`` (unless argv[1] is "plain"), then "ready" and an import that blocks in
``time.sleep``, outside any handler, as ``python -m verify`` imports its modules before a command
runs; with argv[2] "capsule" the import turns the interrupt into an ImportError without its cause,
as numpy's C extension does ("PyCapsule_Import could not import module")."""
import sys
import time

if sys.argv[1] != "plain":
    from verify.interrupts import route_sigint_to_main

    route_sigint_to_main()
print("ready", flush=True)
try:
    time.sleep(3600)                    # stands for a module's import
except KeyboardInterrupt:
    if sys.argv[2] == "capsule":
        raise ImportError('PyCapsule_Import could not import module "datetime"') from None
    raise
