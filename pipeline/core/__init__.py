"""What every stage shares and nothing else: settings (file + NEWSMON_* variables), named errors, plain records
(FeedSpec, FeedState, RawEntry, Article, FetchResult), atomic file writes and the UTC clock.
Imports nothing from the other stages."""
