"""Organisation and territory configuration: lieux, motifs, settings, the public booking link."""
