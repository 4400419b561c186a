"""WeChat Official Account channel: pushes in (plaintext or safe mode), service messages out."""

from connectors.wechat.connector import WeChatConnector

__all__ = ["WeChatConnector"]
