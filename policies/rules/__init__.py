"""Rule modules, one per layer; ``policies.registry`` lists them all."""
