"""debugbox: a shell and real tools in any running container, from the editor.

Importing this package has no side effects and pulls in nothing heavy.
"""

__version__ = "0.1.0"
