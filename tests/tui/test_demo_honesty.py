"""The scripted demo never claims a fix that was rejected or interrupted.

The demo's last answer said "Fixed ... all tests pass" even when the user had rejected the patch
or interrupted the turn before it applied. It now depends on the patch's recorded outcome.
"""

from __future__ import annotations

from codeagent.server import items as conv
from codeagent.server.demo import FINAL_MESSAGE, FOLLOW_UP, NOT_FIXED, demo_script


def _conversation(patch_status: str | None, *, steps_after: int) -> list[dict]:
    """A user message, the model's patch call (with ``patch_status``), then filler turns."""
    items: list[dict] = [conv.user_message("fix the failing fizz_buzz test")]
    if patch_status is not None:
        items.append(
            {
                "type": "apply_patch_call",
                "call_id": "call_fix",
                "status": "completed",
                "operation": {"type": "update_file", "path": "fizzbuzz/core.py", "diff": ""},
            }
        )
        items.append(
            {"type": "apply_patch_call_output", "call_id": "call_fix", "status": patch_status}
        )
    for n in range(steps_after):
        items.append({"type": "function_call", "call_id": f"c{n}", "name": "x", "arguments": "{}"})
        items.append({"type": "function_call_output", "call_id": f"c{n}", "output": "ok"})
    return items


def _text(step) -> str:
    return " ".join(item.data.get("text", "") for item in step.items)


def test_the_closing_summary_depends_on_the_fix_having_applied() -> None:
    script = demo_script(0.0, None)
    last = len(script.episodes[0].steps) - 1
    # responses since the user message = model items; pad with filler calls up to the last step
    applied = _conversation("completed", steps_after=last - 1)
    rejected = _conversation("failed", steps_after=last - 1)
    assert conv.responses_since_last_user(applied) == last
    assert _text(script.choose(applied)) == FINAL_MESSAGE
    assert _text(script.choose(rejected)) == NOT_FIXED


def test_a_follow_up_after_an_interrupted_fix_does_not_claim_success() -> None:
    script = demo_script(0.0, None)
    interrupted = [*_conversation("failed", steps_after=1), conv.user_message("did it work?")]
    never_patched = [*_conversation(None, steps_after=2), conv.user_message("and now?")]
    fixed = [*_conversation("completed", steps_after=1), conv.user_message("thanks")]
    assert _text(script.choose(interrupted)) == NOT_FIXED
    assert _text(script.choose(never_patched)) == NOT_FIXED
    assert _text(script.choose(fixed)) == FOLLOW_UP
