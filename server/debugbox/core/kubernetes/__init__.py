"""Kubernetes manifests, purely: find pod specs in YAML/JSON streams, describe them, and edit them minimally.

`yamlstream` splits a stream into documents and builds positioned trees from libyaml's events;
`pod_spec` finds the pod specs (the model other features use: kind, name, namespace, selector, template
labels, containers); `edits` computes minimal edits, each passing `verify` (the edited document loads and
means the original plus exactly the intended change); `analysis` is the language server's view
(`analyze(uri, text, settings, previous)`); `inspect` is `debugbox inspect`'s JSON. Nothing here does I/O
or imports pygls.
"""
