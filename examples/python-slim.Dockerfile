# syntax=docker/dockerfile:1
# A Python web app on Debian slim (apt, /bin/sh). The HEALTHCHECK calls curl, which python:*-slim does not
# ship: debugbox warns about it (DBX103).
FROM python:3.12-slim-bookworm
WORKDIR /app
COPY <<EOF app.py
from http.server import HTTPServer, SimpleHTTPRequestHandler

HTTPServer(("", 8000), SimpleHTTPRequestHandler).serve_forever()
EOF
RUN useradd --create-home --uid 10001 app
USER app
EXPOSE 8000
HEALTHCHECK CMD curl -fsS http://localhost:8000/ || exit 1
CMD ["python", "app.py"]
