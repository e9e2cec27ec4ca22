"""The SimPy model: trains moving along their paths through capacity-limited nodes and links.

A node with limited capacity is a :class:`TrackPool` (servers whose number can change during
the run: 0 closes the node, trains queue FIFO and are admitted as soon as capacity returns;
nothing is lost). A train holds one server for its handling time. A node that splits its
servers by direction has one pool per direction. Without ``room_trains`` anywhere queues have
no size limit and a queued train does not block the node behind it; with it, the same train
process also waits for room downstream (:mod:`sim.engine.blocking`, docs/model.md).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from sim.config.distributions import BufferedSampler, FloatArray
from sim.engine.blocking import RoomsOfPath, room_pools
from sim.engine.dispatch import Dispatcher
from sim.engine.network import UNLIMITED, LinkPlan, Network, NodePlan, Schedule
from sim.engine.records import Records, TrainPlan
from sim.engine.resources import Station, Track, TrackPool
from sim.engine.streams import Streams
from sim.markets import MARKET_CHINA_EU


def _travel_sampler(link: LinkPlan, rng: np.random.Generator) -> Callable[[], float]:
    if link.hours is not None:
        return BufferedSampler(link.hours, rng).draw
    assert link.km is not None and link.speed_km_per_day is not None
    km = link.km

    def hours_from_speed(speed: FloatArray) -> FloatArray:
        result: FloatArray = km / speed * 24.0
        return result

    return BufferedSampler(link.speed_km_per_day, rng, transform=hours_from_speed).draw


def market_slots(plan: TrainPlan) -> tuple[str, ...]:
    """Markets with their own random streams, China–EU first (its streams keep the names they
    had before markets existed). Each market draws its handling and travel times from its own
    named streams, so adding or scaling one market's trains never shifts another market's
    draws: China–EU results change only through shared capacity (tests/test_belarus.py)."""
    others = sorted(set(plan.flow_markets) - {MARKET_CHINA_EU})
    return (MARKET_CHINA_EU, *others)


def sampler_slots(plan: TrainPlan) -> tuple[NDArray[np.int32], int]:
    """Per train, the index of its sampler at a station (its market's block of
    ``len(type_names) + 1`` samplers, then its type, untyped first: see ``_station``), and the
    block size (so ``slot // block`` is the market, the index of its travel-time stream).

    The one place the slot is computed: both departure loops (plain and with dispatch rules)
    read it, so no train can draw from another market's streams (issue 21 item 4)."""
    per_market = len(plan.type_names) + 1
    markets = market_slots(plan)
    slots = plan.train_type.astype(np.int32) + 1
    if len(markets) > 1:
        market_of = {m: i for i, m in enumerate(markets)}
        base = np.asarray([market_of[m] * per_market for m in plan.flow_markets], dtype=np.int32)
        slots = base[plan.flow] + slots
    return slots, per_market


Leg = tuple[Station, "Track | None", "TrackPool | None"]
"""One visit of a path: the node's station, the track to the next node (None at the end), and
the next node's room gate (None where its room is unlimited, and everywhere without rooms)."""


def _float_view(values: FloatArray) -> memoryview[float]:
    """A writable view of a float64 array: storing a Python float costs about 40 ns, half of
    NumPy item assignment, and the array itself holds the values (no copy at the end)."""
    return values.data.cast("B").cast("d")


class CorridorModel:
    """One replication: build the SimPy world from a network and a train plan, then run it."""

    def __init__(self, net: Network, plan: TrainPlan, streams: Streams) -> None:
        self.net = net
        self.plan = plan
        self.env = simpy.Environment()
        self.records = Records.allocate(net, plan)
        self._v_arrive = _float_view(self.records.visit_arrive)
        self._v_start = _float_view(self.records.visit_start)
        self._v_end = _float_view(self.records.visit_end)
        self._v_delivered = _float_view(self.records.delivered_hours)
        self._markets = market_slots(plan)
        slots, self._slots_per_market = sampler_slots(plan)
        self._slots = slots.tolist()
        self._stations = [self._station(n, streams) for n in net.nodes]
        self._tracks = [self._track(link, streams) for link in net.links]
        # a node whose servers are split by direction gets one station per direction, sharing
        # the node's samplers; each path runs through the stations of its direction (the
        # node's own station then has no pool: its schedule is the pools' sum, for the KPIs)
        self._split: list[tuple[Schedule, Station]] = []
        by_direction: dict[tuple[int, str], Station] = {}
        for node, station in zip(net.nodes, self._stations, strict=True):
            for direction, schedule in node.direction_schedules.items():
                first = schedule.servers[0]
                pool = TrackPool(self.env, UNLIMITED if first is None else first)
                split = Station(pool, station.handling_hours_by_slot, schedule.handling_factor[0])
                by_direction[(node.index, direction)] = split
                self._split.append((schedule, split))
        self._by_direction = by_direction
        rooms: list[RoomsOfPath] | None = None
        self._gates: dict[tuple[int, str], TrackPool] = {}
        if net.has_room_limits:
            rooms, self._gates = room_pools(self.env, net)
        self._blocking = rooms is not None
        leave = np.full(len(self.records.visit_end) if self._blocking else 0, np.nan)
        if self._blocking:
            self.records.visit_leave = leave
        self._v_leave = _float_view(leave)
        # per path: the room gate of its origin, and each visit's leg (station, track to the
        # next node or None at the end, the next node's room gate or None where unlimited)
        self._first_room: list[TrackPool | None] = []
        self._legs: list[tuple[Leg, ...]] = []
        for p, path in enumerate(net.paths):
            stations = [
                by_direction.get((n, path.direction), self._stations[n]) for n in path.nodes
            ]
            gates = rooms[p] if rooms is not None else (None,) * len(stations)
            tracks = [*(self._tracks[link] for link in path.links), None]
            self._first_room.append(gates[0])
            self._legs.append(tuple(zip(stations, tracks, (*gates[1:], None), strict=True)))

    def _station(self, node: NodePlan, streams: Streams) -> Station:
        pool = None
        if node.needs_pool and not node.direction_schedules:  # (split: the pools below)
            first = node.schedule.servers[0]
            pool = TrackPool(self.env, UNLIMITED if first is None else first)
        # per market (China–EU first): index 0 serves trains without a type (-1), index k+1
        # serves type_names[k]; market m's block starts at m × (types + 1)
        handling_hours_by_slot: list[Callable[[], float]] = []
        for m, market in enumerate(self._markets):
            tag = () if m == 0 else ("market", market)
            untyped = BufferedSampler(node.handling, streams.rng("handling", node.id, *tag)).draw
            handling_hours_by_slot.append(untyped)
            for name in self.plan.type_names:
                dist = node.handling_by_type.get(name)
                if dist is None:
                    handling_hours_by_slot.append(untyped)
                else:
                    rng = streams.rng("handling", node.id, name, *tag)
                    handling_hours_by_slot.append(BufferedSampler(dist, rng).draw)
        return Station(pool, handling_hours_by_slot, node.schedule.handling_factor[0])

    def _track(self, link: LinkPlan, streams: Streams) -> Track:
        pool = None
        if link.needs_pool:
            first = link.schedule.servers[0]
            pool = TrackPool(self.env, UNLIMITED if first is None else first)
        travel_hours_by_market = [
            _travel_sampler(link, streams.rng("travel", link.id, *(("market", m) if i else ())))
            for i, m in enumerate(self._markets)
        ]
        return Track(pool, travel_hours_by_market, link.schedule.handling_factor[0])

    def run(self) -> Records:
        env = self.env
        for node, station in zip(self.net.nodes, self._stations, strict=True):
            if not node.schedule.is_constant and not node.direction_schedules:
                env.process(self._follow(node.schedule, station))
        for link, track in zip(self.net.links, self._tracks, strict=True):
            if not link.schedule.is_constant:
                env.process(self._follow(link.schedule, track))
        for schedule, split in self._split:
            if not schedule.is_constant:
                env.process(self._follow(schedule, split))
        if self.net.rules:
            plan = self.plan
            dispatcher = Dispatcher(env, self.net.rules, self._launch, self._load_at)
            env.process(
                dispatcher.departures(
                    plan.depart_hours.tolist(), plan.path.tolist(), plan.flow.tolist()
                )
            )
        else:
            env.process(self._departures())
        env.run(until=self.net.end_hours)
        return self.records

    def _follow(self, schedule: Schedule, place: Station | Track) -> Generator[Any, Any, None]:
        """Apply a capacity schedule to a node or link as simulated time passes."""
        env = self.env
        for t, servers, factor in zip(
            schedule.times_hours, schedule.servers, schedule.handling_factor, strict=True
        ):
            if t > env.now:
                yield env.timeout(t - env.now)
            place.factor = factor
            if place.pool is not None:
                place.pool.set_capacity(UNLIMITED if servers is None else servers)

    def _launch(self, i: int) -> None:
        """Start train ``i`` now (the dispatcher's way; the plain loop inlines this)."""
        p = int(self.plan.path[i])
        k = int(self.records.visit_offset[i])
        legs, room = self._legs[p], self._first_room[p]
        self.env.process(self._train(i, legs, room, self._slots[i], k))

    def _load_at(self, node: int) -> int:
        """Trains at a node now (queued, handled, held there) plus those held upstream waiting
        to be accepted by it: what an operator's throttle rule watches."""
        gates = [g for (n, _), g in self._gates.items() if n == node]
        if gates:
            return sum(g.busy + g.waiting for g in gates)
        stations = [st for (n, _), st in self._by_direction.items() if n == node]
        pools = [st.pool for st in stations or [self._stations[node]] if st.pool is not None]
        return sum(pool.busy + pool.waiting for pool in pools)

    def _departures(self) -> Generator[Any, Any, None]:
        env = self.env
        legs, first_room = self._legs, self._first_room
        offsets = self.records.visit_offset.tolist()
        train = self._train
        for i, (t, p, slot) in enumerate(
            zip(self.plan.depart_hours.tolist(), self.plan.path.tolist(), self._slots, strict=True)
        ):
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(train(i, legs[p], first_room[p], slot, offsets[i]))

    def _train(
        self, i: int, legs: tuple[Leg, ...], room: TrackPool | None, slot: int, k: int
    ) -> Generator[Any, Any, None]:
        """One train: at each node on its path queue, get handled, then travel the next link.

        With finite room somewhere (``_blocking``) the same process also waits to be let
        into its origin (``room``) and, after its handling, is *held* (keeps its server and
        its place) until the next node's room gate accepts it, then records when it left
        (``visit_leave``; :mod:`sim.engine.blocking`). Blocking is a feature of the one
        process, as in Ciw's ``Node``; without it the gates are None and the server is freed
        as soon as the handling ends.

        This is the hot loop (one pass per visit), so it keeps everything local and walks the
        path's precomputed legs. ``now`` mirrors ``env.now`` without the property call: after
        ``yield timeout(d)`` SimPy's clock is exactly ``now + d`` (it computes the same sum),
        and after waiting for a server it is read back. Records are written through
        memoryviews of the preallocated arrays (cheaper per item than NumPy indexing). ``k``
        is the train's first visit slot, ``slot`` its sampler at each station
        (:func:`sampler_slots`; ``slot // block`` is its market's travel-time stream).
        """
        env = self.env
        timeout = env.timeout
        v_arrive, v_start, v_end = self._v_arrive, self._v_start, self._v_end
        v_leave, blocking = self._v_leave, self._blocking
        market = slot // self._slots_per_market
        now = env.now
        v_arrive[k] = now
        if room is not None:  # the origin's own yard: the train waits to be let in
            wait = room.acquire()
            if wait is not None:
                yield wait
                now = env.now
        for station, track, nxt in legs:
            pool = station.pool
            if pool is None:
                v_start[k] = now
                handling = station.handling_hours_by_slot[slot]() * station.factor
                if handling > 0.0:
                    yield timeout(handling)
                    now += handling
            else:
                wait = pool.acquire()
                if wait is not None:
                    yield wait
                    now = env.now
                v_start[k] = now
                handling = station.handling_hours_by_slot[slot]() * station.factor
                yield timeout(handling)
                now += handling
                if nxt is None:  # no room to wait for downstream: the server is free now
                    pool.release()
            v_end[k] = now
            if blocking:
                if nxt is not None:
                    wait = nxt.acquire()
                    if wait is not None:
                        yield wait  # held: keeps its server and its place here
                        now = env.now
                    if pool is not None:
                        pool.release()
                v_leave[k] = now
                if room is not None:
                    room.release()
                room = nxt
            k += 1
            if track is not None:
                pool = track.pool
                if pool is None:
                    travel = track.travel_hours_by_market[market]() * track.factor
                    yield timeout(travel)
                    now += travel
                else:
                    wait = pool.acquire()
                    if wait is not None:
                        yield wait
                        now = env.now
                    travel = track.travel_hours_by_market[market]() * track.factor
                    yield timeout(travel)
                    now += travel
                    pool.release()
                v_arrive[k] = now
        self._v_delivered[i] = now
