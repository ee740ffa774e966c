"""The database: its schema (migrations are its only source), engines, batch statements and
codecs, migrations, backups, and how an outage is told from a mistake."""
