"""The update_plan function tool."""

from __future__ import annotations

import json

import pytest

from codeagent.agent.events import PlanStep
from codeagent.agent.tools.plan import MAX_STEPS, UPDATE_PLAN_TOOL, PlanError, parse_plan


def test_tool_schema_is_a_strict_function():
    assert UPDATE_PLAN_TOOL["type"] == "function" and UPDATE_PLAN_TOOL["name"] == "update_plan"
    params = UPDATE_PLAN_TOOL["parameters"]
    assert params["required"] == ["explanation", "plan"]
    status = params["properties"]["plan"]["items"]["properties"]["status"]
    assert status["enum"] == ["pending", "in_progress", "completed"]


def test_parses_steps_and_explanation():
    steps, explanation = parse_plan(
        json.dumps(
            {
                "explanation": " Found the bug. ",
                "plan": [
                    {"step": "Read the code", "status": "completed"},
                    {"step": "Fix fizz_buzz", "status": "in_progress"},
                    {"step": "Run the tests", "status": "pending"},
                ],
            }
        )
    )
    assert steps == [
        PlanStep("Read the code", "completed"),
        PlanStep("Fix fizz_buzz", "in_progress"),
        PlanStep("Run the tests", "pending"),
    ]
    assert explanation == "Found the bug."


def test_accepts_steps_alias_and_null_explanation():
    steps, explanation = parse_plan('{"steps": [{"step": "x"}], "explanation": null}')
    assert steps == [PlanStep("x", "pending")] and explanation == ""


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ("{nope", "not valid JSON"),
        ("[1]", "must be an object"),
        ("{}", "needs 'plan'"),
        ('{"plan": "do it"}', "needs 'plan'"),
        ('{"plan": ["x"]}', "plan step 1 must be an object"),
        ('{"plan": [{"step": ""}]}', "plan step 1 needs a non-empty 'step'"),
        ('{"plan": [{"step": "a", "status": "done"}]}', "status 'done'"),
        (
            '{"plan": [{"step": "a", "status": "in_progress"}, '
            '{"step": "b", "status": "in_progress"}]}',
            "2 steps are in_progress",
        ),
        ('{"plan": [], "explanation": 3}', "'explanation' must be a text"),
        (json.dumps({"plan": [{"step": str(i)} for i in range(MAX_STEPS + 1)]}), "at most"),
    ],
)
def test_bad_plans_are_explained(arguments, expected):
    with pytest.raises(PlanError) as info:
        parse_plan(arguments)
    assert expected in str(info.value)
