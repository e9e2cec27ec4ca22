"""The simulation: network, demand plan, random streams, the SimPy model, records,
per-replication KPIs and replications."""
