"""Watch: ingest, tracking, rules, incidents and dispatch, joined into the live pipeline."""
