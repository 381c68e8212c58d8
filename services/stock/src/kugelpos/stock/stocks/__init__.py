"""stocks"""
