"""The benchmark harness in smoke mode produces a report with every section.

No timing is asserted: only that each measurement either produced a table or says why not.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks.report import Section, Table, percentile, render_report  # noqa: E402
from benchmarks.run_all import GROUPS  # noqa: E402

TITLES = [title for titles, _ in GROUPS.values() for title in titles]


@pytest.mark.timeout(600)
def test_smoke_run_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "REPORT.md"
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run_all.py"), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=580,
    )
    assert proc.returncode == 0, proc.stderr
    report = out.read_text()
    assert "| Python |" in report and "| Cores (os.cpu_count) |" in report
    bodies = re.split(r"^## ", report, flags=re.M)[1:]
    by_title = {body.splitlines()[0]: body for body in bodies}
    assert list(by_title) == TITLES
    for title, body in by_title.items():
        has_table = "\n|---" in body
        assert has_table or "**Not measured:**" in body, f"section {title!r} is empty"


def test_skipped_section_states_its_reason() -> None:
    text = render_report("r", "h", [Section("x", "X", skipped="needs root for `ip netns`")])
    assert "**Not measured:** needs root for `ip netns`" in text


def test_table_escapes_pipes_and_pads_short_rows() -> None:
    table = Table("t", ["a", "b"])
    table.add("x|y")
    assert table.to_markdown().splitlines()[-1] == "| x\\|y |  |"


def test_percentile_interpolates() -> None:
    assert percentile([], 50) is None
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 95) == 5.0


def test_crashing_group_is_reported_with_its_reason(monkeypatch, capsys) -> None:
    from benchmarks import run_all

    def broken(name: str, smoke: bool, work_dir: object) -> list[Section]:
        raise RuntimeError("bubblewrap is not installed")

    monkeypatch.setattr(run_all, "_run_group", broken)
    assert run_all.child_main("git", smoke=True) == 0
    payload = capsys.readouterr().out.split("@@SECTIONS@@", 1)[1]
    sections = [run_all._section_from_dict(s) for s in __import__("json").loads(payload)]
    assert [s.title for s in sections] == list(GROUPS["git"][0])
    assert all("bubblewrap is not installed" in (s.skipped or "") for s in sections)


def test_group_that_overruns_its_limit_is_reported_not_dropped() -> None:
    from benchmarks import run_all

    sections = run_all.run_group_isolated("e2e", smoke=True, timeout=0.2)
    assert [s.title for s in sections] == list(GROUPS["e2e"][0])
    assert all("did not finish within 0 s" in (s.skipped or "") for s in sections)
