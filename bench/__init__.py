"""Benchmarks and reliability drills: load generator, fakes, process accounting, harnesses.

Each harness runs as ``.venv/bin/python -m bench.<name>`` and writes JSON under
``bench/results/`` (plots under ``docs/img/``). Nothing here is imported by ``app/``.
"""
