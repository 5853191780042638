"""Live targets: container engines (Docker, Podman, nerdctl) and the Kubernetes backend, and how to debug
them.

The only package with side effects on engines; see `service.py` for the entry point.
"""
