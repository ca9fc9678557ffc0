"""The AgathaAI security policy pack: rules, the CrossGuard adapter, the offline runner and reports.

Nothing here constructs a ``PolicyPack`` at import time; only ``policies/__main__.py`` does,
because constructing one starts the analyzer's gRPC server and blocks.
"""
