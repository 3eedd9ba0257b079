"""recviz.report"""
