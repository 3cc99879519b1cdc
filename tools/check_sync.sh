#!/usr/bin/env bash
# Fail when nbdev_export or nbdev_clean would change the tree: notebooks and the jmt package must be in sync and clean.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
state() { git status --porcelain --untracked-files=all; git diff | sha1sum; }
for step in nbdev_export nbdev_clean; do
  before=$(state)
  "$step" >/dev/null
  after=$(state)
  if [ "$before" != "$after" ]; then
    echo "ERROR: '$step' changed files in the tree (below). The notebooks and jmt/ are out of sync or unclean:" >&2
    git status --short >&2
    echo "Fix: run 'nbdev_export && nbdev_clean' locally, review the diff, and commit it." >&2
    exit 1
  fi
done
echo "nbdev_export and nbdev_clean leave the tree unchanged."
