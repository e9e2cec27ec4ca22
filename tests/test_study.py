"""The shipped exploratory study (scenarios/studies/corridor_2026.yaml, issue 22 item 4).

Its Latin hypercube must cover every range it claims (one point in each of N equal strata of
each continuous input, each listed value as often as its share) and come back bit for bit
from its seed; a tiny version of it (8 points, 90 days, the choice off so that no demand
year is solved) must run end to end through the sweep path, resume after a loss with the
same bytes, and give PRIM boxes that ``corridor discover`` and ``corridor study-report``
print. The full study is `make study` (half an hour; docs/study.md).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from sim.analysis.discovery import point_means
from sim.cli.app import app
from sim.errors import ConfigError
from sim.executors import make_executor
from sim.store.crossings import crossing_rows
from sim.store.sweeps import read_runs, table_digest
from sim.sweep.plan import SweepRequest, plan_sweep
from sim.sweep.runner import run_sweep
from sim.sweep.spec import design
from sim.sweep.sweep_file import read_sweep_file

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "scenarios" / "studies" / "corridor_2026.yaml"
BREST_BACKLOG = "node:brest:recovery_days"
TINY = (
    "run.horizon_days=90",
    "history.params=null",  # no fitted choice: the flows as written (2023's), seconds not minutes
)
TINY_VARY = ("events.poland_closure.start=0:40",)  # every closure inside the 90 days


def tiny_study_file(folder: Path) -> Path:
    """The study's file without its demand quantile (which needs the demand ensemble that
    TINY turns off), its relative paths made absolute."""
    text = STUDY.read_text()
    text = text.replace(
        "scenario: corridor_2026_base.yaml", f"scenario: {STUDY.parent}/corridor_2026_base.yaml"
    )
    text = text.replace("file: ../../params/", f"file: {ROOT}/params/")
    kept = [line for line in text.splitlines() if not line.startswith("demand_quantile:")]
    assert len(kept) == len(text.splitlines()) - 1  # the study samples the demand's quantile
    path = folder / "tiny_study.yaml"
    path.write_text("\n".join(kept) + "\n")
    return path


def test_the_study_is_an_lhs_of_500_plus_points_over_the_named_uncertainties() -> None:
    sweep, params = read_sweep_file(STUDY)
    assert sweep.sampler == "lhs" and sweep.samples is not None and sweep.samples >= 500
    names = {p.path for p in params}
    for needed in (
        "history.sea.rate_usd_per_feu",
        "history.closures.red_sea.enabled",
        "history.rail.sanctions_from",
        "events.malaszewicze_expansion.enabled",
        "events.second_track.enabled",
        "closure_days",
        "demand_quantile",
    ):
        assert needed in names
    assert sweep.border_posterior is not None  # the border: the posterior's joint draws
    assert sweep.study is not None and len(sweep.study.questions) == 3


@pytest.mark.parametrize("samples", [64, 96])
def test_the_lhs_design_stratifies_every_range_and_is_reproducible(samples: int) -> None:
    _, params = read_sweep_file(STUDY)
    points = design(params, "lhs", samples, 2026)
    assert design(params, "lhs", samples, 2026) == points  # the seed gives the same design
    assert design(params, "lhs", samples, 2027) != points
    for j, p in enumerate(params):
        column = [row[j] for row in points]
        if p.discrete:
            counts = Counter(column)
            assert set(counts) == set(p.values)  # every listed value is drawn …
            assert max(counts.values()) - min(counts.values()) <= 1  # … as often as the others
        else:
            u = (np.asarray(column, dtype=float) - p.low) / (p.high - p.low)
            strata = np.floor(u * samples).astype(int)
            # Latin hypercube: exactly one point in each of the N equal strata of the range
            assert sorted(strata.tolist()) == list(range(samples)), p.path


def test_derived_fields_follow_the_sampled_inputs(tmp_path: Path) -> None:
    """The closure ends closure_days after it starts."""
    plan = plan_sweep(SweepRequest(tiny_study_file(tmp_path), samples=4, overrides=TINY))
    names = [p.path for p in plan.parameters]
    from sim.sweep.points import point_scenario

    for values in plan.points:
        col = dict(zip(names, values, strict=True))
        s = point_scenario(
            plan.base, plan.parameters, values, derived=plan.derived, border=plan.border
        )
        closure = s.events["poland_closure"]
        assert float(closure.end) - float(closure.start) == pytest.approx(col["closure_days"])


def test_each_point_takes_one_joint_draw_of_the_border_posterior(tmp_path: Path) -> None:
    """200 points over the posterior's 200 draws take each draw once (the hypercube
    stratifies the index); a point's Brest traffic is the draw's, as `run --draws` writes
    it, and the points table carries the draw's g and λ (not its index, nor h, which acts on
    no 2026 run)."""
    from sim.config.border_posterior import load_border_posterior, overrides_for
    from sim.sweep.plan import points_table
    from sim.sweep.points import point_scenario
    from sim.sweep.posterior import DRAW_INPUT

    plan = plan_sweep(SweepRequest(tiny_study_file(tmp_path), samples=200, overrides=TINY))
    assert plan.border is not None
    posterior = load_border_posterior(ROOT / "params" / "border_posterior.yaml")
    j = [p.path for p in plan.parameters].index(DRAW_INPUT)
    draws = [int(values[j]) for values in plan.points]
    assert sorted(draws) == list(range(posterior.size))
    table = points_table(plan)
    assert DRAW_INPUT not in table.column_names and "border_h" not in table.column_names
    assert table["border_g"].to_pylist() == [posterior.draws["g"][k] for k in draws]
    assert table["border_lambda"].to_pylist() == [posterior.draws["lambda"][k] for k in draws]
    g, lam = np.asarray(table["border_g"]), np.asarray(table["border_lambda"])
    assert np.corrcoef(g, lam)[0, 1] > 0.7  # joint draws keep the posterior's correlation
    for i in (0, 57, 199):
        s = point_scenario(
            plan.base, plan.parameters, plan.points[i], derived=plan.derived, border=plan.border
        )
        wanted = overrides_for(posterior.draw(draws[i]), plan.base_scenario)
        west = s.flows["other-brest-west"]
        assert west.gives_way is not None and west.load is not None
        assert (
            west.gives_way.per_china_eu_train
            == wanted["flows.other-brest-west.gives_way.per_china_eu_train"]
        )
        last = len(west.load) - 1
        key = f"flows.other-brest-west.load.{last}.trains_per_day"
        assert west.load[last].trains_per_day == pytest.approx(wanted[key])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "parameters_extra:\n  flows.other-brest-west.gives_way.per_china_eu_train: '0.8:1'\n",
            "is written by the border posterior's draws",
        ),
        ("border_posterior: {file: nowhere.yaml}\n", "no such file"),
        ("border_posterior: {file: BP, columns: [g, mu]}\n", "mu: not one of g, lambda, h"),
        ("inputs:\n  border_g: '0:1'\n", "is the border posterior's column"),
    ],
)
def test_a_border_posterior_sweep_refuses_what_would_be_ambiguous(
    tmp_path: Path, extra: str, message: str
) -> None:
    posterior = ROOT / "params" / "border_posterior.yaml"
    block = "" if "border_posterior:" in extra else f"border_posterior: {{file: {posterior}}}\n"
    params = "parameters:\n  events.poland_closure.start: '0:40'\n"
    if extra.startswith("parameters_extra:"):
        params += extra.removeprefix("parameters_extra:\n")
        extra = ""
    text = (
        f"scenario: {STUDY.parent / 'corridor_2026_base.yaml'}\nsampler: lhs\nsamples: 4\n"
        + params
        + block
        + extra.replace("BP", str(posterior))
    )
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        plan_sweep(SweepRequest(path, overrides=TINY))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("derived:\n  events.poland_closure.end: {of: [nowhere]}\n", "'nowhere' is not a param"),
        ("inputs:\n  Closure.Days: '3:21'\n", "lower_snake_case"),
        ("inputs:\n  closure_days: '21:3'\n", "needs low < high"),
        (
            "  events.second_track.enabled: [true, false]\n"
            "derived:\n  events.poland_closure.end: {of: [events.second_track.enabled]}\n",
            "is not a number",
        ),
    ],
)
def test_bad_inputs_and_derived_fields_are_one_line_errors(
    tmp_path: Path, extra: str, message: str
) -> None:
    text = (
        f"scenario: {STUDY.parent / 'corridor_2026_base.yaml'}\nsampler: lhs\nsamples: 4\n"
        "parameters:\n  events.poland_closure.start: '0:40'\n" + extra
    )
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        read_sweep_file(path)
    assert "\n" not in str(caught.value)


def test_the_busiest_crossing_is_the_largest_border_utilisation_per_run() -> None:
    rows = pa.table(
        {
            "point": [0, 0, 0, 1, 1, 1],
            "replication": [0, 0, 0, 0, 0, 0],
            "scope": ["node"] * 6,
            "name": ["brest", "dostyk", "minsk", "brest", "dostyk", "minsk"],
            "kpi": ["utilisation"] * 6,
            "value": [0.4, 0.93, 0.99, 0.7, float("nan"), 0.2],
        }
    )
    got = crossing_rows(rows, ("brest", "dostyk"), ("point", "replication"))
    # minsk is no crossing (0.99 ignored); a NaN crossing does not hide the other one
    assert got["value"].to_pylist() == [0.93, 0.7]


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("study")
    out = folder / "tiny"
    request = SweepRequest(
        tiny_study_file(folder),
        overrides=TINY,
        vary=TINY_VARY,
        samples=8,
        workers=1,
        chunk_size=1,
        out=out,
    )
    plan = plan_sweep(request)
    summary = run_sweep(plan, out, make_executor(1, None))
    assert summary.runs_this_session == 8 and summary.failures_total == 0
    return out


def test_the_tiny_study_resumes_after_a_loss_with_the_same_bytes(tiny_study: Path) -> None:
    whole = table_digest(read_runs(tiny_study))
    lost = sorted((tiny_study / "runs").glob("part-*.parquet"))[2:5]  # as if killed before them
    for part in lost:
        part.unlink()
    request = SweepRequest(
        tiny_study.parent / "tiny_study.yaml",
        overrides=TINY,
        vary=TINY_VARY,
        samples=8,
        chunk_size=1,
        out=tiny_study,
    )
    summary = run_sweep(plan_sweep(request), tiny_study, make_executor(1, None), resume=True)
    assert summary.runs_before == 5 and summary.runs_this_session == 3
    assert table_digest(read_runs(tiny_study)) == whole


def test_discover_and_the_study_report_print_boxes_for_the_tiny_study(
    tiny_study: Path, tmp_path: Path
) -> None:
    _, backlog = point_means(tiny_study, BREST_BACKLOG)
    # a threshold between the points' values, so that some points pass it and some do not
    threshold = float(np.median(backlog))
    args = ["discover", str(tiny_study), BREST_BACKLOG, "--above", f"{threshold:.6g}"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "d.png")])
    assert result.exit_code == 0, result.output
    assert " when " in result.output and "coverage" in result.output and "density" in result.output
    page = tmp_path / "study.html"
    args = [
        "study-report",
        str(tiny_study),
        "--out",
        str(page),
        "--figure",
        str(tmp_path / "f.png"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    html = page.read_text()
    # the page leads with the questions' answers in words, before any figure
    assert html.index("Where the corridor breaks") < html.index("<img")
    assert "Brest&#39;s backlog takes &gt; 7 days to clear" in html
    assert (tmp_path / "f.png").stat().st_size > 0
