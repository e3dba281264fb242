"""The fault drills short enough for CI (today all of them), run as tests: each must lose nothing and double
nothing.

Any loss or double fails; the drill's printed output then names what it lost and, where ``drills.diagnose``
recognises one, the fault that explains it.
"""

from __future__ import annotations

import sys

import pytest

from drills.catalog import DRILLS
from drills.runner import Drill, run_drill

CI_DRILLS = [drill for drill in DRILLS if drill.ci]
DRILL_TIMEOUT_S = 300


@pytest.mark.timeout(DRILL_TIMEOUT_S)
@pytest.mark.parametrize("drill", CI_DRILLS, ids=lambda drill: drill.name)
def test_a_drill_loses_nothing_and_doubles_nothing(drill: Drill, tmp_path) -> None:
    result = run_drill(drill, out=sys.stdout, workdir=tmp_path)
    if result.skipped is not None:
        pytest.skip(result.skipped)
    assert result.tally is not None, result.problems
    assert (result.tally.lost, result.tally.doubled) == (0, 0), result.problems
    assert result.problems == []
