"""Example programs the pack is demonstrated against."""
