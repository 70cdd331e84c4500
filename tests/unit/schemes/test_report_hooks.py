"""Every registered scheme describes its own records through the reporting hooks (a scheme's `reporting`
module replaces the defaults hook by hook)."""

from __future__ import annotations

import pytest

from tokcom.registry import SCHEMES


@pytest.mark.parametrize("name", SCHEMES.list())
def test_hooks_answer_for_a_minimal_record(name, tmp_path):
    cls = SCHEMES.get(name)
    rec = {"scheme": name, "config": {"scheme": {"name": name}}, "scheme_report": {}}
    assert isinstance(cls.summary(rec), str) and cls.curve_label(rec).startswith(name)
    assert isinstance(cls.describe_record(rec), str)
    assert isinstance(cls.report_sections([rec], tmp_path), str)


def test_a_reporting_module_replaces_only_the_hooks_it_has():
    from tokcom.schemes.pvsc.scheme import PvscScheme
    from tokcom.schemes.tokencom.scheme import TokenComScheme

    rec = {"scheme": "pvsc", "config": {"scheme": {"weights": "random", "gop": 4}}, "scheme_report": {}}
    assert PvscScheme.curve_label(rec) == "pvsc (small, untrained, GOP 4)"  # pvsc.report.curve_label
    rec = {"scheme": "tokencom", "config": {"scheme": {"name": "tokencom"}}}
    assert TokenComScheme.curve_label(rec) == "tokencom"  # its report module has no curve_label: the default
