"""Getting customers and events in: CSV and JSON customers, event lines, demo files."""
