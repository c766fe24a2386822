"""`data-factory`, the command line over the core (the console script is `orchestration.cli:main`).

One job per module: `parser` builds the command tree, `entry` runs a command and maps what it
raises to an exit code, `errors` holds the exit codes and the CLI's own errors, `output` prints the
JSON document or the lines for a person, `ranges` reads the partitions a command names, and
`commands/` carries out the subcommands, one module per stage. Only `commands/job.py` reaches
Dagster, through orchestration.defs.runner.
"""

from orchestration.cli.entry import main
from orchestration.cli.errors import EXIT_ENV, EXIT_INTERRUPTED, EXIT_OK, EXIT_REFUSED, EXIT_USAGE

__all__ = ["EXIT_ENV", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_REFUSED", "EXIT_USAGE", "main"]
