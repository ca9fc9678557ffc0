"""`agatha build`: release artifacts built from the repository (the worker's Lambda bundle)."""
