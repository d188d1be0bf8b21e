"""The DuckDB warehouse, the store every stage reads or writes: connections and migrations (store), the feeds
table (feeds), the single-writer load of staged batches (load), story clustering after each load (stories),
read-only queries (query), and checkpoint / backup / prune / Parquet export (maintenance)."""
