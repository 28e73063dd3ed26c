"""The package builds as a wheel that contains every module and the typing marker."""

import subprocess
import sys
import zipfile
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def test_wheel_builds_with_all_modules(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check",
         "-w", str(tmp_path), str(PACKAGE_DIR)],
        check=True,
    )
    wheels = list(tmp_path.glob("weir-*.whl"))
    assert len(wheels) == 1, f"expected one wheel, found {wheels}"
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    for module in ("__init__.py", "_client.py", "_errors.py", "_retry.py", "_streaming.py", "resources.py",
                   "types.py", "py.typed"):
        assert f"weir/{module}" in names, f"weir/{module} missing from {wheels[0].name}"
