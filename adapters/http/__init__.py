"""The Flask HTTP app: a thin edge over the engine and the database adapters."""
