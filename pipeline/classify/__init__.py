"""Classification: the theme taxonomy and lexicon, the trained model (model.py) with its second stage
(neighbours) and its fast vectorizers (fastpath/, equal to scikit-learn's by test), training, evaluation, and
the model operations that promote a model and reclassify the warehouse. Takes texts; gives labels, scores,
evidence and a model version."""
