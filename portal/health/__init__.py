"""`/healthz`: whether this process can reach the database and the job queue, for the proxy and the process manager."""
