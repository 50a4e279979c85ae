"""The central side's commands (`scg ingest`, `scg db`, `scg inventory`, `scg api`,
`scg history`, `scg report`). They live here, in the composition root, because they reach
across the central packages and share the database plumbing in `common`; the edge
packages (gateway, simulators) register their own commands."""
