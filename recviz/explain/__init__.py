"""recviz.explain"""
