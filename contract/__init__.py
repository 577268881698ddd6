"""What every stage shares: the schema format, cell parsing, CSV sniffing and
the table -> model-input feeds. Standard library and numpy only, so the
serving image carries it without the training stack."""
