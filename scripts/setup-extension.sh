#!/usr/bin/env bash
# Placeholder until the VS Code extension lands (issue 6): nothing to install yet.
exit 0
