"""liability"""
