"""Fast paths that re-implement scikit-learn vectorizers for classify's hot loop: one whitespace split per batch
(tokens), word n-gram TF-IDF (wordngrams) and character n-gram TF-IDF (charngrams). Each gives the same matrix
as scikit-learn's TfidfVectorizer; tests/classify/ holds them equal."""
