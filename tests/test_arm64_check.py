"""`make arm64-check` tests the wheels the image installs, and refuses without root."""

from __future__ import annotations

import os

import pytest

from scripts import arm64_check


def test_the_check_downloads_the_serving_pins():
    pins = arm64_check.pins()
    assert set(arm64_check.WHEELS) <= set(pins)
    requirements = arm64_check.SERVING_PINS.read_text()
    for name in arm64_check.WHEELS:
        assert f"{name}=={pins[name]}" in requirements.lower()


def test_the_fake_cpuinfo_describes_arm_cores():
    blocks = [b for b in arm64_check.CPUINFO.split("\n\n") if b]
    assert len(blocks) == 2 and all("CPU implementer\t: 0x41" in b for b in blocks)


@pytest.mark.skipif(os.geteuid() == 0, reason="runs as root here")
def test_without_root_it_says_so(tmp_path, capsys):
    model, data = tmp_path / "m.onnx", tmp_path / "d.csv"
    model.write_bytes(b"x")
    data.write_text("a\n1\n")
    assert arm64_check.main(["--model", str(model), "--data", str(data)]) == 2
    assert "needs root" in capsys.readouterr().err
