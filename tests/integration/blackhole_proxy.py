#!/usr/bin/env python3
"""A TCP proxy for the tests that plays a half-open Modbus TCP converter.

    blackhole_proxy.py LISTEN_PORT TARGET_PORT

Forwards 127.0.0.1:LISTEN_PORT to 127.0.0.1:TARGET_PORT, both ways. On SIGUSR1
every connection open at that moment is black-holed: nothing more is read from
either side or forwarded, but the sockets stay open (the kernel still
acknowledges what the client sends, as a converter that hung or whose network
vanished would appear through a NAT or a switch that keeps the session).
Connections made later are forwarded normally. Prints "listening", then
"accepted N" and "black-holed N" lines, flushed, for the test to wait on.
"""
import select
import signal
import socket
import sys
import threading

listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
lock = threading.Lock()
connections = []  # [client, server, black_holed]


def say(text):
    print(text, flush=True)


def pump(entry, source, sink):
    while True:
        with lock:
            if entry[2]:
                break
        ready, _, _ = select.select([source], [], [], 0.05)
        if not ready:
            continue
        with lock:
            if entry[2]:
                break
        try:
            data = source.recv(65536)
        except OSError:
            data = b""
        if not data:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            return
        try:
            sink.sendall(data)
        except OSError:
            return
    threading.Event().wait()  # black-holed: hold the sockets, read nothing, forever


def black_hole(signum, frame):
    with lock:
        for entry in connections:
            entry[2] = True
        count = len(connections)
    say("black-holed %d" % count)


signal.signal(signal.SIGUSR1, black_hole)
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", listen_port))
listener.listen(16)
say("listening")
accepted = 0
while True:
    try:
        client, _ = listener.accept()
    except InterruptedError:
        continue
    server = socket.create_connection(("127.0.0.1", target_port))
    entry = [client, server, False]
    with lock:
        connections.append(entry)
    accepted += 1
    say("accepted %d" % accepted)
    for source, sink in ((client, server), (server, client)):
        threading.Thread(target=pump, args=(entry, source, sink), daemon=True).start()
