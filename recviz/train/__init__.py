"""recviz.train: the training loop, losses and the cut-point sampler."""

from recviz.config import TrainConfig
from recviz.train.loop import TrainResult, train, train_command

__all__ = ["TrainConfig", "TrainResult", "train", "train_command"]
