"""`python -m ingest …`: the central commands without the rest of the scg CLI."""

import sys

from ingest.cli import main

sys.exit(main())
