"""expiry"""
