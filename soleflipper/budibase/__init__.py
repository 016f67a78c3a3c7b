"""Data entry with Budibase: the entry tables Budibase writes, the reader that brings their rows
into the warehouse through the loader, and the generator of the Budibase app configuration."""
