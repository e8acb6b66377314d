"""Performance harness for codeagent: WebSocket vs HTTP end to end, client cost, TUI, git.

Run everything with ``.venv/bin/python benchmarks/run_all.py``; the report lands in
``benchmarks/results/REPORT.md``. Timings live here, never in ``tests/``.
"""
