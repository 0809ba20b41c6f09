"""Translation between HTTP and the use cases: request schemas, responses and errors."""
