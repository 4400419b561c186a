"""Twilio channel: SMS/MMS in and out (and voice calls) through one Twilio number."""

from connectors.twilio.connector import TwilioConnector

__all__ = ["TwilioConnector"]
