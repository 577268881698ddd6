"""Does the pinned aarch64 onnxruntime wheel import and score when cpuinfo cannot
read /sys/devices/system/cpu (onnxruntime#10038, a crash at import on arm64
Lambda)? `make arm64-check`; needs root (apt-get, unshare, mount) and Debian.

An aarch64 Python (Debian's arm64 packages, unpacked, not installed) runs the
pinned aarch64 wheels under qemu-user, in a mount namespace where
/sys/devices/system/cpu is an empty tmpfs. qemu-user 7.2 passes the host's x86
/proc/cpuinfo through, which no Graviton shows, so an ARM one (Neoverse N1, as
on Graviton2) is bound over it in the same namespace. The model scores the
first rows of a CSV there and natively on x86_64; the answers must agree.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVING_PINS = ROOT / "lambda_fn" / "requirements.txt"
# What onnxruntime and numpy import; the rest of the serving pins is pure Python
# or not on the scoring path.
WHEELS = ("numpy", "onnxruntime", "flatbuffers", "packaging", "protobuf")
PYTHON = "3.11"  # bookworm's; the Lambda base has 3.12, the wheels are built alike
DEBS = (
    f"python{PYTHON}-minimal libpython{PYTHON}-minimal libpython{PYTHON}-stdlib libc6 "
    "libexpat1 zlib1g libffi8 libssl3 libbz2-1.0 liblzma5 libgcc-s1 libstdc++6 libuuid1 "
    "libsqlite3-0 libncursesw6 libtinfo6 libreadline8 libcrypt1"
).split()
CPUINFO = "".join(
    f"processor\t: {i}\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd evtstrm aes pmull sha1 "
    "sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs\n"
    "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\n"
    "CPU revision\t: 1\n\n"
    for i in range(2)
)
# Run by both Pythons: load the model as serving does and score the rows.
SCORE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import onnxruntime
from contract.feeds import column_feed
from lambda_fn.model import Model
model = Model.load(sys.argv[2], None)
rows = json.load(open(sys.argv[3]))
feeds = {f.name: column_feed(f.kind, [r[f.name] for r in rows]) for f in model.schema.features}
probability, label = model.predict(feeds)
print(json.dumps({"onnxruntime": onnxruntime.__version__,
                  "probability": [float(p) for p in probability],
                  "label": [int(k) for k in label]}))
"""


def pins() -> dict[str, str]:
    found = {}
    for line in SERVING_PINS.read_text().splitlines():
        name, sep, version = line.partition("==")
        if sep and not line.startswith("#"):
            found[name.strip().lower()] = version.strip()
    return found


def tool(name: str) -> str:
    """A system tool by its full path (the check needs Debian's)."""
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"error: {name} not found; the check needs Debian (apt, dpkg, util-linux)")
    return found


def fetch(cache: Path) -> tuple[Path, Path]:
    """Unpack Debian's arm64 Python and the pinned aarch64 wheels into cache."""
    sysroot, site = cache / "sysroot", cache / "site"
    if (sysroot / "usr" / "bin" / f"python{PYTHON}").exists() and site.exists():
        return sysroot, site
    debs, wheels = cache / "debs", cache / "wheels"
    for folder in (debs, wheels, sysroot, site):
        folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([tool("dpkg"), "--add-architecture", "arm64"], check=True)
    subprocess.run([tool("apt-get"), "update", "-qq"], check=True)
    subprocess.run(
        [tool("apt-get"), "download", *[f"{d}:arm64" for d in DEBS]], cwd=debs, check=True
    )
    pinned = pins()
    specs = [f"{name}=={pinned[name]}" for name in WHEELS]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--platform", "manylinux_2_28_aarch64", "--platform", "manylinux2014_aarch64",
         "--python-version", PYTHON, "--implementation", "cp", "-d", str(wheels), *specs],
        check=True,
    )  # fmt: skip
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run([tool("dpkg-deb"), "-x", str(deb), str(sysroot)], check=True)
    for wheel in sorted(wheels.glob("*.whl")):
        shutil.unpack_archive(str(wheel), str(site), "zip")
    return sysroot, site


def rows_from_csv(path: Path, count: int) -> list[dict]:
    import csv

    with open(path, newline="") as fh:
        return [row for _, row in zip(range(count), csv.DictReader(fh), strict=False)]


def run_arm64(sysroot: Path, site: Path, args: list[str], hide_sys: bool) -> dict:
    """The scoring script under qemu-aarch64 in its own mount namespace."""
    qemu = tool("qemu-aarch64-static")
    with tempfile.TemporaryDirectory() as tmp:
        cpuinfo = Path(tmp) / "cpuinfo"
        cpuinfo.write_text(CPUINFO)
        mounts = f"mount --bind {cpuinfo} /proc/cpuinfo"
        if hide_sys:
            mounts += " && mount -t tmpfs none /sys/devices/system/cpu"
        command = " ".join([qemu, str(sysroot / "usr" / "bin" / f"python{PYTHON}"), "-c", '"$0"'])
        env = {**os.environ, "QEMU_LD_PREFIX": str(sysroot), "PYTHONPATH": str(site)}
        done = subprocess.run(
            [tool("unshare"), "-m", tool("sh"), "-c", f"{mounts} && ls -A /sys/devices/system/cpu | wc -l "
             f"1>&2 && exec {command} \"$@\"", SCORE, *args],
            capture_output=True, text=True, env=env, timeout=900,
        )  # fmt: skip
    return {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "artifacts" / "model.onnx")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "marketing_data.csv")
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--json", type=Path, default=ROOT / "docs" / "arm64-check.json")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "arm64-check")
    args = parser.parse_args(argv)
    for path in (args.model, args.data):
        if not path.is_file():
            print(f"error: {path} not found", file=sys.stderr)
            return 2
    if os.geteuid() != 0:
        print("error: the check needs root (apt-get, unshare -m, mount)", file=sys.stderr)
        return 2
    try:
        sysroot, site = fetch(args.cache)
    except subprocess.CalledProcessError as exc:
        print(
            f"error: {' '.join(map(str, exc.cmd[:3]))} failed (exit {exc.returncode})",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        rows = Path(tmp) / "rows.json"
        rows.write_text(json.dumps(rows_from_csv(args.data, args.rows)))
        score_args = [str(ROOT), str(args.model), str(rows)]
        native = subprocess.run(
            [sys.executable, "-c", SCORE, *score_args], capture_output=True, text=True, check=True
        )
        x86 = json.loads(native.stdout)
        arm = run_arm64(sysroot, site, score_args, hide_sys=True)
    if arm["returncode"] != 0:
        print(f"arm64: FAILED (exit {arm['returncode']})\n{arm['stderr'][-2000:]}")
        return 1
    result = json.loads(arm["stdout"].strip().splitlines()[-1])
    hidden = arm["stderr"].splitlines()[0].strip()
    diff = max(abs(a - b) for a, b in zip(result["probability"], x86["probability"], strict=True))
    same_labels = result["label"] == x86["label"]
    print(f"aarch64 onnxruntime {result['onnxruntime']} under qemu-user, Python {PYTHON}, "
          f"/sys/devices/system/cpu hidden ({hidden} entries visible)")  # fmt: skip
    for line in arm["stderr"].splitlines()[1:]:
        print(f"  stderr: {line}")
    print(f"{len(result['label'])} rows scored: labels equal to x86_64: {same_labels}, "
          f"largest probability difference {diff:.3g}")  # fmt: skip
    ok = same_labels and diff <= 1e-6
    record = {
        "passed": ok,
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "onnxruntime": result["onnxruntime"],
        "python": PYTHON,
        "rows": len(result["label"]),
        "labels_equal": same_labels,
        "max_probability_difference": diff,
        "sys_devices_system_cpu_entries": int(hidden),
    }
    args.json.write_text(json.dumps(record, indent=1) + "\n")
    print("arm64: PASSED" if ok else "arm64: FAILED (answers differ from x86_64)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
