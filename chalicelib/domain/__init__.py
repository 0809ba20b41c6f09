"""Pure business logic. Nothing in this package imports boto3 or touches the network."""
