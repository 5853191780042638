"""`python -m debugbox`: the same entry point as the `debugbox` console script.

`python -m` puts the current directory first on `sys.path` (unless `-P`, `-I` or `PYTHONSAFEPATH`), so a
repository's `shlex.py` or `yaml.py` would shadow the real module for every import that follows. That entry is
dropped before anything else is imported. (A `debugbox.py` in the current directory would still win over this
package — nothing here can prevent that — which is why editors start the server with `-P` or through the
`debugbox` console script; see docs/security.md.)
"""

import os
import sys

if not sys.flags.safe_path and sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from debugbox.cli import main  # after the sys.path fix above, on purpose

raise SystemExit(main())
