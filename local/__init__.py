"""The embedded local system: moto as AWS, provisioning, demo data, the app's Lambda handlers run in-process
(Step Functions tasks, DynamoDB stream records: lambdas.py, functions.py, statemachines.py) and the Chalice
app on loopback.

Development only: nothing in chalicelib/ imports this package, and moto stays a dev dependency.
"""
