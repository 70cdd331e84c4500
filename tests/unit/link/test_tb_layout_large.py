"""Large PDUs: TB sizing must find the next valid 38.214 TB size however coarse the quantisation step."""

from __future__ import annotations

import pytest

from tokcom.link.mcs import mcs_table
from tokcom.link.phy import tb_layout


@pytest.mark.parametrize("n", [32777, 65000, 120003])
def test_large_tb_sizes_are_found_and_tight(n):
    for m in mcs_table(1)[::4]:
        lay = tb_layout(n, m.num_bits_per_symbol, m.coderate)
        assert n <= lay.tb_size <= 1.04 * n + 200
