"""Finite room and blocking: trains that cannot be accepted downstream wait where they are.

A node with ``room_trains`` accepts at most that many trains per direction at once. A train
is *accepted* for the next node before it leaves the present one (as a station master
accepts a train into a section): from then on it counts against the next node's room while it
travels there, queues and is handled, until the node after that accepts it in turn (or it is
delivered). A train that has been handled but is not yet accepted downstream is *held*: it
keeps its server and its place at the present node, so a full Brest fills Minsk, then
Krasnoye, and back up the line (blocking after service, FIFO per room).

This is a second train process, used only when some node has a finite room, so the engine
without room limits runs its own lean loop unchanged (bit-identical results).

Two directions that share servers at both ends of a full section can gridlock (each holds
the server the other needs), as a real single-track border can; rooms are per direction,
and a node with room should split its servers by direction (``servers_by_direction``) to
rule it out. A gridlocked train stays in the system: nothing is ever lost.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from sim.engine.network import Network, PathPlan
from sim.engine.resources import Station, TrackPool

if TYPE_CHECKING:
    from sim.engine.model import CorridorModel

RoomsOfPath = tuple["TrackPool | None", ...]


def room_pools(
    env: simpy.Environment, net: Network
) -> tuple[list[RoomsOfPath], dict[tuple[int, str], TrackPool]]:
    """One room gate per (node, direction) with a finite room; per path, the gate of each
    node it visits in its direction (None where the room is unlimited); and the gates."""
    gates: dict[tuple[int, str], TrackPool] = {}
    for node in net.nodes:
        for direction, room in node.room_by_direction.items():
            if room is not None:
                gates[(node.index, direction)] = TrackPool(env, room)
    return [tuple(gates.get((n, p.direction)) for n in p.nodes) for p in net.paths], gates


def blocking_train(
    model: CorridorModel,
    i: int,
    path: PathPlan,
    stations: tuple[Station, ...],
    rooms: RoomsOfPath,
    type_slot: int,
    k: int,
) -> Generator[Any, Any, None]:
    """One train with finite rooms (the counterpart of ``CorridorModel._train``).

    Writes ``visit_leave`` too: the moment the train left the node, later than the end of its
    handling when it was held there.
    """
    env = model.env
    timeout = env.timeout
    v_arrive, v_start, v_end = model._v_arrive, model._v_start, model._v_end
    v_leave = model._v_leave
    tracks = model._tracks
    market = type_slot // model._slots_per_market  # the train's own travel-time stream
    links = path.links
    last = len(links)
    now = env.now
    room = rooms[0]
    v_arrive[k] = now
    if room is not None:  # the origin's own yard: the train waits to be let in
        wait = room.acquire()
        if wait is not None:
            yield wait
            now = env.now
    for j, station in enumerate(stations):
        if j:
            v_arrive[k] = now
        pool = station.pool
        if pool is not None:
            wait = pool.acquire()
            if wait is not None:
                yield wait
                now = env.now
        v_start[k] = now
        handling = station.samplers[type_slot]() * station.factor
        if handling > 0.0 or pool is not None:
            yield timeout(handling)
            now += handling
        v_end[k] = now
        nxt = rooms[j + 1] if j < last else None
        if nxt is not None:
            wait = nxt.acquire()
            if wait is not None:
                yield wait  # held: keeps its server and its place here
                now = env.now
        v_leave[k] = now
        if pool is not None:
            pool.release()
        if room is not None:
            room.release()
        k += 1
        if j < last:
            room = nxt
            track = tracks[links[j]]
            link_pool = track.pool
            if link_pool is not None:
                wait = link_pool.acquire()
                if wait is not None:
                    yield wait
                    now = env.now
            travel = track.samples[market]() * track.factor
            yield timeout(travel)
            now += travel
            if link_pool is not None:
                link_pool.release()
    model._v_delivered[i] = now
