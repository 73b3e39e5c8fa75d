#!/usr/bin/env python3
"""safetygw soak: the sample site for N minutes of hazards, faults, broker restarts and reloads.

    bench/soak.py --build build/bench [--minutes 30] [--seed 1] [--keep]

Runs config/sites/changshou (798 devices, 37 buses) on the simulator (wire timing, strict
RS-485 framing) with a private mosquitto, all on 127.0.0.1, in one temporary folder, and
for the whole time: random hazards on random devices (and their end), devices that fall
silent, answer garbled, late or with exceptions (and heal), whole buses that go down (and
come back), broker restarts, and SIGHUP reloads (the file alternating between two
versions). A persistent QoS 1 subscriber takes every alarm event; the control socket is
asked for `status` every 2 s and timed. At the end everything heals, the daemon's queue
drains, and it prints: resident memory, open file descriptors and threads of the daemon
after the warm-up and at the end, alarm events lost (gaps in seq: must be 0), duplicates,
and the slowest `status` answer. Exit 1 if an event was lost or the daemon died.

Not part of ctest: it takes as long as it is told to. Standard library only; needs
mosquitto and mosquitto_sub on PATH.
"""

import argparse
import heapq
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (the bench's process and site helpers)

STATUS_EVERY_S = 2.0
WARMUP_S = 20
DRAIN_TIMEOUT_S = 180
RELOAD_POLL_MS = 3000  # every other reload gives one device this poll_ms


def log(text):
    print("soak: " + text, file=sys.stderr, flush=True)


def proc_figures(pid):
    """Resident memory (KiB), open descriptors and threads of a process."""
    kib = bench.memory_kib(pid)
    fds = len(os.listdir("/proc/%d/fd" % pid))
    threads = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Threads:"):
                threads = int(line.split()[1])
    return {"rss_kib": kib["VmRSS"], "peak_kib": kib["VmHWM"], "fds": fds, "threads": threads}


def ask(control_path, request, timeout_s=15):
    """One control-socket request; the answer and the time it took (s)."""
    started = time.monotonic()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout_s)
        s.connect(control_path)
        s.sendall(json.dumps(request).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    return json.loads(data), time.monotonic() - started


class Site:
    """The sample site's file, its devices by kind and its buses."""

    def __init__(self, work, broker_port):
        self.path = os.path.join(work, "changshou.yaml")
        bench.write_sample_site(self.path, os.path.join(work, "demo"), broker_port)
        self.text = open(self.path, encoding="utf-8").read()
        self.devices = re.findall(r"id: (\S+), profile: (\S+), bus: (\S+),", self.text)
        self.buses = re.findall(r"name: (\S+), type: (rtu|tcp)", self.text)
        self.prefix = re.search(r"topic_prefix: (\S+)", self.text).group(1)
        self.control = re.search(r"control_socket: (\S+)", self.text).group(1)
        self.reloads = 0
        first = re.escape(self.devices[0][0])
        self.reload_pattern = re.compile(r"(id: %s, profile: \S+, bus: \S+, address: \d+,)( poll_ms: \d+,)?" % first)

    def rewrite_for_reload(self):
        """Gives the first device a poll_ms of its own, or takes it away again, so that every
        reload changes something (that device is rebuilt, the others carried over)."""
        self.reloads += 1
        extra = " poll_ms: %d," % RELOAD_POLL_MS if self.reloads % 2 else ""
        self.text = self.reload_pattern.sub(lambda m: m.group(1) + extra, self.text, count=1)
        with open(self.path + ".new", "w", encoding="utf-8") as f:
            f.write(self.text)
        os.replace(self.path + ".new", self.path)


class Soak:
    def __init__(self, build, work, seed):
        self.build = build
        self.work = work
        self.rng = random.Random(seed)
        self.procs = bench.Processes(work)
        self.sim_bin = os.path.join(build, "sensors", "sim", "safetygw-sim")
        self.daemon_bin = os.path.join(build, "gateway", "safetygwd")
        self.broker_port = bench.free_port()
        self.broker = None
        self.undo = []  # heap of (when, sequence, command or callable)
        self.undo_count = 0
        self.busy = set()  # devices and buses with a fault or hazard in force
        self.counts = {}
        self.status_times = []
        self.errors = []

    # -- processes --

    def start_broker(self):
        folder = os.path.join(self.work, "broker")
        os.makedirs(folder, exist_ok=True)
        conf = os.path.join(self.work, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence true\n"
                    "persistence_location %s/\nmax_queued_messages 1000000\n"
                    % (self.broker_port, folder))
        self.broker = self.procs.start("mosquitto", ["mosquitto", "-c", conf])

        def up():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.broker_port)) == 0
        bench.wait_for("mosquitto", up, 10)

    def start_subscriber(self, prefix):
        self.events_path = os.path.join(self.work, "events.txt")
        out = open(self.events_path, "ab")
        self.subscriber = self.procs.start("subscriber", [
            "mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.broker_port), "-q", "1", "-c",
            "-i", "soak-subscriber", "-t", prefix + "/alarm/#", "-F", "%p"], stdout=out)
        time.sleep(0.5)

    def start_sim(self, site):
        control = os.path.join(self.work, "sim.sock")
        self.sim = self.procs.start("sim", [self.sim_bin, "-c", site.path, "--control", control,
                                            "--log-level", "warning"])
        bench.wait_for("the simulator", lambda: os.path.exists(control), 60)
        self.control = bench.SimControl(control)

    def start_daemon(self, site):
        self.daemon = self.procs.start("daemon", [self.daemon_bin, "-c", site.path,
                                                  "--log-level", "info"])
        bench.wait_for("the control socket", lambda: os.path.exists(site.control), 30)

    # -- disturbances --

    def later(self, seconds, action):
        self.undo_count += 1
        heapq.heappush(self.undo, (time.monotonic() + seconds, self.undo_count, action))

    def sim_send(self, command):
        try:
            self.control.send(command)
        except RuntimeError as error:
            self.errors.append(str(error))

    def count(self, what):
        self.counts[what] = self.counts.get(what, 0) + 1

    def free_device(self):
        for _ in range(20):
            device, profile, bus = self.rng.choice(self.site.devices)
            if device not in self.busy and bus not in self.busy:
                return device, profile, bus
        return None

    def hazard(self):
        choice = self.free_device()
        if not choice:
            return
        device, profile, _ = choice
        if profile.startswith("gas"):
            command = "hazard %s gas_leak" % device
        elif profile.startswith("elevator"):
            command = "hazard %s trapped" % device
        elif self.rng.random() < 0.5:
            command = "hazard %s smoke" % device
        else:
            command = "hazard %s port_overheat %d" % (device, self.rng.randrange(10))
        self.busy.add(device)
        self.sim_send(command)
        self.count("hazards")

        def calm():
            self.sim_send("calm " + device)
            self.busy.discard(device)
        self.later(self.rng.uniform(5, 40), calm)

    def device_fault(self):
        choice = self.free_device()
        if not choice:
            return
        device = choice[0]
        fault = self.rng.choice(["silent", "silent", "bad_crc", "slow", "exception 2",
                                 "exception 4"])
        self.busy.add(device)
        self.sim_send("fault %s %s" % (device, fault))
        self.count("device faults")

        def heal():
            self.sim_send("heal " + device)
            self.busy.discard(device)
        self.later(self.rng.uniform(10, 60), heal)

    def bus_down(self):
        bus, _ = self.rng.choice(self.site.buses)
        if bus in self.busy:
            return
        self.busy.add(bus)
        self.sim_send("fault bus %s down" % bus)
        self.count("buses down")

        def heal():
            self.sim_send("heal bus " + bus)
            self.busy.discard(bus)
        self.later(self.rng.uniform(15, 60), heal)

    def broker_restart(self):
        if self.broker is None:
            return
        self.procs.stop(self.broker)
        self.broker = None
        self.count("broker restarts")
        self.later(self.rng.uniform(3, 20), self.start_broker)

    def reload(self):
        self.site.rewrite_for_reload()
        os.kill(self.daemon.pid, signal.SIGHUP)
        self.count("reloads")

    def disturb(self):
        """One random disturbance; their mix per second of soak."""
        roll = self.rng.random()
        if roll < 0.45:
            self.hazard()
        elif roll < 0.80:
            self.device_fault()
        elif roll < 0.90:
            self.bus_down()
        elif roll < 0.95:
            self.reload()
        else:
            self.broker_restart()

    def undo_due(self, now):
        while self.undo and self.undo[0][0] <= now:
            _, _, action = heapq.heappop(self.undo)
            action()

    def undo_all(self):
        while self.undo:
            _, _, action = heapq.heappop(self.undo)
            action()

    def time_status(self):
        try:
            answer, took = ask(self.site.control, {"cmd": "status"})
            self.status_times.append(took)
            return answer
        except (OSError, ValueError) as error:
            self.errors.append("status: %s" % error)
            return None

    # -- the run --

    def run(self, minutes):
        self.start_broker()
        self.site = Site(self.work, self.broker_port)
        self.start_subscriber(self.site.prefix)
        self.start_sim(self.site)
        self.start_daemon(self.site)
        log("warming up %d s" % WARMUP_S)
        time.sleep(WARMUP_S)
        start = proc_figures(self.daemon.pid)
        self.status_times = []
        deadline = time.monotonic() + 60 * minutes
        next_status = next_disturbance = time.monotonic()
        log("soaking %d minutes" % minutes)
        while time.monotonic() < deadline:
            if self.daemon.poll() is not None:
                self.errors.append("the daemon exited with %s" % self.daemon.returncode)
                break
            now = time.monotonic()
            self.undo_due(now)
            if now >= next_disturbance:
                self.disturb()
                next_disturbance = now + self.rng.expovariate(1 / 4.0)  # one every 4 s
            if now >= next_status:
                self.time_status()
                next_status = now + STATUS_EVERY_S
            time.sleep(0.1)
        log("healing everything, waiting for the queue to drain")
        self.undo_all()
        if self.broker is None:
            self.start_broker()
        return start, self.finish()

    def finish(self):
        drained_at = None
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        last = None
        while time.monotonic() < deadline and self.daemon.poll() is None:
            status = self.time_status()
            if status and status.get("mqtt", {}).get("connected") and \
                    status["mqtt"].get("queued") == 0:
                received = self.received_seqs()
                top = max(received) if received else 0
                if top >= status["next_seq"] - 1:
                    drained_at = status
                    break
            last = status
            time.sleep(1)
        end = proc_figures(self.daemon.pid) if self.daemon.poll() is None else None
        final = drained_at or last
        if self.daemon.poll() is None:
            self.procs.stop(self.daemon, 30)
            if self.daemon.returncode != 0:
                self.errors.append("SIGTERM: the daemon exited with %d" % self.daemon.returncode)
        time.sleep(2)  # the subscriber takes the last messages
        return {"end": end, "next_seq": final["next_seq"] if final else None,
                "drained": drained_at is not None}

    def received_seqs(self):
        seqs = []
        try:
            with open(self.events_path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    try:
                        seqs.append(int(json.loads(line)["seq"]))
                    except (ValueError, KeyError):
                        pass
        except OSError:
            pass
        return seqs


def report(soak, minutes, start, result):
    seqs = soak.received_seqs()
    unique = sorted(set(seqs))
    expected = (result["next_seq"] or 1) - 1
    missing = sorted(set(range(1, expected + 1)) - set(unique))
    end = result["end"] or {}
    rows = [
        ("duration", "%d min" % minutes),
        ("disturbances", ", ".join("%d %s" % (n, what) for what, n in sorted(soak.counts.items()))),
        ("alarm events (seq 1..%d)" % expected, "%d received, %d duplicates" % (
            len(unique), len(seqs) - len(unique))),
        ("events lost", "%d%s" % (len(missing), (" (seq %s)" % ", ".join(
            map(str, missing[:10]))) if missing else "")),
        ("queue drained at the end", "yes" if result["drained"] else "NO"),
        ("resident memory (after warm-up -> end)", "%.1f -> %.1f MiB (peak %.1f)" % (
            start["rss_kib"] / 1024, end.get("rss_kib", 0) / 1024, end.get("peak_kib", 0) / 1024)),
        ("open file descriptors", "%d -> %d" % (start["fds"], end.get("fds", -1))),
        ("threads", "%d -> %d" % (start["threads"], end.get("threads", -1))),
        ("status answers", "%d, slowest %.1f ms, median %.1f ms" % (
            len(soak.status_times), 1000 * max(soak.status_times or [0]),
            1000 * sorted(soak.status_times or [0])[len(soak.status_times) // 2])),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    print("safetygw soak, %s, %s" % (time.strftime("%Y-%m-%d %H:%M %Z"), bench.machine()))
    print()
    for name, value in rows:
        print("| %s | %s |" % (name.ljust(width), value))
    for error in soak.errors[:20]:
        print("- " + error)
    return len(missing) == 0 and result["drained"] and not any(
        "daemon exited" in e for e in soak.errors)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, help="release build folder")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the work folder and logs")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="safetygw-soak.")
    os.chmod(work, 0o755)
    soak = Soak(os.path.abspath(args.build), work, args.seed)

    def stop(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    ok = False
    try:
        start, result = soak.run(args.minutes)
        ok = report(soak, args.minutes, start, result)
    except KeyboardInterrupt:
        log("interrupted")
    except Exception as error:  # say what happened, keep the logs
        log("error: %s" % error)
    finally:
        soak.procs.stop_all()
    if args.keep or not ok:
        log("work folder and logs kept in " + work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
