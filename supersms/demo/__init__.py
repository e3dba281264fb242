"""``supersms demo``: the whole system on one machine, with nothing to install or configure.

- :mod:`~supersms.demo.batch`: the realistic batch and the sandbox faults it meets (pure).
- :mod:`~supersms.demo.children`: subprocesses in their own process groups, stopped by pid.
- :mod:`~supersms.demo.stack`: Redis, the sandbox, the receiver, a worker and Flower, up and down together.
- :mod:`~supersms.demo.tracking`: the batch's records read back from Redis while they move.
- :mod:`~supersms.demo.progress`: a progress bar on a terminal, a line a second elsewhere.
- :mod:`~supersms.demo.report`: the table of outcomes and latencies (pure).
- :mod:`~supersms.demo.session`: one run from start to table.
"""
