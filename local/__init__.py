"""The local stack: everything that serves local runs and is never deployed.

Deployed handlers never import this package (a test checks it).
"""
