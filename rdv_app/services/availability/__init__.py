"""Availability: plages d'ouverture, indisponibilités, the slot engine's inputs, the agenda and "Trouver un RDV"."""
