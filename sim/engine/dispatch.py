"""Operators who react: departures held back by dispatch rules, deferred and never deleted.

Used instead of the model's plain departure loop only when a scenario has dispatch rules
(``dispatch:``, see :mod:`sim.config.dispatch`), so runs without rules are unchanged.

A train is held by the first rule that applies to it (its flow is one the rule covers and its
path passes the rule's node). While the rule *suspends* (its node has been closed for the given
number of days) the train joins the rule's deferred queue; while it *throttles* (more trains at
or waiting for the node than the threshold) trains leave at most at the throttle rate and the
rest are deferred. A rule's deferred trains leave in their planned order: at the throttle rate
while it throttles, at ``release_trains_per_day`` (or all at once) once it lifts. A train that
finds deferred trains ahead of it under its rule queues behind them. Delay is measured from the
planned departure (``TrainPlan.depart_hours``), so a deferred train counts as late.

Re-routing (``reroute_via``) is not done here: it is decided at the planned departure, before
the run (:mod:`sim.engine.reroute`), so a re-routed train reaches this loop already on its new
path (it no longer passes the rule's node, so no rule holds it for that node). Rules that
only re-route are not given to this loop at all (``Network.rules`` holds the others).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from typing import Any

import simpy

from sim.engine.network import RulePlan


class Dispatcher:
    """The departure process of a run with dispatch rules."""

    def __init__(
        self,
        env: simpy.Environment,
        rules: tuple[RulePlan, ...],
        launch: Callable[[int], None],
        load_at: Callable[[int], int],
    ) -> None:
        self.env = env
        self.rules = rules
        self.launch = launch
        self.load_at = load_at
        self.deferred: list[deque[int]] = [deque() for _ in rules]
        self.next_allowed = [0.0] * len(rules)
        self.wake: list[simpy.Event] = [env.event() for _ in rules]
        self.deferred_total = 0

    def rule_for(self, path: int, flow: int) -> int:
        for k, rule in enumerate(self.rules):
            if path in rule.paths and flow in rule.flows:
                return k
        return -1

    def _suspended_until(self, k: int) -> float | None:
        now = self.env.now
        for start, end in self.rules[k].suspended:
            if start <= now < end:
                return end
        return None

    def _throttling(self, k: int) -> bool:
        above = self.rules[k].throttle_above_trains
        return above is not None and self.load_at(self.rules[k].via) > above

    def _take_slot(self, k: int) -> bool:
        """Under a throttle: may a train leave now? (Takes the slot if so.)"""
        rate = self.rules[k].throttle_trains_per_day
        assert rate is not None
        if self.env.now < self.next_allowed[k]:
            return False
        self.next_allowed[k] = self.env.now + 24.0 / rate
        return True

    def departures(
        self, depart_hours: list[float], paths: list[int], flows: list[int]
    ) -> Generator[Any, Any, None]:
        env = self.env
        for k in range(len(self.rules)):
            env.process(self._releaser(k))
        for i, (t, p, f) in enumerate(zip(depart_hours, paths, flows, strict=True)):
            if t > env.now:
                yield env.timeout(t - env.now)
            k = self.rule_for(p, f)
            if k < 0:
                self.launch(i)
                continue
            free = not self.deferred[k] and self._suspended_until(k) is None
            if free and (not self._throttling(k) or self._take_slot(k)):
                self.launch(i)
                continue
            self.deferred[k].append(i)
            self.deferred_total += 1
            if not self.wake[k].triggered:
                self.wake[k].succeed()

    def _releaser(self, k: int) -> Generator[Any, Any, None]:
        """Let rule ``k``'s deferred trains leave as the rule allows."""
        env = self.env
        queue = self.deferred[k]
        rule = self.rules[k]
        while True:
            if not queue:
                self.wake[k] = env.event()
                yield self.wake[k]
                continue
            until = self._suspended_until(k)
            if until is not None:
                yield env.timeout(until - env.now)
                continue
            if self._throttling(k):
                if not self._take_slot(k):
                    yield env.timeout(self.next_allowed[k] - env.now)
                    continue
                self.launch(queue.popleft())
                continue
            self.launch(queue.popleft())
            if rule.release_trains_per_day is not None:
                yield env.timeout(24.0 / rule.release_trains_per_day)
