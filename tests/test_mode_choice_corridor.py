"""The mode choice on the shipped corridor: calibration holds, the Red Sea moves freight to rail."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.choice.fixed_point import ChoiceModel, solve
from sim.config.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
OBSERVED = {"baseline_2019": 333_000, "baseline_2023": 211_000}  # facts: V3, V7


@pytest.mark.slow
@pytest.mark.parametrize("name", ["baseline_2019", "baseline_2023"])
def test_shipped_constants_reproduce_the_observed_rail_volume(name: str) -> None:
    """With the calibrated constants in the baseline file, the choice at simulated rail
    times gives the observed rail TEU (within the file's tolerance) and the written split
    over exits and the Middle Corridor (within 10 %)."""
    s, _ = load_scenario(ROOT / "scenarios" / f"{name}.yaml", ["mode_choice.enabled=true"])
    mc = s.mode_choice
    assert mc is not None and mc.observed_rail_teu_per_year == OBSERVED[name]
    solution = solve(s, s.run.seed)
    assert solution.converged
    model = solution.model
    rail = model.rail_teu(solution.shares)
    assert rail == pytest.approx(OBSERVED[name], rel=mc.calibration_tolerance)
    chosen = model.option_teu(solution.shares).sum(axis=0)
    written = model.input_teu.sum(axis=0)
    simulated = model.simulated
    assert chosen[simulated] == pytest.approx(written[simulated], rel=0.1)


@pytest.mark.slow
def test_red_sea_moves_demand_to_rail_as_a_model_output() -> None:
    s, _ = load_scenario(
        ROOT / "scenarios" / "examples" / "red_sea_2024_static_choice.yaml",
        ["run.horizon_days=180", "mode_choice.replications_per_iteration=1"],
    )
    solution = solve(s, s.run.seed)
    model = solution.model
    assert solution.converged
    suez, cape = model.options.index("sea_suez"), model.options.index("sea_cape")
    teu = model.option_teu(solution.shares).sum(axis=0)
    assert teu[suez] == 0.0
    assert teu[cape] > 0.9 * model.demand_teu.sum()  # the nest keeps sea traffic on the sea
    chosen = model.rail_teu(solution.shares)
    assert chosen > 1.5 * model.input_teu.sum()  # more than the 2023 flows as written
    dostyk = model.options.index("rail_dostyk")
    assert (solution.days[:, dostyk] >= model.free_days[:, dostyk]).all()


def test_rail_share_rises_with_the_value_of_time_on_the_corridor() -> None:
    s, _ = load_scenario(ROOT / "scenarios" / "baseline_2023.yaml")
    model = ChoiceModel.build(s)
    assert (model.free_days[:, model.simulated] < 35).all()  # every rail option beats Suez
    shares = []
    for factor in (0.5, 1.0, 2.0):
        mc = s.mode_choice
        assert mc is not None
        classes = {
            k: c.model_copy(
                update={"value_of_time_usd_per_feu_day": c.value_of_time_usd_per_feu_day * factor}
            )
            for k, c in mc.classes.items()
        }
        scaled = mc.model_copy(update={"classes": classes})
        shares.append(model.rail_share(model.shares(model.free_days, scaled)))
    assert np.all(np.diff(shares) > 0)
