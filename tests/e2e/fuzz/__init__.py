"""The partner API under an independent fuzzer (Schemathesis), signed as the contract says."""
