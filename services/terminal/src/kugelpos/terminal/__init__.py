"""terminal service"""
