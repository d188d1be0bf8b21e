-- 007: `articles.language` becomes the language detected from the article's own words (a code, 'mixed' or
-- 'und'); what the entry or its feed declared moves beside it. Rows loaded before this migration only ever had
-- the declared language: it is copied, and `newsmon detect-languages` re-detects them.
ALTER TABLE articles ADD COLUMN declared_language VARCHAR;
UPDATE articles SET declared_language = language;
