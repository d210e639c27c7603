"""The opsledger quality gate: Great Expectations suites over bounded DuckDB frames.

`definitions` declares the suites (plain Python, no GX import), `frames` computes the
bounded pandas frames from a build database, `gate.run_gate` builds the suites in an
ephemeral GX context, validates a build and renders Data Docs, and `data_docs`
makes those docs work offline (vendored assets instead of CDNs).
"""
