"""``parley.client``, kept so that ``from parley.client import Parley`` goes on working.

The client lives in its own light distribution, ``parley-client`` (``client/`` in this
repository: httpx and pydantic only); new code imports ``parley_client``. Nothing is
defined here: every name is the one from ``parley_client``.
"""

from parley_client import *  # noqa: F403
from parley_client import __all__ as __all__
