"""The embedded local system: moto as AWS, provisioning, demo data and the Chalice app on loopback.

Development only: nothing in chalicelib/ imports this package, and moto stays a dev dependency.
"""
