"""The SimPy model: trains moving along their paths through capacity-limited nodes and links.

A node with limited capacity is a :class:`TrackPool` (servers whose number can change during
the run: 0 closes the node, trains queue FIFO and are admitted as soon as capacity returns;
nothing is lost). A train holds one server for its handling time. A node that splits its
servers by direction has one pool per direction. Without ``room_trains`` anywhere queues have
no size limit and a queued train does not block the node behind it; with it, trains run
through :func:`sim.engine.blocking.blocking_train` instead (see docs/model.md).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from sim.config.distributions import BufferedSampler, FloatArray
from sim.engine.blocking import RoomsOfPath, blocking_train, room_pools
from sim.engine.dispatch import Dispatcher
from sim.engine.network import UNLIMITED, LinkPlan, Network, NodePlan, PathPlan, Schedule
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
        self._v_delivered = _float_view(self.records.arrive_hours)
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
                split = Station(pool, station.samplers, schedule.handling_factor[0])
                by_direction[(node.index, direction)] = split
                self._split.append((schedule, split))
        self._path_stations = [
            tuple(by_direction.get((n, p.direction), self._stations[n]) for n in p.nodes)
            for p in net.paths
        ]
        self._by_direction = by_direction
        self._rooms: list[RoomsOfPath] | None = None
        self._gates: dict[tuple[int, str], TrackPool] = {}
        if net.has_room_limits:
            self._rooms, self._gates = room_pools(self.env, net)
        leave = np.full(len(self.records.visit_end) if self._rooms else 0, np.nan)
        if self._rooms is not None:
            self.records.visit_leave = leave
        self._v_leave = _float_view(leave)

    def _station(self, node: NodePlan, streams: Streams) -> Station:
        pool = None
        if node.needs_pool and not node.direction_schedules:  # (split: the pools below)
            first = node.schedule.servers[0]
            pool = TrackPool(self.env, UNLIMITED if first is None else first)
        # per market (China–EU first): index 0 serves trains without a type (-1), index k+1
        # serves type_names[k]; market m's block starts at m × (types + 1)
        samplers: list[Callable[[], float]] = []
        for m, market in enumerate(self._markets):
            tag = () if m == 0 else ("market", market)
            untyped = BufferedSampler(node.handling, streams.rng("handling", node.id, *tag)).draw
            samplers.append(untyped)
            for name in self.plan.type_names:
                dist = node.handling_by_type.get(name)
                if dist is None:
                    samplers.append(untyped)
                else:
                    rng = streams.rng("handling", node.id, name, *tag)
                    samplers.append(BufferedSampler(dist, rng).draw)
        return Station(pool, samplers, node.schedule.handling_factor[0])

    def _track(self, link: LinkPlan, streams: Streams) -> Track:
        pool = None
        if link.needs_pool:
            first = link.schedule.servers[0]
            pool = TrackPool(self.env, UNLIMITED if first is None else first)
        samples = [
            _travel_sampler(link, streams.rng("travel", link.id, *(("market", m) if i else ())))
            for i, m in enumerate(self._markets)
        ]
        return Track(pool, samples, link.schedule.handling_factor[0])

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
        slot = self._slots[i]
        k = int(self.records.visit_offset[i])
        path, stations = self.net.paths[p], self._path_stations[p]
        if self._rooms is not None:
            self.env.process(blocking_train(self, i, path, stations, self._rooms[p], slot, k))
        else:
            self.env.process(self._train(i, path, stations, slot, k))

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
        plan = self.plan
        paths = self.net.paths
        path_stations = self._path_stations
        offsets = self.records.visit_offset.tolist()
        rooms = self._rooms
        train = self._train

        def start(i: int, p: int, slot: int) -> Generator[Any, Any, None]:
            """The train process: with finite room somewhere, the one that can be held."""
            if rooms is not None:
                return blocking_train(
                    self, i, paths[p], path_stations[p], rooms[p], slot, offsets[i]
                )
            return train(i, paths[p], path_stations[p], slot, offsets[i])

        for i, (t, path, slot) in enumerate(
            zip(plan.depart_hours.tolist(), plan.path.tolist(), self._slots, strict=True)
        ):
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(start(i, path, slot))

    def _train(
        self, i: int, path: PathPlan, stations: tuple[Station, ...], type_slot: int, k: int
    ) -> Generator[Any, Any, None]:
        """One train: for each node on its path queue, get handled, then travel the next link.

        This is the hot loop (one pass per visit), so it keeps everything local. ``now``
        mirrors ``env.now`` without the property call: after ``yield timeout(d)`` SimPy's
        clock is exactly ``now + d`` (it computes the same sum), and after waiting for a
        server it is read back. Records are written through memoryviews of the preallocated
        arrays (cheaper per item than NumPy indexing). ``k`` is the train's first visit slot.
        """
        env = self.env
        timeout = env.timeout
        v_arrive, v_start, v_end = self._v_arrive, self._v_start, self._v_end
        tracks = self._tracks
        market = type_slot // self._slots_per_market
        links = path.links
        last = len(links)
        now = env.now
        for j, station in enumerate(stations):
            v_arrive[k] = now
            pool = station.pool
            if pool is None:
                v_start[k] = now
                handling = station.samplers[type_slot]() * station.factor
                if handling > 0.0:
                    yield timeout(handling)
                    now += handling
            else:
                wait = pool.acquire()
                if wait is not None:
                    yield wait
                    now = env.now
                v_start[k] = now
                handling = station.samplers[type_slot]() * station.factor
                yield timeout(handling)
                now += handling
                pool.release()
            v_end[k] = now
            k += 1
            if j < last:
                track = tracks[links[j]]
                pool = track.pool
                if pool is None:
                    travel = track.samples[market]() * track.factor
                    yield timeout(travel)
                    now += travel
                else:
                    wait = pool.acquire()
                    if wait is not None:
                        yield wait
                        now = env.now
                    travel = track.samples[market]() * track.factor
                    yield timeout(travel)
                    now += travel
                    pool.release()
        self._v_delivered[i] = now
