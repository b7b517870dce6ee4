"""Parley: a self-hosted conversation-intelligence server that speaks Symbl.ai's REST API."""

__version__ = "0.1.0"
