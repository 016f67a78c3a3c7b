"""Import folders: where users (and the demo) drop export files, one folder per format."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from soleflipper.formats import CsvFormat


class ImportFolderResource(dg.ConfigurableResource):
    root: str
    """Folder holding one sub-folder per file format (``<root>/<format name>/``)."""

    def folder(self, fmt: CsvFormat) -> Path:
        return Path(self.root) / fmt.name

    def files(self, fmt: CsvFormat) -> list[Path]:
        """Files in the format's folder matching its patterns, oldest name first."""
        folder = self.folder(fmt)
        if not folder.is_dir():
            return []
        found = {p for pattern in fmt.file_patterns for p in folder.glob(pattern) if p.is_file()}
        return sorted(found)
