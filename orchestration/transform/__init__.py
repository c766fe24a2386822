"""The dbt side seen from Python: project paths, partition-window vars, manifest preparation."""
