"""The bundled themes ship with the package: a wheel in a fresh venv and the source tree both
find them (they live in the repository's top-level ``themes/``, mapped by setup.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from codeagent.tui.themes import bundled_themes_dir, load_themes

REPO = Path(__file__).resolve().parent.parent
BUNDLED = {"dark", "light", "high-contrast", "solarized"}
LIST_THEMES = (
    "import codeagent.tui.themes as t; "
    "print(t.bundled_themes_dir()); print(' '.join(sorted(x.name for x in t.load_themes())))"
)


def test_the_source_tree_finds_the_top_level_themes_folder():
    assert bundled_themes_dir() == REPO / "themes"
    assert not (REPO / "codeagent" / "themes").exists()  # moved, not copied
    assert {theme.name for theme in load_themes()} >= BUNDLED


@pytest.mark.timeout(600)
def test_a_wheel_installed_in_a_fresh_venv_finds_the_themes(tmp_path: Path):
    # Build from a copy: an in-tree build would write build/ into the shared working tree.
    source = tmp_path / "source"
    junk = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("codeagent", "themes"):
        shutil.copytree(REPO / name, source / name, ignore=junk)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(wheels)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("codeagent-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "--no-deps", str(wheel)], check=True, capture_output=True)
    subprocess.run([*pip, "textual", "pydantic"], check=True, capture_output=True)
    # Run outside the repository, so only the installed package can be imported.
    out = subprocess.run(
        [str(python), "-I", "-c", LIST_THEMES],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert out[0] == str(
        env_dir
        / "lib"
        / f"python{sys.version_info.major}.{sys.version_info.minor}"
        / "site-packages"
        / "codeagent"
        / "themes"
    )
    assert set(out[1].split()) == BUNDLED
