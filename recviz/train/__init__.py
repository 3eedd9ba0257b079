"""recviz.train"""
