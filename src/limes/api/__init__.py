"""The HTTP and WebSocket API of `limes serve`."""
