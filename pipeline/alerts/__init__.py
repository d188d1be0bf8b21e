"""Alerts: named rules from alerts.yaml (rules) evaluated on the last 48 hours of the read path (recent, evaluate)
after each load: theme spikes, watched events, widely carried new stories. Gives messages by e-mail, webhook or
file (message, channels), each (rule, story or spike day) once per channel, kept in a sent-ledger (state) that is
not the warehouse; check is the one entry the CLI and the news_alerts DAG call."""
