"""stored-value service"""
