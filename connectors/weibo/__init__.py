"""Weibo channel: fan service platform (粉丝服务平台) private messages in and out."""

from connectors.weibo.connector import WeiboConnector

__all__ = ["WeiboConnector"]
