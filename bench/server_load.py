#!/usr/bin/env python3
"""Load on the team server: N concurrent clients (keep-alive HTTP/1.1, standard library only)
reading a finished run's report and a running run's status for D seconds; prints requests/s and
latency percentiles as JSON.

    python3 bench/server_load.py --addr 127.0.0.1:8080 --token TOKEN \
        --report-run r... --status-run r... --clients 1000 --seconds 20

A stand-in for a load generator such as `oha` (not installed on the measuring machine); the
client shares the machine's cores with the server, so the numbers are a lower bound.
"""
import argparse
import asyncio
import json
import time


async def client(addr, token, paths, deadline, latencies, errors):
    host, port = addr.split(":")
    try:
        reader, writer = await asyncio.open_connection(host, int(port))
    except OSError:
        errors.append("connect")
        return
    i = 0
    while time.monotonic() < deadline:
        path = paths[i % len(paths)]
        i += 1
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n"
        ).encode()
        started = time.monotonic()
        try:
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, ValueError) as e:
            errors.append(type(e).__name__)
            return
        latencies.append(time.monotonic() - started)
        if status != 200:
            errors.append(str(status))
    writer.close()


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--addr", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--report-run", required=True)
    p.add_argument("--status-run", required=True)
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=20)
    a = p.parse_args()
    paths = [f"/api/v1/runs/{a.report_run}/report", f"/api/v1/runs/{a.status_run}"]
    latencies, errors = [], []
    started = time.monotonic()
    deadline = started + a.seconds
    await asyncio.gather(
        *(
            client(a.addr, a.token, paths[i % 2 :] + paths[: i % 2], deadline, latencies, errors)
            for i in range(a.clients)
        )
    )
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(q):
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 1)

    print(
        json.dumps(
            {
                "clients": a.clients,
                "seconds": round(elapsed, 1),
                "requests": len(latencies),
                "requests_per_second": round(len(latencies) / elapsed),
                "p50_ms": pct(0.50),
                "p95_ms": pct(0.95),
                "p99_ms": pct(0.99),
                "errors": len(errors),
                "error_kinds": sorted(set(errors))[:10],
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
