"""MCS tables (38.214 Table 5.1.3.1-1/-2/-3) and the papers' named sets."""

import pytest

from tokcom.errors import InputError
from tokcom.link.mcs import (
    RESIVID_TABLE_I,
    TOKENCOM_INTENDED,
    TOKENCOM_NONINTENDED,
    get_mcs,
    mcs_rows,
    mcs_table,
    named_set,
    parse_modulation,
)

# 38.214 Table 5.1.3.1-1, typed in from the specification: (Qm, R x 1024, spectral efficiency as printed)
TABLE_1 = [
    (2, 120, 0.2344), (2, 157, 0.3066), (2, 193, 0.3770), (2, 251, 0.4902), (2, 308, 0.6016),
    (2, 379, 0.7402), (2, 449, 0.8770), (2, 526, 1.0273), (2, 602, 1.1758), (2, 679, 1.3262),
    (4, 340, 1.3281), (4, 378, 1.4766), (4, 434, 1.6953), (4, 490, 1.9141), (4, 553, 2.1602),
    (4, 616, 2.4063), (4, 658, 2.5703), (6, 438, 2.5664), (6, 466, 2.7305), (6, 517, 3.0293),
    (6, 567, 3.3223), (6, 616, 3.6094), (6, 666, 3.9023), (6, 719, 4.2129), (6, 772, 4.5234),
    (6, 822, 4.8164), (6, 873, 5.1152), (6, 910, 5.3320), (6, 948, 5.5547),
]


def test_table1_all_29_rows():
    rows = mcs_rows(1)
    assert len(rows) == 29
    for i, (r, (qm, r1024, se)) in enumerate(zip(rows, TABLE_1)):
        assert r["index"] == i
        assert r["num_bits_per_symbol"] == qm
        assert r["coderate"] == pytest.approx(r1024 / 1024)
        assert r["spectral_efficiency"] == pytest.approx(se, abs=6e-5)
        assert r["modulation"] == {2: "QPSK", 4: "16QAM", 6: "64QAM"}[qm]
    assert rows[0]["spectral_efficiency"] == 0.234375  # CLI.md example


def test_tables_2_3_shapes_and_key_rows():
    t2, t3 = mcs_table(2), mcs_table(3)
    assert len(t2) == 28 and len(t3) == 29
    assert t2[20].num_bits_per_symbol == 8 and t2[20].coderate == pytest.approx(682.5 / 1024)
    assert t2[27].spectral_efficiency == pytest.approx(7.4063, abs=1e-4)
    assert t3[0].coderate == pytest.approx(30 / 1024) and t3[28].coderate == pytest.approx(772 / 1024)
    for t in (t2, t3):  # spectral efficiency non-decreasing
        se = [m.spectral_efficiency for m in t]
        assert se == sorted(se)


def test_tables_match_sionna():
    pytest.importorskip("sionna")
    from sionna.phy.nr.utils import decode_mcs_index

    for t in (1, 2, 3):
        for m in mcs_table(t):
            qm, r = decode_mcs_index(m.index, table_index=t, is_pusch=False)
            assert int(qm) == m.num_bits_per_symbol
            assert float(r) == pytest.approx(m.coderate, abs=1e-6)


def test_named_sets():
    assert [(m.num_bits_per_symbol, m.coderate) for m in TOKENCOM_INTENDED] == [(2, 1 / 3), (2, 1 / 2)]
    assert [(m.num_bits_per_symbol, round(m.coderate, 4)) for m in TOKENCOM_NONINTENDED] == [
        (2, 0.3333), (2, 0.5), (4, 0.5), (4, 0.75)]
    # Resi-VidTok Table I: SNR -> (rate, Qm) as printed in the paper
    printed = {-2: (0.245, 2), 0: (0.301, 2), 2: (0.514, 2), 4: (0.663, 2), 6: (0.424, 4), 8: (0.540, 4),
               10: (0.643, 4)}
    for snr, (r, qm) in printed.items():
        m = RESIVID_TABLE_I[float(snr)]
        assert m.num_bits_per_symbol == qm and m.coderate == pytest.approx(r, abs=1e-3)
    assert len(named_set("tokencom-nonintended")) == 4
    with pytest.raises(InputError):
        named_set("nope")


def test_bad_inputs():
    with pytest.raises(InputError):
        mcs_table(4)
    with pytest.raises(InputError):
        get_mcs(29, 1)
    assert parse_modulation("16QAM") == 4 and parse_modulation("qpsk") == 2
    with pytest.raises(InputError):
        parse_modulation("8psk")
