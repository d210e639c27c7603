"""The opsledger quality gate: Great Expectations suites over bounded DuckDB frames.

`definitions` declares the suites (plain Python, no GX import), `frames` computes the
bounded pandas frames from a build database, `generate` writes the GX file context
under `expectations/gx/`, and `gate.run_gate` validates a build and reports results.
"""
