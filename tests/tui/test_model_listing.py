"""``/model``: the catalog with prices, and what switching to a retired model means."""

from __future__ import annotations

from tests.tui.test_app_commands import command
from tests.tui.test_app_flows import SIZE


async def test_model_lists_the_catalog_with_prices_and_warns_on_switch(make_app) -> None:
    app = make_app(model="gpt-6-astra")
    async with app.run_test(size=SIZE) as pilot:
        listing = await command(pilot, app, "/model")
        assert "Model: gpt-6-astra" in listing
        assert "$10.00 / $1.00 / $50.00" in listing and "gpt-6.2-sol" in listing
        assert "shuts down 2026-12-11" in listing  # gpt-5 is listed as deprecated
        assert "Shut down: gpt-5.1-codex" in listing
        switched = await command(pilot, app, "/model gpt-5")
        assert "Model set to gpt-5" in switched
        assert "deprecated and shuts down on 2026-12-11; use gpt-6.1-sol instead" in switched
        unknown = await command(pilot, app, "/model my-local")
        assert "not in the model catalog" in unknown


async def test_a_deprecated_model_is_named_on_the_first_screen(make_app) -> None:
    from tests.tui.conftest import until
    from tests.tui.test_app_flows import notices

    app = make_app(model="gpt-5")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: notices(app, "warning"), "deprecation warning")
        assert "gpt-5 is deprecated and shuts down on 2026-12-11" in notices(app, "warning")[0]
        assert "use gpt-6.1-sol instead" in notices(app, "warning")[0]
        await until(pilot, lambda: app.agent.model_check.started, "check started")
