"""The contacts CSV importer: map columns, check every row, write contacts; and the CSV export."""
