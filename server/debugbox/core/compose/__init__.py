"""Compose files (`compose.yaml`, `docker-compose.yml`, override files): the reader, diagnostics, the debug
sidecar service edit and the editor analysis. Pure, like the other analysers."""
