"""`make arm64-check` tests the wheels the image installs, on ARM-looking cores."""

from __future__ import annotations

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
