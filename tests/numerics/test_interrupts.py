"""Ctrl-C inside a solve is kept pending and delivered when the solve returns."""
import os
import signal

import pytest

from numerics.interrupts import deferred_interrupts


def test_sigint_inside_the_block_is_delivered_on_exit():
    reached_end = False
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):           # bytecode runs on: the signal is blocked, not handled
                pass
            reached_end = True
    assert reached_end
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())   # unblocked again


def test_the_block_is_transparent_without_a_signal():
    with deferred_interrupts():
        value = sum(range(10))
    assert value == 45
