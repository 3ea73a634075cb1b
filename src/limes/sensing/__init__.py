"""Sensor and barrier models shared by the analysis, the simulator and the live pipeline."""
