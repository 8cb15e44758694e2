"""Everything that never ships: the local stack, SQLite storage, the CLI, lint, packaging, the page,
the pytest plugin and the test models. It may import anything; nothing deployable may import it.

The build refuses any zip whose imports reach this package, and no AWS setting can switch it on.
"""
