"""recviz.ui"""
