"""The agent: conversation state, the turn loop, tools and approvals. Imports no Textual.

The package's face: ``loop.Agent`` (what the TUI and ``exec`` drive), ``events`` (what it yields),
``approvals`` (the ``Approver`` a front end implements), ``status`` and ``metrics`` (the figures
it owns). Behind it: ``conversation`` (history and the call loop), ``tool_runner`` (one tool call
from approval to output), ``policy``, ``tool_calls``, ``assembly``, ``instructions``, ``tools/``
and ``mcp/``. Modules whose names start with ``_`` are helpers of exactly one of those.
"""
