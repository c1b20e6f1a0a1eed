"""The embedded local system: moto as AWS, provisioning, demo data, the app's Lambda handlers run for Step
Functions tasks, DynamoDB stream records and SQS messages (lambdas.py, queues.py, functions.py, statemachines.py;
in a second process, lambda_process.py) and the Chalice app on loopback.

Development only: nothing in chalicelib/ imports this package, and moto stays a dev dependency.
"""
