"""Online booking by usagers: what they may book and the booking itself."""
