"""Exercise: simulated adversaries, sensors and response units driving the real inputs."""
