"""The parquet lake: raw rows as files, for engines that read files (Apache Spark)."""
