"""Finite room and blocking: trains that cannot be accepted downstream wait where they are.

A node with ``room_trains`` accepts at most that many trains per direction at once. A train
is *accepted* for the next node before it leaves the present one (as a station master
accepts a train into a section): from then on it counts against the next node's room while it
travels there, queues and is handled, until the node after that accepts it in turn (or it is
delivered). A train that has been handled but is not yet accepted downstream is *held*: it
keeps its server and its place at the present node, so a full Brest fills Minsk, then
Krasnoye, and back up the line (blocking after service, FIFO per room).

Blocking is a feature of the one train process (``CorridorModel._train``, as Ciw's ``Node``
has it): a run where some node has a finite room gives every train its path's room gates
(:func:`room_pools`), and the train waits on them; without room limits the gates are None and
the loop pays one test per visit (bit-identical results, ``benchmarks/fingerprint.py``).

Two directions that share servers at both ends of a full section can gridlock (each holds
the server the other needs), as a real single-track border can; rooms are per direction,
and a node with room should split its servers by direction (``servers_by_direction``) to
rule it out. A gridlocked train stays in the system: nothing is ever lost.
"""

from __future__ import annotations

import simpy

from sim.engine.network import Network
from sim.engine.resources import TrackPool

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
