"""The fast engine's windowed filters under their old module path; they live in :mod:`superspike_ref.fast.filters`."""
from .fast.filters import *  # noqa: F401,F403
from .fast.filters import __all__  # noqa: F401
