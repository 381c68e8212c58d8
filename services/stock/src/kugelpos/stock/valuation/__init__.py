"""valuation"""
