"""adjustments"""
