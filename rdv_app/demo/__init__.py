"""The demo: its data (`make run`, `make seed`) and its mailbox."""
