"""recviz.eval"""
