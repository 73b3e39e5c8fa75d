#!/usr/bin/env python3
"""safetygw benchmarks: the measurements behind `bench/run` (see bench/README.md).

    bench/bench.py --build build/bench [--only NAME[,NAME...]] [--keep]

Starts a private mosquitto, the simulator and the daemon of a release build for each
figure, all on 127.0.0.1 at free ports, with every file in one temporary folder, and
prints one table: each figure beside its target and, where it has one, its physical
limit. Every process it starts is stopped again (also on Ctrl-C or SIGTERM).

Standard library only; needs mosquitto and mosquitto_sub on PATH.
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
PROFILES = os.path.join(SOURCE, "config", "profiles")
SAMPLE_SITE = os.path.join(SOURCE, "config", "sites", "changshou", "gateway.yaml")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SIM_LATENCY_MS = 10  # the simulator's default reply latency on RTU buses, passed explicitly
GAS_READ_REGISTERS = 8  # the gas-alarm profile is one FC03 read of HR0..HR7
FIGURES = ("wire", "dead", "dead-latency", "latency", "throughput", "site", "meter", "startup")


def log(text):
    print("bench: " + text, file=sys.stderr, flush=True)


# --- Modbus RTU wire time (DOMAIN.md; the simulator's sim_wire.c uses the same formula) ---

def bits_per_char(parity, data_bits, stop_bits):
    return 1 + data_bits + (0 if parity == "N" else 1) + stop_bits


def read_wire_ms(baud, parity, data_bits, stop_bits, registers, latency_ms):
    """One FC03 transaction: 8-byte request, 5 + 2N byte reply, two t3.5 gaps, latency."""
    char_ms = bits_per_char(parity, data_bits, stop_bits) * 1000.0 / baud
    t35_ms = 3.5 * char_ms if baud <= 19200 else 1.75
    return (8 + 5 + 2 * registers) * char_ms + 2 * t35_ms + latency_ms


# --- processes -------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(count):
    """`count` distinct free ports (held open together so none repeats)."""
    holders, ports = [], []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            holders.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in holders:
            s.close()
    return ports


def wait_for(what, predicate, timeout_s, interval_s=0.05):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for " + what)
        time.sleep(interval_s)


class Processes:
    """Every child this run started; stop_all() ends them, newest first."""

    def __init__(self, work):
        self.work = work
        self.running = []

    def start(self, name, argv, stdout=None):
        logfile = open(os.path.join(self.work, name + ".log"), "ab")
        proc = subprocess.Popen(argv, stdout=stdout or logfile, stderr=logfile,
                                stdin=subprocess.DEVNULL)
        proc.bench_name = name
        self.running.append(proc)
        return proc

    def stop(self, proc, timeout_s=10):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc in self.running:
            self.running.remove(proc)

    def stop_all(self):
        for proc in reversed(list(self.running)):
            self.stop(proc)


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # fields 14 and 15 of stat


def memory_kib(pid):
    """VmRSS, VmHWM, RssAnon, RssFile of a process, in KiB."""
    found = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                found[key] = int(value.split()[0])
    return found


def context_switches(pid):
    """Voluntary and involuntary context switches of every thread of a process, as
    {thread id: (voluntary, involuntary)} (/proc/PID/status counts its main thread only)."""
    counts = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        found = {}
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    key, _, value = line.partition(":")
                    if key in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
                        found[key] = int(value)
        except OSError:
            continue  # the thread ended meanwhile
        counts[tid] = (found["voluntary_ctxt_switches"], found["nonvoluntary_ctxt_switches"])
    return counts


def switches_between(before, after):
    """(voluntary, involuntary) switches made between two context_switches() readings, by
    the threads alive at the second (a thread born meanwhile counts from 0)."""
    voluntary = sum(v - before.get(tid, (0, 0))[0] for tid, (v, _) in after.items())
    involuntary = sum(n - before.get(tid, (0, 0))[1] for tid, (_, n) in after.items())
    return voluntary, involuntary


def load_average():
    """The machine's 1-minute load average."""
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def strace_summary(path):
    """strace -c's table: (total calls, [(calls, syscall), ...] most frequent first)."""
    total, calls = 0, []
    with open(path) as f:
        for line in f:
            words = line.split()
            # "% time, seconds, usecs/call, calls, [errors,] syscall"; the last row is "total"
            if len(words) < 5 or not words[3].isdigit():
                continue
            if words[-1] == "total":
                total = int(words[3])
            else:
                calls.append((int(words[3]), words[-1]))
    return total, sorted(calls, reverse=True)


def memory_text(kib):
    return "%.1f MiB (anon %.1f + files %.1f; peak %.1f)" % (
        kib["VmRSS"] / 1024, kib["RssAnon"] / 1024, kib["RssFile"] / 1024, kib["VmHWM"] / 1024)


class SimControl:
    """One connection to the simulator's control socket: a command, a reply line."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buffer = b""

    def send(self, command):
        self.sock.sendall(command.encode() + b"\n")
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("simulator closed its control socket")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        reply = line.decode()
        if not reply.startswith("ok"):
            raise RuntimeError("simulator: %s -> %s" % (command, reply))
        return reply

    def served(self, bus=None):
        """Requests answered: on one bus, or summed over every bus."""
        reply = self.send("counters" + (" " + bus if bus else ""))
        return sum(int(word.split("=")[1]) for word in reply.split()
                   if word.startswith("served="))

    def ignored(self, bus):
        """Requests nobody answered on a bus (silent devices)."""
        return int(self.send("counters " + bus).split("ignored=")[1].split()[0])

    def close(self):
        self.sock.close()


# --- sites -----------------------------------------------------------------------------

def gas_device(dev_id, bus, address, poll_ms, profile="gas-alarm"):
    return ("  - { id: %s, profile: %s, bus: %s, address: %d, poll_ms: %d,\n"
            "      location: { building: \"%s\", room: \"%d\" } }\n"
            % (dev_id, profile, bus, address, poll_ms, bus, address))


def write_site(path, work, broker_port, buses, devices, profiles=(PROFILES,),
               health_interval_ms=60000):
    """buses: YAML flow maps (strings); devices: lines from gas_device()."""
    with open(path, "w") as f:
        f.write("gateway: { id: gw-bench, site: bench, state_dir: %s/state-%s,\n"
                "           control_socket: %s/control-%s.sock, health_interval_ms: %d }\n"
                % (work, os.path.basename(path), work, os.path.basename(path),
                   health_interval_ms))
        f.write("mqtt: { uri: \"tcp://127.0.0.1:%d\", topic_prefix: bench/gw, qos: 1 }\n"
                % broker_port)
        f.write("profiles: [ %s ]\n" % ", ".join(profiles))
        f.write("buses:\n")
        for bus in buses:
            f.write("  - " + bus + "\n")
        f.write("devices:\n")
        f.writelines(devices)


def tcp_site(path, work, broker_port, converters, per_converter, poll_ms,
             profile="gas-alarm", profiles=(PROFILES,)):
    ports = free_ports(converters)
    buses, devices = [], []
    for c in range(converters):
        name = "conv-%03d" % (c + 1)
        buses.append("{ name: %s, type: tcp, host: 127.0.0.1, port: %d, timeout_ms: 500 }"
                     % (name, ports[c]))
        for a in range(1, per_converter + 1):
            devices.append(gas_device("dev-%03d-%03d" % (c + 1, a), name, a, poll_ms, profile))
    write_site(path, work, broker_port, buses, devices, profiles)


# A Modbus TCP meter of figure D and of bench/peers' workload: 10 holding registers read in one request.
METER_PROFILE = """\
name: meter-10
kind: meter
description: ten holding registers in one FC03 read (bench only)
poll_ms: 1000
%%s
points:
%s
rules:
  - { name: offline, offline_after: 3, severity: major }
""" % "".join("  - { name: r%d, table: holding, address: %d, type: uint16 }\n" % (i, i)
              for i in range(10))


def write_sample_site(path, demo, broker_port):
    """The sample site (config/sites/changshou) with its ptys, state and control socket under
    demo, its broker at broker_port and its Modbus TCP converters at free ports."""
    text = open(SAMPLE_SITE, encoding="utf-8").read()
    text = text.replace("/tmp/safetygw-demo", demo)
    text = text.replace("tcp://127.0.0.1:1883", "tcp://127.0.0.1:%d" % broker_port)
    text = text.replace("[ ../../profiles ]", "[ %s ]" % PROFILES)
    lines = text.splitlines(keepends=True)
    tcp_lines = [i for i, l in enumerate(lines) if "type: tcp" in l and "port:" in l]
    for i, port in zip(tcp_lines, free_ports(len(tcp_lines))):
        head, _, tail = lines[i].partition("port: ")
        lines[i] = head + "port: %d" % port + tail[tail.index(","):]
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(lines)


# --- the bench -------------------------------------------------------------------------

class Bench:
    def __init__(self, build, work):
        self.build = build
        self.work = work
        self.sim = os.path.join(build, "sensors", "sim", "safetygw-sim")
        self.daemon = os.path.join(build, "gateway", "safetygwd")
        self.cli = os.path.join(build, "gateway", "safetygw")
        self.procs = Processes(work)
        self.rows = []  # (figure, measured, target, limit, verdict)
        self.notes = []
        self.broker_port = None

    # -- helpers --

    def start_broker(self):
        self.broker_port = free_port()
        conf = os.path.join(self.work, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "max_queued_messages 100000\n" % self.broker_port)
        self.procs.start("mosquitto", ["mosquitto", "-c", conf])

        def broker_up():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.broker_port)) == 0
        wait_for("mosquitto", broker_up, 10)

    def start_sim(self, name, site, *options):
        control = os.path.join(self.work, name + ".sock")
        proc = self.procs.start(name, [self.sim, "-c", site, "--control", control,
                                       "--log-level", "warning", *options])
        wait_for("the simulator", lambda: os.path.exists(control) or proc.poll() is not None,
                 60)
        if proc.poll() is not None:
            raise RuntimeError("the simulator exited; see %s/%s.log" % (self.work, name))
        return proc, SimControl(control)

    def start_daemon(self, name, site):
        proc = self.procs.start(name, [self.daemon, "-c", site, "--log-level", "warning"])
        time.sleep(0.2)
        if proc.poll() is not None:
            raise RuntimeError("the daemon exited; see %s/%s.log" % (self.work, name))
        return proc

    def wait_polled(self, control, served_at_least, timeout_s=60, bus=None):
        wait_for("%d polls" % served_at_least, lambda: control.served(bus) >= served_at_least,
                 timeout_s, 0.2)

    def window(self, control, daemon, seconds, bus=None):
        """Polls answered and daemon CPU seconds over a window of `seconds`."""
        served0, cpu0, t0 = control.served(bus), cpu_seconds(daemon.pid), time.monotonic()
        time.sleep(seconds)
        served1, cpu1, t1 = control.served(bus), cpu_seconds(daemon.pid), time.monotonic()
        return served1 - served0, cpu1 - cpu0, t1 - t0

    def cost_window(self, control, daemon, seconds):
        """window() plus the daemon's context switches, summed over its threads, and the
        load average at the end: a dict of polls, cpu, seconds, voluntary, involuntary,
        load."""
        switches0 = context_switches(daemon.pid)
        polls, cpu, elapsed = self.window(control, daemon, seconds)
        voluntary, involuntary = switches_between(switches0, context_switches(daemon.pid))
        return {"polls": polls, "cpu": cpu, "seconds": elapsed, "voluntary": voluntary,
                "involuntary": involuntary, "load": load_average()}

    def syscall_window(self, name, control, daemon, seconds):
        """A separate window with the daemon under `strace -c -f -p PID` (every thread:
        strace attaches them all with -f; threads born meanwhile are followed). Returns
        (polls, total calls, [(calls, syscall), ...]) or None when strace could not attach.
        strace slows the daemon down, so nothing else is measured in this window."""
        if shutil.which("strace") is None:
            self.notes.append("%s: no strace on PATH, no system-call figure" % name)
            return None
        summary = self.path("strace-%s.txt" % name)
        threads = len(os.listdir("/proc/%d/task" % daemon.pid))
        tracer = self.procs.start("strace-" + name, [
            "strace", "-c", "-f", "-o", summary, "-p", str(daemon.pid)])
        log_path = self.path("strace-%s.log" % name)

        def attached():
            with open(log_path) as f:
                return "attached" in f.read() or tracer.poll() is not None
        wait_for("strace to attach", attached, 10)
        if tracer.poll() is not None:
            self.notes.append("%s: strace could not attach (see %s)" % (name, log_path))
            self.procs.running.remove(tracer)
            return None
        served0 = control.served()
        time.sleep(seconds)
        polls = control.served() - served0
        tracer.send_signal(signal.SIGINT)  # detaches and writes the summary
        try:
            tracer.wait(30)
        except subprocess.TimeoutExpired:
            pass
        self.procs.stop(tracer)
        with open(log_path) as f:
            attach_line = next((l.strip() for l in f if "attached" in l), "")
        if threads > 1 and "with %d threads" % threads not in attach_line:
            self.notes.append("%s: strace attached %r, the daemon had %d threads"
                              % (name, attach_line, threads))
        total, calls = strace_summary(summary)
        return polls, total, calls

    def cost_rows(self, figure, name, control, daemon, cost, syscall_s=10):
        """The cost rows of a figure: CPU per 1,000 polls with the load average, then system
        calls (from a separate window under strace) and context switches per poll, and the
        busiest system calls in a note."""
        polls = cost["polls"]
        self.row("%s CPU per 1,000 polls" % figure,
                 "%.3f CPU s (%.1f %% of one core; load average %.2f)"
                 % (1000.0 * cost["cpu"] / polls, 100.0 * cost["cpu"] / cost["seconds"],
                    cost["load"]), "", "", "")
        traced = self.syscall_window(name, control, daemon, syscall_s)
        if traced and traced[0] > 0:
            traced_polls, total, calls = traced
            syscalls = "%.1f system calls" % (total / traced_polls)
            self.notes.append("%s, system calls a poll under strace (%d s, %d polls): %s" % (
                figure, syscall_s, traced_polls, ", ".join(
                    "%s %.2f" % (call, count / traced_polls) for count, call in calls[:6])))
        else:
            syscalls = "no system-call figure"
        self.row("%s system calls, context switches a poll" % figure,
                 "%s; %.2f voluntary + %.2f involuntary context switches"
                 % (syscalls, cost["voluntary"] / polls, cost["involuntary"] / polls),
                 "", "", "")

    def first_raises(self, name, changed):
        """A subscriber on P/alarm/+ stamping, for each device of `changed` (device ->
        when it was changed), the first "raised" event after the change: arrivals
        (device -> arrival, wall clock s) and made (device -> the event's "ts")."""
        arrivals, made = {}, {}
        sub = self.procs.start(name, [
            "mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.broker_port), "-q", "1",
            "-t", "bench/gw/alarm/+", "-F", "%U %t %p"], stdout=subprocess.PIPE)

        def read_events():
            for raw in sub.stdout:
                parts = raw.decode(errors="replace").split(" ", 2)
                if len(parts) == 3 and '"event":"raised"' in parts[2]:
                    device = parts[1].rsplit("/", 1)[1]
                    # the first raise after the change (gas_low, gas_high, device_al1/2)
                    if device in changed and device not in arrivals:
                        arrivals[device] = float(parts[0])
                        made[device] = event_time(parts[2])
        threading.Thread(target=read_events, daemon=True).start()
        return sub, arrivals, made

    def device_link(self, site, device):
        """The daemon's view of a device's link (online, offline, unknown), by its CLI."""
        socket_path = "%s/control-%s.sock" % (self.work, os.path.basename(site))
        answer = subprocess.run([self.cli, "--socket", socket_path, "device", device, "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            return json.loads(answer.stdout)["device"]["link"]
        except (ValueError, KeyError, TypeError):
            return None

    def row(self, figure, measured, target, limit="", verdict=""):
        self.rows.append((figure, measured, target, limit, verdict))

    def stop_all(self):
        self.procs.stop_all()

    def path(self, name):
        return os.path.join(self.work, name)

    # -- 1 and 2: one RTU bus of 31 gas alarms polled as fast as it goes --

    def rtu_bus(self, baud, parity, window_s, dead_window_s):
        tag = "%d8%s1" % (baud, parity)
        site = self.path("rtu-%s.yaml" % tag)
        port = self.path("tty-" + tag)
        devices = [gas_device("gas-%02d" % a, "bldg", a, 10) for a in range(1, 32)]
        write_site(site, self.work, self.broker_port,
                   ["{ name: bldg, type: rtu, port: %s, baud: %d, parity: %s, data_bits: 8, "
                    "stop_bits: 1, timeout_ms: 300 }" % (port, baud, parity)], devices)
        sim, control = self.start_sim("sim-" + tag, site, "--latency-ms", str(SIM_LATENCY_MS))
        daemon = self.start_daemon("daemon-" + tag, site)
        try:
            self.wait_polled(control, 2 * 31)
            time.sleep(1)
            polls, _, seconds = self.window(control, daemon, window_s)
            bound_ms = read_wire_ms(baud, parity, 8, 1, GAS_READ_REGISTERS, SIM_LATENCY_MS)
            achieved_ms = seconds * 1000.0 / polls
            efficiency = bound_ms / achieved_ms
            self.row("1. wire efficiency, 31 gas alarms, %d 8%s1" % (baud, parity),
                     "cycle %.0f ms = %.1f %% of limit" % (31 * achieved_ms, 100 * efficiency),
                     ">= 95 %", "cycle %.0f ms (%.1f ms a read)" % (31 * bound_ms, bound_ms),
                     "ok" if efficiency >= 0.95 else "MISS")
            if dead_window_s:
                healthy_rate = polls / seconds
                for address in (10, 20, 30):  # 3 of 31 (~10 %) never answer again
                    control.send("fault gas-%02d silent" % address)
                ignored0 = control.ignored("bldg")
                first, _, first_s = self.window(control, daemon, dead_window_s)
                ignored1 = control.ignored("bldg")
                later, _, later_s = self.window(control, daemon, dead_window_s)
                ignored2 = control.ignored("bldg")
                self.notes.append(
                    "dead devices: %d requests to the silent devices (a 300 ms timeout each) "
                    "in 0-%d s, %d in %d-%d s" % (ignored1 - ignored0, dead_window_s,
                                                  ignored2 - ignored1, dead_window_s,
                                                  2 * dead_window_s))
                first_ratio = first / first_s / healthy_rate
                later_ratio = later / later_s / healthy_rate
                self.row("2. dead devices: 3 of 31 silent, %d 8%s1" % (baud, parity),
                         "%.0f %% (0-%d s after), %.0f %% (%d-%d s)"
                         % (100 * first_ratio, dead_window_s, 100 * later_ratio, dead_window_s,
                            2 * dead_window_s),
                         ">= 80 %", "100 % (silent devices cost no time)",
                         "ok" if min(first_ratio, later_ratio) >= 0.80 else "MISS")
        finally:
            control.close()
            self.procs.stop(daemon)
            self.procs.stop(sim)

    # -- 2b: healthy devices' alarms on a bus with 10 % of its devices dead --

    def dead_latency(self, spread_s):
        """The bus of tests/integration/test_dead_devices.sh: 20 gas alarms at poll_ms 1000
        on 9600 8N1 with wire timing, timeout_ms 800, 2 of them silent from the start. Once
        both are offline (backed off), each healthy device gets one hazard at a random time
        over spread_s; the latency is change -> first raise at a subscriber, as in figure 3."""
        poll_ms, timeout_ms = 1000, 800
        site = self.path("dead-latency.yaml")
        ids = ["gas-%02d" % a for a in range(1, 21)]
        write_site(site, self.work, self.broker_port,
                   ["{ name: bldg, type: rtu, port: %s, baud: 9600, parity: N, data_bits: 8, "
                    "stop_bits: 1, timeout_ms: %d }" % (self.path("tty-dead"), timeout_ms)],
                   [gas_device(d, "bldg", a, poll_ms) for a, d in enumerate(ids, 1)])
        dead = ["gas-07", "gas-15"]
        healthy = [d for d in ids if d not in dead]
        changed = {}
        sub, arrivals, _ = self.first_raises("subscriber-dead", changed)
        sim, control = self.start_sim("sim-dead", site, "--latency-ms", str(SIM_LATENCY_MS))
        for device in dead:
            control.send("fault %s silent" % device)
        daemon = self.start_daemon("daemon-dead", site)
        retries = None
        try:
            wait_for("the silent devices to go offline",
                     lambda: all(self.device_link(site, d) == "offline" for d in dead), 60, 0.5)
            ignored0 = control.ignored("bldg")
            order = list(healthy)
            random.Random(7).shuffle(order)
            rng = random.Random(77)
            start = time.monotonic()
            for device, offset in zip(order, sorted(rng.uniform(0, spread_s) for _ in order)):
                delay = start + offset - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                changed[device] = time.time()
                control.send("set %s gas_lel 30" % device)
            wait_for("the last alarms", lambda: len(arrivals) >= len(order), 10, 0.1)
            retries = control.ignored("bldg") - ignored0
        except RuntimeError:
            pass  # counted below as missing
        finally:
            control.close()
            self.procs.stop(daemon)
            self.procs.stop(sim)
            self.procs.stop(sub)
        bound_ms = 2 * poll_ms
        figure = "2b. alarm latency, 2 of 20 dead, 9600 8N1, poll %d ms" % poll_ms
        latencies = sorted(1000.0 * (arrivals[d] - changed[d]) for d in changed if d in arrivals)
        missing = len(healthy) - len(latencies)
        if not latencies:
            self.row(figure, "no events arrived", "max <= %d ms" % bound_ms, "", "MISS")
            return
        self.row(figure, "p50 %.0f, max %.0f ms (%d hazards%s)" % (
                     statistics.median(latencies), latencies[-1], len(latencies),
                     ", %d missing" % missing if missing else ""),
                 "max <= %d ms (two poll intervals)" % bound_ms,
                 "poll interval %d ms" % poll_ms,
                 "ok" if latencies[-1] <= bound_ms and not missing else "MISS")
        if retries is not None:
            self.notes.append("dead-device latency: %d requests to the 2 silent devices "
                              "(%d ms timeout each) during the %d s of hazards"
                              % (retries, timeout_ms, spread_s))

    # -- 3: alarm latency, sim register change -> event at a subscriber --

    def latency(self, spread_s):
        site = self.path("latency.yaml")
        ports = free_ports(4)
        buses, devices = [], []
        poll_ms = 1000
        for c in range(4):  # Modbus TCP converters, 40 alarms each
            name = "conv-%d" % (c + 1)
            buses.append("{ name: %s, type: tcp, host: 127.0.0.1, port: %d, timeout_ms: 500 }"
                         % (name, ports[c]))
            devices += [gas_device("%s-%02d" % (name, a), name, a, poll_ms) for a in range(1, 41)]
        for r in range(2):  # RS-485 buses with wire timing, 25 alarms each at 19200 8E1
            name = "rtu-%d" % (r + 1)
            buses.append("{ name: %s, type: rtu, port: %s, baud: 19200, parity: E, "
                         "data_bits: 8, stop_bits: 1, timeout_ms: 300 }"
                         % (name, self.path("tty-" + name)))
            devices += [gas_device("%s-%02d" % (name, a), name, a, poll_ms) for a in range(1, 26)]
        write_site(site, self.work, self.broker_port, buses, devices)
        ids = [line.split("id: ")[1].split(",")[0] for line in devices]

        changed = {}  # device -> when the simulator was told to change it (wall clock, s)
        sub, arrivals, made = self.first_raises("subscriber", changed)

        sim, control = self.start_sim("sim-latency", site, "--latency-ms", str(SIM_LATENCY_MS))
        daemon = self.start_daemon("daemon-latency", site)
        try:
            self.wait_polled(control, 3 * len(ids))
            time.sleep(1)
            order = list(ids)
            random.Random(8).shuffle(order)
            rng = random.Random(88)
            start = time.monotonic()
            at = sorted(rng.uniform(0, spread_s) for _ in order)
            for device, offset in zip(order, at):
                delay = start + offset - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                changed[device] = time.time()
                control.send("set %s gas_lel 30" % device)
            wait_for("the last alarms", lambda: len(arrivals) >= len(order), 10, 0.1)
        except RuntimeError:
            pass  # counted below as missing
        finally:
            control.close()
            self.procs.stop(daemon)
            self.procs.stop(sim)
            self.procs.stop(sub)
        latencies = sorted(1000.0 * (arrivals[d] - changed[d]) for d in changed if d in arrivals)
        missing = len(changed) - len(latencies)
        if not latencies:
            self.row("3. alarm latency", "no events arrived", "p99 <= %d ms" % (poll_ms + 50),
                     "", "MISS")
            return
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(round(0.99 * len(latencies))) - 1)]
        worst = latencies[-1]
        by_type = {}
        for d in changed:
            if d in arrivals:
                by_type.setdefault(d.split("-")[0], []).append(1000.0 * (arrivals[d] - changed[d]))
        self.row("3. alarm latency, %d hazards on %d devices, poll %d ms" % (
                     len(changed), len(changed), poll_ms),
                 "p50 %.0f, p99 %.0f, max %.0f ms%s" % (
                     p50, p99, worst, ", %d missing" % missing if missing else ""),
                 "p99 <= %d ms" % (poll_ms + 50),
                 "poll interval %d ms" % poll_ms,
                 "ok" if p99 <= poll_ms + 50 and not missing else "MISS")
        detect = sorted(1000.0 * (made[d] - changed[d]) for d in changed if d in made)
        deliver = sorted(1000.0 * (arrivals[d] - made[d]) for d in changed if d in made)
        self.notes.append("latency split at the event's ts (ms resolution): change -> event made "
                          "p50 %.0f / max %.0f ms; event made -> subscriber p50 %.0f / max %.0f ms"
                          % (statistics.median(detect), detect[-1], statistics.median(deliver),
                             deliver[-1]))
        self.notes.append("latency per bus type: " + "; ".join(
            "%s p50 %.0f / max %.0f ms (%d)" % (t, statistics.median(v), max(v), len(v))
            for t, v in sorted(by_type.items())))

    # -- 4: throughput, 10,000 devices on 100 converters --

    def throughput(self, window_s):
        site = self.path("tcp-10000.yaml")
        tcp_site(site, self.work, self.broker_port, 100, 100, 100)
        sim, control = self.start_sim("sim-10000", site, "--no-wire-delay")
        daemon = self.start_daemon("daemon-10000", site)
        try:
            self.wait_polled(control, 30000, 120)
            time.sleep(2)
            sim_cpu0 = cpu_seconds(sim.pid)
            cost = self.cost_window(control, daemon, window_s)
            sim_cpu = cpu_seconds(sim.pid) - sim_cpu0
            memory = memory_kib(daemon.pid)
            seconds = cost["seconds"]
            rate = cost["polls"] / seconds
            self.row("4. throughput, 10,000 devices on 100 TCP converters",
                     "%.0f polls/s" % rate, ">= 20,000 polls/s", "",
                     "ok" if rate >= 20000 else "MISS")
            self.cost_rows("4. daemon", "throughput", control, daemon, cost)
        finally:
            control.close()
            self.procs.stop(daemon)
            self.procs.stop(sim)
        self.row("4. daemon resident memory", memory_text(memory), "<= 32 MiB", "",
                 "ok" if memory["VmRSS"] <= 32 * 1024 else "MISS")
        self.notes.append("throughput: the simulator used %.0f %% of one core meanwhile"
                          % (100.0 * sim_cpu / seconds))
        return site

    # -- 5: the sample site at its configured intervals --

    def sample_site(self, warmup_s, window_s, windows):
        """The target row is the median of `windows` windows of one daemon (one window of
        this VM moves by a tenth either way: bench/README.md, "Method"); the cost rows
        are the windows' totals."""
        site = self.path("changshou.yaml")
        write_sample_site(site, self.path("demo"), self.broker_port)
        sim, control = self.start_sim("sim-site", site, "--latency-ms", str(SIM_LATENCY_MS))
        daemon = self.start_daemon("daemon-site", site)
        try:
            time.sleep(warmup_s)
            costs = [self.cost_window(control, daemon, window_s) for _ in range(windows)]
            memory = memory_kib(daemon.pid)
            percents = [100.0 * window["cpu"] / window["seconds"] for window in costs]
            percent = statistics.median(percents)
            total = {key: sum(window[key] for window in costs)
                     for key in ("polls", "cpu", "seconds", "voluntary", "involuntary")}
            total["load"] = costs[-1]["load"]
            self.row("5. sample site, 798 devices, %d × %d s (%.0f polls/s)"
                     % (windows, window_s, total["polls"] / total["seconds"]),
                     "CPU %.2f %% of one core (median of %s)"
                     % (percent, ", ".join("%.2f" % p for p in percents)), "<= 1 %", "",
                     "ok" if percent <= 1.0 else "MISS")
            self.cost_rows("5. sample site", "site", control, daemon, total)
        finally:
            control.close()
            self.procs.stop(daemon)
            self.procs.stop(sim)
        self.row("5. sample site resident memory", memory_text(memory), "<= 8 MiB", "",
                 "ok" if memory["VmRSS"] <= 8 * 1024 else "MISS")

    # -- D: 5,000 meters of 10 registers at 1 s on 100 converters. No target of its own:
    # DESIGN.md judges this workload side by side with mqmgateway (bench/peers). --

    def meters(self, warmup_s, window_s, publish):
        """publish: each read also published as one message on P/telemetry/<id>."""
        profiles = self.path("meter-profiles")
        os.makedirs(profiles, exist_ok=True)
        site = self.path("meters-5000.yaml")
        telemetry = "telemetry: { period_ms: 1000 }" if publish else ""
        with open(os.path.join(profiles, "meter-10.yaml"), "w") as f:
            f.write(METER_PROFILE % telemetry)
        tcp_site(site, self.work, self.broker_port, 100, 50, 1000, "meter-10", (profiles,))
        if subprocess.run([self.cli, "check", site], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode != 0:
            self.notes.append("D: this daemon has no telemetry publishing (profile key "
                              "`telemetry` refused): polling only")
            return
        messages = [0]
        sub = self.procs.start("subscriber-meters", [
            "mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.broker_port),
            "-t", "bench/gw/telemetry/+", "-F", "%t"], stdout=subprocess.PIPE)

        def count_messages():
            for _ in sub.stdout:
                messages[0] += 1
        threading.Thread(target=count_messages, daemon=True).start()
        sim, control = self.start_sim("sim-meters", site, "--no-wire-delay")
        daemon = self.start_daemon("daemon-meters", site)
        try:
            time.sleep(warmup_s)
            messages0 = messages[0]
            cost = self.cost_window(control, daemon, window_s)
            published = messages[0] - messages0
            memory = memory_kib(daemon.pid)
            seconds = cost["seconds"]
            percent = 100.0 * cost["cpu"] / seconds
            what = ("%.0f polls/s, %.0f messages/s" % (cost["polls"] / seconds,
                                                       published / seconds)
                    if telemetry else "polling only, %.0f polls/s" % (cost["polls"] / seconds))
            label = "published" if publish else "polling only"
            self.row("D. 5,000 meters at 1 s, 100 converters (%s)" % what,
                     "CPU %.2f %% of one core" % percent, "", "", "")
            self.cost_rows("D. 5,000 meters (%s)" % label, "meters-" + label.split()[0],
                           control, daemon, cost)
        finally:
            control.close()
            self.procs.stop(daemon)
            self.procs.stop(sim)
            self.procs.stop(sub)
        self.row("D. 5,000 meters resident memory (%s)" % label, memory_text(memory), "", "", "")

    # -- 6: start-up --

    def startup(self, site, runs):
        if site is None:
            site = self.path("tcp-10000.yaml")
            tcp_site(site, self.work, self.broker_port or 1883, 100, 100, 100)
        # A fresh interpreter per run, so that its children's peak RSS is safetygw's alone.
        probe = ("import resource, subprocess, sys, time\n"
                 "t0 = time.monotonic()\n"
                 "result = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
                 "print(time.monotonic() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)"
                 ".ru_maxrss, result.returncode)\n")
        times, peaks = [], []
        for _ in range(runs):
            out = subprocess.run([sys.executable, "-c", probe, self.cli, "check", site],
                                 stdout=subprocess.PIPE, check=True).stdout.split()
            if out[2] != b"0":
                raise RuntimeError("safetygw check %s failed" % site)
            times.append(float(out[0]))
            peaks.append(int(out[1]))
        peak_kib = max(peaks)
        self.row("6. start-up: load and validate 10,000 devices (median of %d)" % runs,
                 "%.0f ms, peak %.1f MiB" % (1000 * statistics.median(times), peak_kib / 1024),
                 "", "", "")


def event_time(payload):
    """The event's "ts" (RFC 3339 UTC with milliseconds) as seconds since the epoch."""
    import calendar
    ts = json.loads(payload)["ts"]
    whole = calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S"))
    return whole + float("0" + ts[19:].rstrip("Z"))


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores, %s" % (model, os.cpu_count(), os.uname().release)


def print_table(bench, started):
    rows = [("figure", "measured", "target", "physical limit", "")] + bench.rows
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    print()
    print("safetygw bench, %s, %s" % (time.strftime("%Y-%m-%d %H:%M %Z"), machine()))
    print()
    for i, r in enumerate(rows):
        print("| " + " | ".join(r[c].ljust(widths[c]) for c in range(5)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for note in bench.notes:
        print("- " + note)
    print("- whole run: %.0f s" % (time.monotonic() - started))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, help="release build folder")
    parser.add_argument("--only", default=",".join(FIGURES),
                        help="comma-separated subset of: " + ", ".join(FIGURES))
    parser.add_argument("--keep", action="store_true", help="keep the work folder and logs")
    args = parser.parse_args()
    only = set(args.only.split(","))
    unknown = only - set(FIGURES)
    if unknown:
        parser.error("unknown figure(s): " + ", ".join(sorted(unknown)))

    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="safetygw-bench.")
    os.chmod(work, 0o755)
    bench = Bench(os.path.abspath(args.build), work)

    def stop(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    failed = False
    try:
        bench.start_broker()
        if "wire" in only or "dead" in only:
            log("1-2. one RTU bus, 31 gas alarms, 9600 8N1 (healthy, then 3 silent)")
            bench.rtu_bus(9600, "N", 10, 20 if "dead" in only else 0)
            if "wire" in only:
                log("1. one RTU bus, 31 gas alarms, 19200 8E1")
                bench.rtu_bus(19200, "E", 10, 0)
        if "dead-latency" in only:
            log("2b. alarm latency with 2 of 20 devices dead: 18 hazards over 45 s")
            bench.dead_latency(45)
        if "latency" in only:
            log("3. alarm latency: 210 hazards over 40 s")
            bench.latency(40)
        site_10000 = None
        if "throughput" in only:
            log("4. throughput: 10,000 devices on 100 Modbus TCP converters")
            site_10000 = bench.throughput(15)
        if "site" in only:
            log("5. the sample site for 3 × 60 s")
            bench.sample_site(10, 60, 3)
        if "meter" in only:
            # 15 s first, as bench/peers' harness waits: for ~11 s after connecting, the
            # 5,000 retained states (QoS 1, each through the disk store) go out and the
            # readings meanwhile are owed, not counted (bench/README.md, figure D).
            log("D. 5,000 meters at 1 s on 100 converters for 30 s, polling only")
            bench.meters(15, 30, False)
            log("D. 5,000 meters at 1 s on 100 converters for 30 s, each read published")
            bench.meters(15, 30, True)
        if "startup" in only:
            log("6. start-up")
            bench.startup(site_10000, 5)
    except KeyboardInterrupt:
        log("interrupted")
        failed = True
    except Exception as error:  # report what was measured so far, then fail
        log("error: %s" % error)
        failed = True
    finally:
        bench.stop_all()
    print_table(bench, started)
    if args.keep or failed:
        log("work folder and logs kept in " + work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
