"""Real servers on loopback that stand in for services out of reach (OVH) or receive our mail (SMTP)."""
