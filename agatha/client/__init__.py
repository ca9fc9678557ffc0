"""A small typed Python client for the AgathaAI gateway (sync and async).

with AgathaClient("http://127.0.0.1:8080", api_key) as client:
    result = client.infer("Hello", model="local-echo")
"""

from __future__ import annotations

from agatha.client.aio import AsyncAgathaClient
from agatha.client.models import Inference, Result
from agatha.client.sync import AgathaClient

__all__ = ["AgathaClient", "AsyncAgathaClient", "Inference", "Result"]
