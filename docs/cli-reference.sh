#!/usr/bin/env bash
# Writes docs/cli.md to standard output from the help of the compseg binary given (default:
# .build/debug/compseg). Usage, from the repository root:
#     swift build && bash docs/cli-reference.sh .build/debug/compseg > docs/cli.md
# Tests/DocsTests/CLIReferenceTests.swift fails when docs/cli.md no longer matches the binary.
set -euo pipefail
compseg=${1:-.build/debug/compseg}
# Each subcommand: the lines of the SUBCOMMANDS section indented by exactly two spaces.
subcommands=$("$compseg" --help | awk '/^SUBCOMMANDS:/ {s = 1; next} s && /^[[:space:]]*$/ {exit} s && /^  [^ ]/ {print $1}')

cat <<'INTRO'
# The `compseg` command line

`compseg` is the one tool of this package: it writes synthetic data (`phantom`), trains a
segmenting network from image-level labels (`train`, `compare`, `demo`), applies a trained run
(`segment`, `evaluate`, `overlay`), describes image files and converts spectral ones (`inspect`,
`convert`), lists the plugins it was built with (`plugins`), checks a backend against the CPU's
(`check-backend`) and times the engine (`bench`, `bench-ops`). Every option has a `--help` line; what follows is that help,
verbatim, for the top level and for each subcommand in the order `compseg --help` lists them.
The file is generated, not written by hand: after changing a command, regenerate it from the
repository root with

```sh
swift build && bash docs/cli-reference.sh .build/debug/compseg > docs/cli.md
```

(`docs/cli-reference.sh` runs `compseg SUBCOMMAND --help` for every name in the SUBCOMMANDS
section of `compseg --help`). The test `Tests/DocsTests/CLIReferenceTests.swift` runs the built
binary the same way and fails when this page no longer matches it. The method behind the
options is in [method.md](method.md), the files they read and write in [data.md](data.md).

## compseg

```text
INTRO
"$compseg" --help | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
echo '```'
for name in $subcommands; do
    printf '\n## compseg %s\n\n```text\n' "$name"
    "$compseg" "$name" --help | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
    echo '```'
done
