"""A tiny recviz model plugin: :class:`QueryPool`, registered as ``example-query-pool``."""

from recviz_plugin_example.model import QueryPool

__all__ = ["QueryPool"]
