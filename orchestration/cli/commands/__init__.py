"""The subcommands, one module per stage. Each `cmd_*` takes the parsed arguments and the settings
and returns an exit code; core modules are imported inside the commands, so that a command loads
only what it uses (`data-factory gate` never imports Dagster)."""
