"""Small reusable pieces of the Dagster layer."""
