"""Dockerfile understanding, pure: text in, stages, diagnostics, actions and Dockerfile.debug text out.

`parse` (text → instructions with positions, as BuildKit's parser reads them), `shell` (the one bounded
word-expansion engine, BuildKit's shell lexer), `stages` (FROM/ARG/USER resolution, image classification),
`rules` (diagnostics), `debug_image` (Dockerfile.debug rendering), `analysis` (the `Analysis` the
language server caches per document version). Nothing here imports pygls or touches the disk.
"""
