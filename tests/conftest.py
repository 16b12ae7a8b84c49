"""Process-wide state that one test must not leave to the next (pytest-xdist runs many tests in one worker)."""
import sys

import pytest


@pytest.fixture(autouse=True)
def _subnormal_floats_back():
    """Training sets PyTorch's flush-to-zero of subnormal floats for speed (`lstm.cpu_setup`), a processor-wide setting;
    property-based tests (hypothesis, schemathesis) refuse to run without subnormals, so each test starts with them."""
    if "torch" in sys.modules: sys.modules["torch"].set_flush_denormal(False)
    yield
