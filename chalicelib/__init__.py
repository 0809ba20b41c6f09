"""Everything that is deployed with the Lambda functions.

Layers:
- ``domain``: pure business logic (money, schedules, signing); no boto3.
- ``persistence``: PynamoDB models and repositories.
- ``usecases``: application services that combine domain and persistence.
- ``api``: translation between HTTP and the use cases (schemas, errors).
"""
