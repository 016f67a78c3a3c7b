"""Business intelligence: Metabase dashboards as code and the read-only BI database role."""
