"""The operations map served by `limes serve`."""
