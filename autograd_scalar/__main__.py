"""``python -m autograd_scalar`` is the ``autograd-scalar`` command."""

from .cli import main

raise SystemExit(main())
