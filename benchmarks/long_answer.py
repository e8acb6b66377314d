"""A long Markdown answer shaped like a coding assistant's, for the TUI streaming benchmark.

Sections repeat the shape of a real review answer: a heading, a paragraph with inline code,
emphasis and a link, a bullet list, a highlighted Python code fence, now and then a table, and a
closing paragraph. Every part is something the answer pane must render (Markdown, code
highlighting, links), so the benchmark pays what a real answer costs, not what plain words cost.
"""

from __future__ import annotations

#: the scripted server counts 4 characters as one token
CHARS_PER_TOKEN = 4


def _code(n: int) -> str:
    return (
        "```python\n"
        f"def op_{n}(values: list[float], scale: float = {n % 7 + 1}.0) -> float:\n"
        f'    """Scale and sum ``values`` (variant {n})."""\n'
        "    total = 0.0\n"
        "    for index, value in enumerate(values):\n"
        "        if value < 0:\n"
        f"            raise ValueError(f'negative value at {{index}}: {{value!r}}')\n"
        "        total += value\n"
        "    return total * scale\n"
        "\n"
        "\n"
        f"class Accumulator{n}:\n"
        '    """Keeps a running total between calls."""\n'
        "\n"
        "    def __init__(self) -> None:\n"
        "        self.items: dict[str, float] = {}\n"
        "\n"
        "    def add(self, key: str, value: float) -> None:\n"
        "        self.items[key] = self.items.get(key, 0.0) + value\n"
        "```\n"
    )


def _table(n: int) -> str:
    rows = "".join(
        f"| `op_{n}_{i}` | {i * 3 + n % 5} | {'yes' if i % 2 else 'no'} |\n" for i in range(4)
    )
    return f"| function | calls | tested |\n|---|---|---|\n{rows}"


def _section(n: int) -> str:
    words = " ".join(f"word{(n * 7 + i) % 97}" for i in range(45))
    parts = [
        f"## {n + 1}. `calc/mod{n % 8}.py`: `op_{n}`\n",
        f"I read [`calc/mod{n % 8}.py`](https://example.invalid/calc/mod{n % 8}.py#L{n + 10}) "
        f"and its test. The bug is in `op_{n}`: it **scales before summing**, while "
        f"`test_op_{n}` expects the *sum first*. {words}.\n",
        f"- `op_{n}` is called from `report()` and `summary()`\n"
        f"- the fix keeps the signature, so callers are unchanged\n"
        f"- see the [test log](https://example.invalid/ci/{n}) for the failing case\n",
        _code(n),
    ]
    if n % 3 == 2:
        parts.append(_table(n))
    parts.append(f"After the change `python -m unittest` passes for module {n % 8}. {words}.\n")
    return "\n".join(parts)


def long_answer(tokens: int) -> str:
    """A Markdown answer of about ``tokens`` tokens (whole sections; at least one)."""
    text, n = "", 0
    while n == 0 or len(text) < tokens * CHARS_PER_TOKEN:
        text += _section(n) + "\n"
        n += 1
    return text
