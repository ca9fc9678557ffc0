"""Ops runbooks of the AgathaAI platform: `agatha` rotate/failover/queue/deploy/status.

Each procedure module (``rotate_db_credentials.py``...) builds an ordered list of
:class:`runbooks.steps.Step` objects and a plain ``do_*`` function; ``runbooks/commands/``
holds the thin click wrappers. Nothing here imports the Pulumi SDKs.
"""
