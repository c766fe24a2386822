"""Manifest gate: judges each file a source_manifest_v1 manifest declares before anything is loaded."""
