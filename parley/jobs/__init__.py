"""Jobs: submission, the queue, the worker that runs the pipeline, and webhooks."""
