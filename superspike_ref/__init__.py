"""superspike_ref: a pure-NumPy reference implementation of SuperSpike (Zenke & Ganguli 2018)."""
from .fast import BatchFastEngine, FastEngine
from .network import LiteralEngine, Network, RunResult, init_weights
from .params import Params
from .tasks import CyclicTask

__version__ = "0.1.0"
__all__ = ["Params", "Network", "LiteralEngine", "FastEngine", "BatchFastEngine", "RunResult", "CyclicTask", "init_weights"]
