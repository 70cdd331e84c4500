"""tokcom.devices: one check for every --device, a one-line error instead of a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tokcom.devices import check_device, check_device_name, resolve_device
from tokcom.errors import InputError


@pytest.mark.parametrize("name, want", [(None, "cpu"), ("cpu", "cpu"), (" CPU ", "cpu"), ("cuda", "cuda"),
                                        ("cuda:1", "cuda:1")])
def test_names_accepted(name, want):
    assert check_device_name(name) == want


# ids by position: a bare "gpu" id would become a keyword that conftest reads as "needs CUDA"
@pytest.mark.parametrize("name", ["gpu", "tpu", "", "cuda:", "cuda:x", "cpu:0", "mps"], ids=lambda n: f"bad-{len(n)}")
def test_names_refused(name):
    with pytest.raises(InputError, match="--device must be"):
        check_device_name(name)


def test_check_cpu_does_not_import_torch():
    code = "import sys; from tokcom.devices import check_device; check_device('cpu'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_cuda_without_cuda_is_one_line():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        n = torch.cuda.device_count()
        assert resolve_device("cuda").type == "cuda"
        with pytest.raises(InputError, match="CUDA device"):
            resolve_device(f"cuda:{n}")
        return
    for call in (resolve_device, check_device):
        with pytest.raises(InputError, match="CUDA is not available") as e:
            call("cuda")
        assert "\n" not in str(e.value)
    assert resolve_device(torch.device("cpu")).type == "cpu"


def test_run_cli_refuses_bad_device(tmp_path):
    """`tokcom run --device …` exits 2 with one line before any video is read or model is built."""
    from tokcom.cli.app import main

    missing = str(tmp_path / "none.mp4")
    assert main(["run", "--scheme", "h264", "--input", missing, "--device", "gpu", "--cbr", "0.01"]) == 2
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        assert main(["run", "--scheme", "pvsc", "--input", missing, "--device", "cuda"]) == 2
