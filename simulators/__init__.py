"""Local HTTP simulators of the external APIs (StockX, Notion, eBay, Alias, Metabase).

They exist for tests, the demo and `soleflipper simulate <name>`: each speaks one platform's
contract on 127.0.0.1 and misbehaves on demand (see `simulators.base`). Production code never
imports this package; clients only ever see a base URL, so pointing them at a simulator is
configuration, not code.
"""
