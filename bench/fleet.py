#!/usr/bin/env python3
"""bench/fleet: many gateways into a broker cluster, one operations console.

    bench/fleet [--gateways 20] [--devices 10] [--seconds 60] [--period-ms 2000] [--keep]

Starts a 3-node NATS cluster (JetStream, an MQTT listener a node, streams and
consumers at R3) with one NATS user per gateway and the permissions of
docs/acl/nats.conf; one simulator serving every gateway's Modbus TCP converter;
N gateways (safetygwd), each a small site of gas alarms with its own identity
(username, password file, topic prefix), their server lists rotated so they
spread over the nodes; and one `safetygw watch --json` consuming every
gateway's alarms. Gas rises and falls on every device, so alarms are raised and
cleared continuously. Prints events/s end to end, the seq check (gaps,
duplicates, events missing), each gateway's CPU and RSS, the consumer's lag
(event ts -> line printed by watch) and CPU/RSS of watch and the nodes.

Not part of ctest: it reports figures, it asserts nothing. Standard library
only; needs nats-server, mosquitto_pub and a release build (bench/run's).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (the helpers of bench.py: processes, ports, CPU, memory, sim)

SOURCE = bench.SOURCE
PASSWORD = "fleet-Passw0rd-%s"


def nats_config(work, node, ports, gateways):
    """Node `node` (0-based) of the cluster, with one user per gateway."""
    routes = ", ".join("nats-route://127.0.0.1:%d" % ports[j]["route"]
                       for j in range(len(ports)) if j != node)
    users = []
    for gw in gateways:
        users.append(
            '    { user: "%s", password: "%s", allowed_connection_types: ["MQTT"],\n'
            '      permissions: { publish: { allow: ["safetygw.*.%s.>"] },\n'
            '                     subscribe: { allow: ["safetygw.*.%s.cmd.>", '
            '"safetygw.*.%s.status", "$MQTT.sub.>"] } } }'
            % (gw, PASSWORD % gw, gw, gw, gw))
    users.append('    { user: "ops-console", password: "%s", allowed_connection_types: ["MQTT"],\n'
                 '      permissions: { publish: { allow: ["safetygw.*.*.cmd.>"] },\n'
                 '                     subscribe: { allow: ["safetygw", "safetygw.>", "$MQTT.sub.>"] } } }'
                 % (PASSWORD % "ops-console"))
    path = os.path.join(work, "n%d.conf" % (node + 1))
    with open(path, "w") as f:
        f.write("server_name: n%d\nlisten: 127.0.0.1:%d\n" % (node + 1, ports[node]["client"]))
        f.write('jetstream { store_dir: "%s/n%d-js" }\n' % (work, node + 1))
        f.write("cluster { name: fleet, listen: 127.0.0.1:%d, routes: [%s] }\n"
                % (ports[node]["route"], routes))
        f.write("mqtt { listen: 127.0.0.1:%d, stream_replicas: 3, consumer_replicas: 3 }\n"
                % ports[node]["mqtt"])
        f.write("authorization {\n  users = [\n%s\n  ]\n}\n" % "\n".join(users))
    return path


def mqtt_ready(port):
    """A persistent-session QoS 1 publish goes through: JetStream serves MQTT."""
    return subprocess.call(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-i", "fleet-probe",
         "-u", "ops-console", "-P", PASSWORD % "ops-console",
         "-t", "safetygw/probe/probe/cmd/probe", "-m", "x"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0


def sim_site(path, work, converters, devices):
    """Every gateway's converter and devices in one file, for the simulator."""
    with open(path, "w") as f:
        f.write("gateway: { id: fleet-sim, site: fleet, state_dir: %s/sim-state,\n"
                "           control_socket: %s/sim-unused.sock }\n" % (work, work))
        f.write("mqtt: { uri: \"tcp://127.0.0.1:1\" }\n")
        f.write("profiles: [ %s ]\nbuses:\n" % bench.PROFILES)
        for gw, port in converters:
            f.write("  - { name: %s-conv, type: tcp, host: 127.0.0.1, port: %d, timeout_ms: 500 }\n"
                    % (gw, port))
        f.write("devices:\n")
        for gw, _ in converters:
            for unit in range(1, devices + 1):
                f.write(bench.gas_device("%s-gas-%02d" % (gw, unit), gw + "-conv", unit, 500))


def gateway_site(path, work, gw, index, converter_port, devices, node_ports):
    """One gateway: its converter, its devices, its identity, the nodes from node index % 3 on."""
    order = [node_ports[(index + k) % len(node_ports)] for k in range(len(node_ports))]
    password_file = os.path.join(work, gw + ".pass")
    with open(password_file, "w") as f:
        f.write(PASSWORD % gw + "\n")
    with open(path, "w") as f:
        f.write("gateway: { id: %s, site: fleet, state_dir: %s/state-%s,\n"
                "           control_socket: %s/%s.sock, health_interval_ms: 60000 }\n"
                % (gw, work, gw, work, gw))
        f.write("mqtt: { uris: [ %s ], username: %s, password_file: %s, qos: 1 }\n"
                % (", ".join('"tcp://127.0.0.1:%d"' % p for p in order), gw, password_file))
        f.write("profiles: [ %s ]\nbuses:\n" % bench.PROFILES)
        f.write("  - { name: %s-conv, type: tcp, host: 127.0.0.1, port: %d, timeout_ms: 500 }\n"
                % (gw, converter_port))
        f.write("devices:\n")
        for unit in range(1, devices + 1):
            f.write(bench.gas_device("%s-gas-%02d" % (gw, unit), gw + "-conv", unit, 500))


def parse_ts(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


class Console:
    """Reads `safetygw watch --json` line by line: seq per gateway, lag, counts."""

    def __init__(self, proc):
        self.proc = proc
        self.lock = threading.Lock()
        self.seqs = {}          # gateway -> set of seq
        self.deliveries = 0     # event lines, duplicates included
        self.duplicates = 0
        self.gap_lines = 0
        self.lags_ms = []       # (received_at monotonic-free wall, lag ms)
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        for raw in self.proc.stdout:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            now = time.time()
            with self.lock:
                if line.get("type") == "gap":
                    self.gap_lines += 1
                if line.get("type") != "event":
                    continue
                self.deliveries += 1
                if line["verdict"] == "duplicate":
                    self.duplicates += 1
                    continue
                self.seqs.setdefault(line["gateway"], set()).add(line["seq"])
                try:
                    self.lags_ms.append((now, (parse_ts(line["received"])
                                               - parse_ts(line["event"]["ts"])) * 1000.0))
                except (KeyError, ValueError):
                    pass

    def unique(self):
        with self.lock:
            return sum(len(s) for s in self.seqs.values())


def gateway_numbered(cli, socket_path):
    out = subprocess.run([cli, "status", "--json", "--socket", socket_path],
                         capture_output=True, text=True)
    return json.loads(out.stdout)["next_seq"] - 1 if out.returncode == 0 else None


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def run(args):
    build = args.build
    sim_bin = os.path.join(build, "sensors", "sim", "safetygw-sim")
    daemon_bin = os.path.join(build, "gateway", "safetygwd")
    cli_bin = os.path.join(build, "gateway", "safetygw")
    work = tempfile.mkdtemp(prefix="safetygw-fleet.")
    procs = bench.Processes(work)
    try:
        gateways = ["gw-%02d" % (i + 1) for i in range(args.gateways)]
        flat = bench.free_ports(3 * 3 + len(gateways))
        ports = [{"client": flat[3 * i], "route": flat[3 * i + 1], "mqtt": flat[3 * i + 2]}
                 for i in range(3)]
        converter_ports = flat[9:]
        node_ports = [p["mqtt"] for p in ports]
        nodes = []
        for node in range(3):
            conf = nats_config(work, node, ports, gateways)
            nodes.append(procs.start("nats-n%d" % (node + 1), ["nats-server", "-c", conf]))
        bench.log("3 NATS nodes on MQTT ports %s; waiting for JetStream" % node_ports)
        bench.wait_for("JetStream behind MQTT", lambda: mqtt_ready(node_ports[2]), 90, 0.5)

        site = os.path.join(work, "sim.yaml")
        sim_site(site, work, list(zip(gateways, converter_ports)), args.devices)
        _, control = start_sim(procs, sim_bin, work, site)

        password_file = os.path.join(work, "ops-console.pass")
        with open(password_file, "w") as f:
            f.write(PASSWORD % "ops-console" + "\n")
        watch = procs.start("watch", [cli_bin, "watch", "--json", "--client-id", "fleet-watch",
                                      "--broker", ",".join("tcp://127.0.0.1:%d" % p
                                                           for p in node_ports),
                                      "--username", "ops-console",
                                      "--password-file", password_file],
                            stdout=subprocess.PIPE)
        console = Console(watch)

        daemons = {}
        for index, gw in enumerate(gateways):
            path = os.path.join(work, gw + ".yaml")
            gateway_site(path, work, gw, index, converter_ports[index], args.devices, node_ports)
            daemons[gw] = procs.start(gw, [daemon_bin, "-c", path])
        bench.log("%d gateways of %d gas alarms started" % (len(gateways), args.devices))
        connected = lambda: all(
            "mqtt: connected" in open(os.path.join(work, gw + ".log")).read() for gw in gateways)
        bench.wait_for("every gateway connected", connected, 60, 0.2)
        time.sleep(3)  # every device answers once

        devices = ["%s-gas-%02d" % (gw, u) for gw in gateways for u in range(1, args.devices + 1)]
        level = {device: 0 for device in devices}
        period_s = args.period_ms / 1000.0

        def one_round():
            start = time.monotonic()
            for k, device in enumerate(devices):
                delay = start + period_s * k / len(devices) - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                level[device] = 30 if level[device] == 0 else 0
                control.send("set %s gas_lel %d" % (device, level[device]))

        bench.log("gas rising and falling on %d devices every %.1f s for %d s"
                  % (len(devices), period_s, args.seconds))
        cpu0 = {gw: bench.cpu_seconds(p.pid) for gw, p in daemons.items()}
        node_cpu0 = [bench.cpu_seconds(p.pid) for p in nodes]
        watch_cpu0 = bench.cpu_seconds(watch.pid)
        received0, t0 = console.unique(), time.monotonic()
        wall0 = time.time()
        while time.monotonic() - t0 < args.seconds:
            one_round()
        t1 = time.monotonic()
        received1 = console.unique()
        cpu1 = {gw: bench.cpu_seconds(p.pid) for gw, p in daemons.items()}
        node_cpu1 = [bench.cpu_seconds(p.pid) for p in nodes]
        watch_cpu1 = bench.cpu_seconds(watch.pid)
        memory = {gw: bench.memory_kib(p.pid) for gw, p in daemons.items()}
        watch_memory = bench.memory_kib(watch.pid)
        node_memory = [bench.memory_kib(p.pid) for p in nodes]
        window = t1 - t0

        for device in devices:  # the leak ends everywhere
            if level[device]:
                control.send("set %s gas_lel 0" % device)
        time.sleep(3)
        numbered = {gw: gateway_numbered(cli_bin, os.path.join(work, gw + ".sock"))
                    for gw in gateways}
        total = sum(n for n in numbered.values() if n)
        try:
            bench.wait_for("every numbered event at the console",
                           lambda: console.unique() >= total, 120, 0.5)
        except RuntimeError as error:
            bench.log(str(error))

        with console.lock:
            lags = [lag for at, lag in console.lags_ms if wall0 <= at]
            seqs = {gw: set(s) for gw, s in console.seqs.items()}
        gaps = 0
        missing = 0
        for gw in gateways:
            got = seqs.get(gw, set())
            if got:
                gaps += sum(1 for s in range(min(got), max(got) + 1) if s not in got)
            missing += max(0, (numbered[gw] or 0) - len(got))

        print()
        print("## fleet: %d gateways x %d gas alarms, 3 NATS nodes (R3), one safetygw watch"
              % (len(gateways), args.devices))
        print()
        print("| figure | value |")
        print("|---|---|")
        print("| window | %.1f s, gas toggled on each of %d devices every %.1f s |"
              % (window, len(devices), period_s))
        print("| events end to end (numbered by the gateways, printed by watch) | %.0f events/s |"
              % ((received1 - received0) / window))
        print("| events numbered / received (unique) | %d / %d |" % (total, console.unique()))
        print("| seq gaps at the console | %d (watch reported %d gap lines) |"
              % (gaps, console.gap_lines))
        print("| events missing at the end | %d |" % missing)
        print("| duplicates (dropped by watch) | %d |" % console.duplicates)
        print("| consumer lag, event ts -> printed | p50 %.0f ms, p99 %.0f ms, max %.0f ms |"
              % (percentile(lags, 0.5), percentile(lags, 0.99), max(lags) if lags else 0))
        cpu = {gw: 100.0 * (cpu1[gw] - cpu0[gw]) / window for gw in gateways}
        rss = {gw: memory[gw]["VmRSS"] / 1024.0 for gw in gateways}
        print("| gateway CPU, %% of one core (min / median / max) | %.2f / %.2f / %.2f |"
              % (min(cpu.values()), statistics.median(cpu.values()), max(cpu.values())))
        print("| gateway RSS, MiB (min / median / max) | %.1f / %.1f / %.1f |"
              % (min(rss.values()), statistics.median(rss.values()), max(rss.values())))
        print("| safetygw watch: CPU, RSS | %.1f %% of one core, %.1f MiB |"
              % (100.0 * (watch_cpu1 - watch_cpu0) / window, watch_memory["VmRSS"] / 1024.0))
        for n in range(3):
            print("| nats-server n%d: CPU, RSS | %.1f %% of one core, %.1f MiB |"
                  % (n + 1, 100.0 * (node_cpu1[n] - node_cpu0[n]) / window,
                     node_memory[n]["VmRSS"] / 1024.0))
        print()
        print("| gateway | events | CPU % of one core | RSS MiB |")
        print("|---|---|---|---|")
        for gw in gateways:
            print("| %s | %s | %.2f | %.1f |" % (gw, numbered[gw], cpu[gw], rss[gw]))
    finally:
        procs.stop_all()
        if args.keep:
            bench.log("kept " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)


def start_sim(procs, sim_bin, work, site):
    control_path = os.path.join(work, "sim.sock")
    proc = procs.start("sim", [sim_bin, "-c", site, "--control", control_path])
    bench.wait_for("the simulator", lambda: os.path.exists(control_path) or proc.poll() is not None,
                   30)
    time.sleep(0.5)
    return proc, bench.SimControl(control_path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default=os.path.join(SOURCE, "build", "bench"))
    parser.add_argument("--gateways", type=int, default=20)
    parser.add_argument("--devices", type=int, default=10, help="gas alarms per gateway")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--period-ms", type=int, default=2000,
                        help="each device's gas toggles this often")
    parser.add_argument("--keep", action="store_true")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
