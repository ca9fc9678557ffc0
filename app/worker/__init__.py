"""The queue worker: one core (claim, call, store, archive, usage) behind two entry points."""
