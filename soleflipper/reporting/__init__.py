"""Reports read from the warehouse marts: the static HTML report (:mod:`.html_report`, data in
:mod:`.report_data`, charts in :mod:`.charts`) and the tax-year export with its DAC7
reconciliation (:mod:`.tax`). Plain functions; the CLI is :mod:`pipelines.cli_report`."""
