"""stock service"""
