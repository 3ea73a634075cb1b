"""Scenarios shipped with limes, one folder each."""
