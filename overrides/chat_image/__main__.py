"""`python -m chat_image`: the same as the `chat-image` command."""

import sys

from ._cli import main

sys.exit(main())
