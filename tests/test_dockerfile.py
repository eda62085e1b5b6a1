"""The image's own build steps, run here without a container engine: every `RUN` of the Dockerfile in
a scratch copy of what `COPY` would take (the .dockerignore applied) and a scratch virtualenv. A
step that breaks the image (a package the base image's Debian lacks, an app missing from the
package list, a collectstatic that fails with the manifest storage) fails here."""

import fnmatch
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()

pytestmark = pytest.mark.slow  # tests/README.md: other processes


def _steps():
    """The Dockerfile's instructions, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.split(None, 1) for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _ignored(relative):
    patterns = [p.strip().rstrip("/") for p in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [p for p in patterns if p and not p.startswith("#")]
    parts = relative.parts
    return any(
        fnmatch.fnmatch(str(relative), p.removeprefix("**/"))
        or any(fnmatch.fnmatch(part, p.removeprefix("**/")) for part in parts)
        for p in patterns
    )


def _copy_context(target):
    """The build context as the engine sends it: the tree git knows, less .dockerignore's patterns."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    for name in files:
        relative = Path(name)
        if (ROOT / relative).is_file() and not _ignored(relative):
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / relative, target / relative)


def test_the_base_image_is_pinned_to_the_debian_its_packages_come_from():
    base = next(arg for op, arg in _steps() if op == "FROM")
    assert re.fullmatch(r"python:3\.11-slim-(bookworm|trixie)", base.strip()), base
    apt = next(arg for op, arg in _steps() if op == "RUN" and "apt-get install" in arg)
    codename = base.strip().rsplit("-", 1)[1]
    machine = dict(
        line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line
    )
    if machine.get("VERSION_CODENAME") != codename or not shutil.which("apt-cache"):
        pytest.skip(f"this machine is not Debian {codename}: its package lists cannot answer")
    packages = [w for w in apt.split("apt-get install", 1)[1].split("&&")[0].split() if not w.startswith("-")]
    for package in packages:
        policy = subprocess.run(["apt-cache", "policy", package], capture_output=True, text=True).stdout
        assert "Candidate:" in policy and "Candidate: (none)" not in policy, f"{package} not in {codename}"


def test_the_dockerignore_keeps_secrets_and_data_out():
    for name in (".env", ".git/config", ".venv/bin/python", "backups/aura-1.tar.gz", "media/plants/a.jpg"):
        assert _ignored(Path(name)), name
    assert _ignored(Path("portal/__pycache__/x.pyc")) and not _ignored(Path("portal/settings.py"))


def test_the_python_steps_build_an_image_that_serves_hashed_static_files(tmp_path):
    """`pip install .` then collectstatic, as the Dockerfile runs them, outside this tree."""
    context, venv = tmp_path / "app", tmp_path / "venv"
    context.mkdir()
    _copy_context(context)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # The dependencies this run already has (no network): a .pth to them; the project itself is
    # installed by the step, from the copy.
    site = Path(subprocess.run(
        [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip())  # fmt: skip
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # The venv's bundled setuptools predates PEP 639 licences; the build backend is the one we pin.
    subprocess.run([venv / "bin" / "pip", "uninstall", "-q", "-y", "setuptools"], check=True)
    # The image's environment: its ENV lines only, none of this test run's settings.
    image_env = dict(pair.split("=", 1) for op, arg in _steps() if op == "ENV" for pair in arg.split())
    env = {
        **image_env,
        "HOME": str(tmp_path),
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "PIP_NO_BUILD_ISOLATION": "0",  # pip's inverted switch: the build backend from the .pth
        "PIP_NO_INDEX": "1",
    }
    for op, command in _steps():
        if op != "RUN" or "apt-get" in command:
            continue
        result = subprocess.run(command, shell=True, cwd=context, env=env, capture_output=True, text=True)
        assert result.returncode == 0, f"RUN {command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    apps = "portal, core, accounts, plants, devices, alarms, energy, monitoring, privacy"
    imports = f"import {apps}; print(energy.__file__)"
    installed = subprocess.run(
        [venv / "bin" / "python", "-c", imports],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert installed.returncode == 0 and str(site) in installed.stdout, installed.stderr
    manifest = context / "staticfiles" / "staticfiles.json"
    assert manifest.is_file()
    hashed = (context / "staticfiles" / "vendor").iterdir()
    assert any(re.fullmatch(r"chart\.umd\.min\.[0-9a-f]{12}\.js", p.name) for p in hashed)
