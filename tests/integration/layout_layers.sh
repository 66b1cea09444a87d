#!/usr/bin/env bash
# core/ keeps its shape (core/README.md): layer folders used only from above, one
# public header each, and no two files calling each other in a cycle.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build} scripts/check-layers
