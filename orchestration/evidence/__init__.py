"""Run evidence: the schema-validated record that says whether a partition may be consumed."""
