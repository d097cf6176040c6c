"""Delivery outcomes that the worker tells apart: retry later, or give up at once."""

from __future__ import annotations


class DeliveryError(Exception):
    """A message could not be handed to its provider."""


class TemporaryDeliveryError(DeliveryError):
    """Worth retrying: provider down, timeout, throttling, credentials an operator can fix."""


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help: invalid number or address, parameters the provider refuses."""
