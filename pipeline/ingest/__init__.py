"""Ingestion, in data-flow order: fetch (httpx, validators, backoff) -> parse (feedparser on bytes) -> normalize
(canonical URL, clean text, dates, ids) -> dedupe -> full text -> stage (Parquet per batch). `cycle` conducts
one run: plan due feeds, process batches (classifying them), load once. Takes FeedSpecs; gives staged files and
a loaded run."""
