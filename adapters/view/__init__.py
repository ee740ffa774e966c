"""The unified customer view (DESIGN 10): one customer as every channel sees them, and the
contacts every channel records and shares."""
