"""One router per resource: inference requests, admin, health."""
