#!/usr/bin/env python3
"""Clients of the control socket that misbehave, for the CLI tests.

    control_clients.py SOCKET COUNT --ready FILE [--request LINE] [--until closed|signal]
                       [--max-s SECONDS]

Opens COUNT connections one after the other, sends LINE (plus a newline) on each, or
nothing without --request, and never reads: a hung script, a monitoring plug-in that
stopped, a crowd of `socat` left open. Once every connection is made (each connect()
has returned, so the daemon's listen queue holds them in that order) it writes FILE.

Then it waits, without reading, until every connection has been closed by the daemon
(--until closed) or until SIGTERM (--until signal), and at most --max-s seconds. Last
it reads what each connection was sent and prints one JSON object per connection, in
connection order, on stdout:

    {"closed_by_daemon": true, "bytes": 183741, "complete": false, "error": null}

closed_by_daemon: the daemon had hung up before the wait ended; complete: what arrived
ends in a newline (a whole answer); error: the "error" of a one-line refusal. Reading
them all takes at most 5 s.

Standard library only.
"""

import argparse
import json
import select
import signal
import socket
import sys
import time


def connect_all(path, count, request):
    connections = []
    for _ in range(count):
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(path)
        if request is not None:
            connection.sendall(request.encode() + b"\n")
        connections.append(connection)
    return connections


def wait_for_hangups(connections, until, max_s, stop):
    """Indexes of the connections the daemon closed, watched without reading."""
    poller = select.poll()
    for connection in connections:
        poller.register(connection, select.POLLRDHUP)
    by_fd = {connection.fileno(): index for index, connection in enumerate(connections)}
    closed = set()
    deadline = time.monotonic() + max_s
    while not stop["now"] and time.monotonic() < deadline:
        if until == "closed" and len(closed) == len(connections):
            break
        for fd, _ in poller.poll(100):
            closed.add(by_fd[fd])
            poller.unregister(fd)
    return closed


def drain(connection, deadline):
    """Everything the connection holds, up to its end, a quiet second or the deadline."""
    chunks = []
    try:
        while True:
            connection.settimeout(min(1.0, max(0.01, deadline - time.monotonic())))
            chunk = connection.recv(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    except (socket.timeout, ConnectionResetError):
        pass
    return b"".join(chunks)


def describe(data, closed):
    error = None
    if data.endswith(b"\n") and len(data) < 4096:
        try:
            answer = json.loads(data)
            error = answer.get("error") if isinstance(answer, dict) else None
        except ValueError:
            pass
    return {"closed_by_daemon": closed, "bytes": len(data), "complete": data.endswith(b"\n"),
            "error": error}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("socket")
    parser.add_argument("count", type=int)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--request")
    parser.add_argument("--until", choices=("closed", "signal"), default="signal")
    parser.add_argument("--max-s", type=float, default=60.0)
    options = parser.parse_args()
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))

    connections = connect_all(options.socket, options.count, options.request)
    with open(options.ready, "w") as ready:
        ready.write("%d\n" % len(connections))
    closed = wait_for_hangups(connections, options.until, options.max_s, stop)
    drain_deadline = time.monotonic() + 5.0
    for index, connection in enumerate(connections):
        print(json.dumps(describe(drain(connection, drain_deadline), index in closed)))
        connection.close()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
