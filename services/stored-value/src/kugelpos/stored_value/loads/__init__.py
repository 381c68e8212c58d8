"""loads"""
