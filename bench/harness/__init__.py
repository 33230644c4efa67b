"""The benchmark's harness: server processes, the servers under test, wrk, the check request,
CPU noise and machine facts. It measures nothing by itself; bench/measures/ decides what to run."""
