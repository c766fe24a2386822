"""Where declared files are read from: local paths, and `s3://` objects of an S3-compatible store."""
