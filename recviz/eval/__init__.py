"""recviz.eval: ranking metrics (pure numpy, hand-checked), the full-catalogue evaluate() driver and bootstrap
intervals over users."""

from recviz.eval.bootstrap import Interval, bootstrap_ci
from recviz.eval.evaluate import EvalResult, evaluate

__all__ = ["EvalResult", "Interval", "bootstrap_ci", "evaluate"]
