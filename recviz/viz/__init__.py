"""recviz.viz"""
