"""Website chat: the embeddable widget's server side, its 24-hour bot hand-off and live agents."""

from connectors.webchat.connector import WebchatConnector

__all__ = ["WebchatConnector"]
