"""The development outbox: mail the console backend wrote, readable in the browser under `make run`."""
