"""The scenario: one model of a border, read by analysis, simulator and live pipeline alike."""
