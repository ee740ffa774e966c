"""Test and benchmark support that is not a fixture (a throwaway PostgreSQL server)."""
