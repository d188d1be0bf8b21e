"""The feed registry: feeds.yaml and OPML read, validated and written (lists), and the CLI's add / remove /
enable on the warehouse's `feeds` table (registry). Takes files and specs; gives FeedSpec records."""
