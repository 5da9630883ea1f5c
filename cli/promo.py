"""``cust promo``: what-if threshold promotions (满减, 每满减, 满赠, lottery, points)."""

from pathlib import Path
from typing import Annotated

import typer

from .choices import Response
from .common import run
from .main import app
from .options import GlobalOptions, command

promo_app = typer.Typer(
    help="What a threshold promotion would cost and earn on your own orders.\n\n"
    "Example: cust promo compare --response fixed --uptake 0.2",
    no_args_is_help=True,
)
app.add_typer(promo_app, name="promo")


@command(promo_app, "simulate")
def simulate(
    g: GlobalOptions,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", "-x", help="Order value X from which the reward applies \\[default: "
        "5000; with --tiers, the lowest tier].", show_default=False)] = None,
    reward_amount: Annotated[float | None, typer.Option(
        "--reward-amount", help="满X减Y: Y off each qualifying order.",
        show_default=False)] = None,
    per_multiple: Annotated[bool, typer.Option(
        "--per-multiple", help="每满X减Y: Y off per full multiple of X.")] = False,
    reward_percent: Annotated[float | None, typer.Option(
        "--reward-percent", help="P percent off qualifying orders.", show_default=False)] = None,
    gift_cost: Annotated[float | None, typer.Option(
        "--gift-cost", help="满赠: a gift costing G (purchase cost) per qualifying order.",
        show_default=False)] = None,
    tiers: Annotated[str | None, typer.Option(
        "--tiers", help="Tiered 满减, e.g. 100:10,500:60,1000:150.", show_default=False)] = None,
    lottery_prize_cost: Annotated[float | None, typer.Option(
        "--lottery-prize-cost", help="Expected cost of one draw (win probability x prize "
        "cost); one draw per multiple of X reached.",
        show_default=False)] = None,
    points_rate: Annotated[float | None, typer.Option(
        "--points-rate", help="Extra points per yuan on qualifying orders.",
        show_default=False)] = None,
    point_value: Annotated[float, typer.Option(
        "--point-value", help="Yuan a point is worth.")] = 0.01,
    response: Annotated[Response, typer.Option(
        "--response", help="'none': exact replay of history; 'fixed': orders within --reach "
        "below X top up to X with probability --uptake; 'bunching': the uptake estimated "
        "from a past threshold campaign in the orders' promo codes.",
        metavar="<model>")] = Response.none,
    reach: Annotated[float | None, typer.Option(
        "--reach", help="Yuan below X within which orders may top up \\[default: 10% of X; "
        "20% with bunching].", show_default=False)] = None,
    uptake: Annotated[float, typer.Option(
        "--uptake", help="Probability that a reachable order tops up (fixed response).")] = 0.2,
    campaign: Annotated[str | None, typer.Option(
        "--campaign", help="Past campaign for --response bunching: CODE or CODE:THRESHOLD "
        "\\[default: the code whose threshold is nearest X].", show_default=False)] = None,
    scenario: Annotated[str | None, typer.Option(
        "--scenario", help="Simulate \\[promo.scenarios.NAME] of cust.toml instead of the "
        "reward options.", show_default=False)] = None,
    sweep: Annotated[str | None, typer.Option(
        "--sweep", help="Evaluate every threshold start:stop:step, ranked, e.g. 500:10000:500.",
        show_default=False)] = None,
    segment: Annotated[str | None, typer.Option(
        "--segment", help="Only these customers' orders, e.g. customer_type=enterprise.",
        show_default=False)] = None,
    new_customers: Annotated[bool, typer.Option(
        "--new-customers", help="Only new customers' first orders.")] = False,
    tier: Annotated[str | None, typer.Option(
        "--tier", help="Only customers on these levels (by points; \\[tiers] in cust.toml), "
        "e.g. gold,platinum.", show_default=False)] = None,
    abc: Annotated[str | None, typer.Option(
        "--abc", help="Only customers of these ABC classes (segment abc over the same "
        "period), e.g. A or A,B.", show_default=False)] = None,
    clv_top: Annotated[str | None, typer.Option(
        "--clv-top", help="Only the customers with the highest CLV (cust clv fitted to the "
        "period's end), as a share: 20% or 0.2.", show_default=False)] = None,
    p_alive_below: Annotated[float | None, typer.Option(
        "--p-alive-below", help="Only customers whose chance of still being active (cust clv) "
        "is below this, e.g. 0.3; with --clv-top: valuable customers slipping away.",
        show_default=False)] = None,
    bootstrap: Annotated[int, typer.Option(
        "--bootstrap", help="Resamples of customers for an interval of the net effect.")] = 0,
    seed: Annotated[int, typer.Option(
        "--seed", min=0, help="Seed of the bootstrap (0 or more).")] = 0,
) -> None:
    """Simulate a threshold promotion on the paid orders of the chosen period.

    Without a reward option the scenario is 满5000减500 (--reward-amount 500). Gives
    qualifying orders and customers, subsidy cost (also as a share of revenue and gross
    profit), revenue and gross profit before and after, customers near the threshold, the
    order-value histogram around it, and with --response fixed or bunching the incremental
    revenue, net gross profit effect, ROI and break-even uptake. --sweep ranks many
    thresholds in one pass; --since/--until choose the history replayed.

    Example: cust promo simulate --threshold 5000 --reward-amount 500 --response fixed --uptake 0.2
    """
    from cust.pipelines import promo
    from cust.pipelines.errors import InvalidOptionError
    from cust.pipelines.segment import parse_ladder

    rewards = (reward_amount, reward_percent, gift_cost, tiers, lottery_prize_cost, points_rate)
    if sweep and threshold is not None:
        msg = f"--sweep {sweep} sets the thresholds; --threshold {threshold:g} would be ignored"
        raise InvalidOptionError(msg, hint="drop --threshold (the reward applies at each one)")
    rewarded = any(r is not None for r in rewards) or per_multiple or threshold is not None
    if scenario is not None and rewarded:
        msg = f"--scenario {scenario} is a whole scenario; the threshold and reward options " \
              "given with it would be ignored"
        raise InvalidOptionError(msg, hint="drop them, or edit the scenario in cust.toml")
    if all(r is None for r in rewards) and not per_multiple:
        reward_amount = 500.0  # --per-multiple alone is refused: 每满X减 what?
    parsed_tiers = promo.parse_tiers(tiers) if tiers else ()
    if threshold is None:  # with tiers the lowest tier; a --threshold that differs is refused
        threshold = min(t for t, _ in parsed_tiers) if parsed_tiers else 5000.0
    base = promo.Scenario(
        threshold=threshold,
        reward_amount=reward_amount, per_multiple=per_multiple, reward_percent=reward_percent,
        gift_cost=gift_cost, tiers=parsed_tiers, lottery_prize_cost=lottery_prize_cost,
        points_rate=points_rate, point_value=point_value,
    )
    model = promo.Response(str(response), reach, uptake, campaign)
    period = g.period()

    def job(inputs, config):
        chosen = base
        if scenario is not None:
            chosen = promo.named_scenario(config.section("promo").get("scenarios"), scenario,
                                          f"{config.name} [promo.scenarios]")
        scenarios = promo.sweep_scenarios(chosen, promo.parse_sweep(sweep)) if sweep else [
            chosen]
        ladder = parse_ladder(config.section("tiers"), where=config.name)
        return promo.simulate(
            inputs, scenarios, period=period, response=model,
            segment=promo.parse_segment(segment), new_customers=new_customers, tier=tier,
            abc=abc, clv_top=promo.parse_share(clv_top), p_alive_below=p_alive_below,
            ladder=ladder, bootstrap=bootstrap, seed=seed)

    run(g, job)


@command(promo_app, "compare")
def compare(
    g: GlobalOptions,
    scenarios_file: Annotated[Path | None, typer.Argument(
        help="TOML file with \\[scenarios.<name>] tables \\[default: \\[promo.scenarios] in "
        "cust.toml, else a built-in set].", show_default=False)] = None,
    response: Annotated[Response, typer.Option(
        "--response", help="'none', 'fixed' or 'bunching' (see promo simulate).")] = (
        Response.none),
    reach: Annotated[float | None, typer.Option(
        "--reach", help="Yuan below X within which orders may top up \\[default: 10% of X].",
        show_default=False)] = None,
    uptake: Annotated[float, typer.Option("--uptake", help="Top-up probability.")] = 0.2,
    campaign: Annotated[str | None, typer.Option(
        "--campaign", help="Past campaign for --response bunching: CODE or CODE:THRESHOLD.",
        show_default=False)] = None,
) -> None:
    r"""Rank several promotion scenarios side by side by net gross profit effect.

    A scenarios file holds one table per scenario with the options of promo simulate:

        \[scenarios.spend_5000]
        threshold = 5000
        reward_amount = 500

    Example: cust promo compare sample_data/scenarios.toml --response fixed --uptake 0.2
    """
    from cust.pipelines import promo

    model = promo.Response(str(response), reach, uptake, campaign)
    period = g.period()

    def job(inputs, config):
        if scenarios_file is not None:
            chosen = promo.scenarios_from_toml(scenarios_file)
        elif config.section("promo").get("scenarios"):
            chosen = promo.scenarios_from_mapping(
                config.section("promo")["scenarios"], f"{config.name} [promo.scenarios]")
        else:
            chosen = list(promo.DEFAULT_COMPARISON)
        return promo.simulate(inputs, chosen, period=period, response=model)

    run(g, job, reads=[("scenarios file", scenarios_file)])
