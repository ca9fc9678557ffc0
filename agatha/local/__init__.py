"""The local platform: `agatha local up|down|status` (embedded defaults on one machine)."""
