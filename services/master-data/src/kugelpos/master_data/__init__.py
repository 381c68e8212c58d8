"""master-data service"""
