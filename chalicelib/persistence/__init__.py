"""PynamoDB models and repositories: the only code that talks to DynamoDB."""
