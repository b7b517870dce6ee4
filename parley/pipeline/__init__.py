"""The processing pipeline: decode → speech → speakers → sentences → insights.

Each stage is one module with one public entry point. Nothing here knows about
HTTP, the database or the queue: stages take typed records and return new ones.
"""
