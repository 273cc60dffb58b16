"""Topics: BERTopic discovery, retraining and assignment on the shared encoder's document vectors.

Modules stay import-light; BERTopic, UMAP and HDBSCAN are imported only where a model is fitted or loaded.
"""
