"""recviz.models"""
