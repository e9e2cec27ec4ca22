"""Analytic queueing results used to check the simulation (and to size nodes by hand).

Erlang C gives the exact steady-state waiting time of an M/M/c queue; the tests compare the
simulated border against it, and planners can use it to see what a capacity figure implies
before running anything.
"""

from __future__ import annotations


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arriving train waits in an M/M/c queue (offered load a = λ/μ)."""
    if servers <= 0:
        raise ValueError("servers must be positive")
    rho = offered_load / servers
    if not 0 <= rho < 1:
        raise ValueError(f"unstable queue: utilisation {rho:.3f} >= 1")
    # Computed through the Erlang B recursion, which is stable for large c.
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load * b / (k + offered_load * b)
    return b / (1 - rho * (1 - b))


def mmc_mean_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean time in queue (before service) of an M/M/c queue, in the rate's time unit."""
    a = arrival_rate / service_rate
    return erlang_c(servers, a) / (servers * service_rate - arrival_rate)


def mmc_mean_queue(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean number waiting (Lq = λ Wq, Little's law)."""
    return arrival_rate * mmc_mean_wait(arrival_rate, service_rate, servers)


def servers_for(trains_per_day: float, handling_hours_mean: float) -> float:
    """Parallel servers that give a capacity of ``trains_per_day`` at a mean handling time."""
    return trains_per_day * handling_hours_mean / 24.0
