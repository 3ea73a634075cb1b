"""limes — plan, watch, share and exercise the defence of a long land border."""

__version__ = "0.1.0"
