"""Usage analytics: dated price table, cost estimates, one usage_events row per request."""
