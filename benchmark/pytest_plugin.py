"""A pytest plugin so a team can write the regression gate as one test in its own suite::

    def test_no_regression(musebench_check):
        musebench_check("results/runs/synth-piano/my-model/abc123", baseline="synth-piano--my-model")

The fixture fails the test with the gate's table when ``musebench check`` would exit 1, and
errors when the runs are not comparable. It is registered through the ``pytest11`` entry point.
"""
from __future__ import annotations

import pytest


@pytest.fixture
def musebench_check():
    from .gate import check

    def _check(run_dir, *, baseline: str, **kwargs):
        report = check(run_dir, baseline=baseline, **kwargs)
        if not report.passed:
            pytest.fail("musebench regression gate failed:\n" + report.table(), pytrace=False)
        return report

    return _check
