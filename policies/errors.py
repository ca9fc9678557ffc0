"""Errors raised by the policy tooling.

PolicyError
 ├── DocsDriftError      policies/README.md differs from what the rules generate
 └── RuleDefinitionError a rule's metadata is malformed (id, name, severity, types)

The `agatha policy` commands turn these into exit code 1 with the message.
"""

from __future__ import annotations


class PolicyError(Exception):
    """Root of every failure the policy tooling reports."""


class DocsDriftError(PolicyError):
    """The committed rule table no longer matches the rules."""


class RuleDefinitionError(PolicyError):
    """A rule was declared with invalid metadata."""
