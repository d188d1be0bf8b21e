"""The daily digest: one day's figures and stories gathered from the warehouse (collect), rendered as escaped
Markdown and HTML (render), charted (chart), written to files (build), published as Atom (atom) and mailed
(mail). Takes a day; gives files under NEWSMON_HOME/digests/<day>/ and an email."""
