"""Trains re-routed while a crossing is closed: the ``reroute_via`` of a dispatch rule.

Applied to the train plan before the run, because the decision belongs to the planned
departure (a booking moved to another route, D7's "moved some trains to the Caspian route"):
a train of a rule's flow whose path passes the rule's ``via`` and whose planned departure falls
in one of the rule's active windows (``via`` closed for ``reroute_after_closed_days``) takes
its flow's alternative path with probability ``reroute_share``. Everything else about it stays:
flow, departure time, TEU, type. Since the path is fixed before :class:`Records` are allocated,
the visits, the per-node and per-route statistics, the tables and every measure that reads
``plan.path`` count the train on the route it actually runs; the event loop is untouched.

Randomness: each (rule, flow) pair draws one uniform number per train of the flow, in
departure order, from its own named stream (``("reroute", rule, flow)``,
:mod:`sim.engine.streams`), and a train re-routes when its number is below the share. So
adding a rule shifts no other stream (departures, handling, travel keep their numbers), a
larger share re-routes a superset of the trains a smaller one does (common random numbers
across a sweep of the share), and share 0 leaves the plan exactly as it was.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # types only: at run time this module imports nothing of the engine, so
    # it adds no link to the import chain (tests/test_architecture.py)
    from sim.engine.network import Network
    from sim.engine.records import TrainPlan
    from sim.engine.streams import Streams


def reroute_trains(plan: TrainPlan, net: Network, streams: Streams) -> TrainPlan:
    """The plan with the re-routed trains on their new paths (the plan itself when no rule
    re-routes, so runs without such rules are bit-identical to before)."""
    if not net.reroutes:
        return plan
    path = plan.path.copy()
    rerouted = np.zeros(len(plan), dtype=bool)
    for rule in net.reroutes:
        passes = np.zeros(len(net.paths), dtype=bool)
        passes[list(rule.paths)] = True
        for flow, alternative in rule.to_path.items():
            mine = np.flatnonzero(plan.flow == flow)
            draws = streams.rng("reroute", rule.id, plan.flow_ids[flow]).random(len(mine))
            t = plan.depart_hours[mine]
            active = np.zeros(len(mine), dtype=bool)
            for start, end in rule.active:
                active |= (t >= start) & (t < end)
            take = mine[active & passes[path[mine]] & (draws < rule.share)]
            path[take] = alternative
            rerouted[take] = True
    return dataclasses.replace(plan, path=path, rerouted=rerouted)
