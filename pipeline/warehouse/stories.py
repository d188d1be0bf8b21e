"""Group articles that report the same event into stories: near-duplicate text within a time window.

Each article not yet clustered is compared (TF-IDF cosine over headline and lede) with the articles
published within `window_h` of it; it joins the story of its most similar earlier article when the
similarity reaches `threshold`, and otherwise keeps its own story (its own article id, set at load).
The threshold separates syndicated copies (wire text re-run under an edited headline) from different
events on the same theme; bench/README and tests/test_stories.py hold the figures it was chosen by.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa

from pipeline.core.transactions import transaction

WINDOW_H = 48.0
THRESHOLD = 0.5
LEDE_CHARS = 400
CHUNK = 256


def story_text(title: str, summary: str) -> str:
    return f"{title}. {summary[:LEDE_CHARS]}"


def assign_stories(con, now: datetime, window_h: float = WINDOW_H, threshold: float = THRESHOLD) -> dict:
    """Cluster every article with clustered_at NULL, in one transaction. Running it again changes nothing."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    new = con.execute(
        "SELECT article_id, story_id, title, summary, epoch(published_at) FROM articles "
        "WHERE clustered_at IS NULL ORDER BY published_at, article_id"
    ).fetchall()
    if not new:
        return {"articles_clustered": 0, "stories_merged": 0}
    first, last = new[0][4] - window_h * 3600, new[-1][4] + window_h * 3600
    fixed = con.execute(
        "SELECT article_id, story_id, title, summary, epoch(published_at) FROM articles "
        "WHERE clustered_at IS NOT NULL AND published_at BETWEEN to_timestamp(?)::TIMESTAMP "
        "AND to_timestamp(?)::TIMESTAMP",
        [first, last],
    ).fetchall()
    docs = sorted([(r, True) for r in fixed] + [(r, False) for r in new], key=lambda d: (d[0][4], d[0][0]))
    texts = [story_text(r[2], r[3]) for r, _ in docs]
    published = np.array([r[4] for r, _ in docs])
    is_fixed = np.array([f for _, f in docs])
    stories = [r[1] for r, _ in docs]
    window = window_h * 3600
    new_positions = np.flatnonzero(~is_fixed)
    merged = 0
    try:
        matrix = TfidfVectorizer(sublinear_tf=True, stop_words="english", dtype=np.float32).fit_transform(texts)
    except ValueError:  # nothing but stop words: no text to compare, every article stays its own story
        new_positions, unmatched = np.array([], dtype=int), new_positions
    else:
        unmatched = np.array([], dtype=int)
    for start in range(0, len(new_positions), CHUNK):
        rows = new_positions[start:start + CHUNK]
        lo = int(np.searchsorted(published, published[rows[0]] - window, side="left"))
        hi = int(np.searchsorted(published, published[rows[-1]] + window, side="right"))
        sims = (matrix[rows] @ matrix[lo:hi].T).tocsr()
        for k, row in enumerate(rows):
            cols = sims.indices[sims.indptr[k]:sims.indptr[k + 1]] + lo
            vals = sims.data[sims.indptr[k]:sims.indptr[k + 1]]
            ok = (vals >= threshold) & (cols != row) & (np.abs(published[cols] - published[row]) <= window)
            ok &= is_fixed[cols] | (cols < row)  # new articles join only stories already decided
            if ok.any():
                best = cols[ok][np.argmax(vals[ok])]
                if stories[best] != stories[row]:
                    stories[row] = stories[best]
                    merged += 1
    decided = np.concatenate([new_positions, unmatched])
    changes = pa.table({
        "article_id": [docs[i][0][0] for i in decided],
        "story_id": [stories[i] for i in decided],
    })
    con.register("story_changes", changes)
    try:
        with transaction(con):
            con.execute(
                "UPDATE articles SET story_id = c.story_id, clustered_at = ? "
                "FROM story_changes c WHERE articles.article_id = c.article_id AND articles.clustered_at IS NULL",
                [now],
            )
    finally:
        con.unregister("story_changes")
    return {"articles_clustered": len(decided), "stories_merged": merged}
