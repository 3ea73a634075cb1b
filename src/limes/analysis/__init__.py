"""Plan: line of sight, detection fields, response times, interruption, reports."""
