"""``python -m cli``: the same as the ``eco-claims`` command."""

import sys

from cli.main import main

sys.exit(main())
