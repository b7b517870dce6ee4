"""The HTTP layer: translates Symbl-shaped requests into service calls and back."""
