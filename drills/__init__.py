"""Fault drills: each starts a private stack on 127.0.0.1, breaks one part of it mid-run, lets it recover, and
prints what was lost and what was doubled (both must be 0). ``python -m drills [name ...]``; ``--list``."""
