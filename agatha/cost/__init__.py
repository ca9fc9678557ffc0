"""Monthly AWS cost estimate of a stack from its offline plan (no Pulumi cost tool exists)."""
