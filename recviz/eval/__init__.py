"""recviz.eval: ranking metrics (pure numpy, hand-checked) and the full-catalogue evaluate() driver."""

from recviz.eval.evaluate import EvalResult, evaluate

__all__ = ["EvalResult", "evaluate"]
