"""Application services: each combines domain logic with persistence for one business action."""
