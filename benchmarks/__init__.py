"""Benchmarks of support-data-factory (`make bench`): developer tools, not part of the package."""
