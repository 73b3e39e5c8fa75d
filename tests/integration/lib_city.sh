# Helpers of the city-scale tests (several brokers, a NATS cluster, many
# consumers), on top of lib.sh: source lib.sh first.

# start_mosquitto NAME [PORT] [EXTRA_CONF_FILE]: one more mosquitto, with its
# own folder $WORK/NAME; sets NAME_PORT and NAME_PID. Persistent (sessions on
# disk), anonymous unless the extra configuration says otherwise.
start_mosquitto() {
    local name=$1 port=${2:-} extra=${3:-}
    [ -n "$port" ] || port=$(free_port)
    mkdir -p "$WORK/$name"
    chmod 755 "$WORK" && chmod 777 "$WORK/$name"
    {
        echo "persistence true"
        echo "persistence_location $WORK/$name/"
        echo "listener $port 127.0.0.1"
        if [ -n "$extra" ]; then cat "$extra"; else echo "allow_anonymous true"; fi
    } >"$WORK/$name/mosquitto.conf"
    mosquitto -c "$WORK/$name/mosquitto.conf" >>"$WORK/$name.log" 2>&1 &
    local pid=$!
    PIDS="$PIDS $pid"
    eval "${name}_PORT=$port ${name}_PID=$pid"
    wait_until 10 port_open "$port" || { fail "mosquitto $name did not start"; exit 1; }
}

# stop_mosquitto NAME: SIGTERM (mosquitto saves its sessions), and waits for the exit.
stop_mosquitto() {
    local pid
    eval "pid=\${${1}_PID}"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# subscribe_durable_at PORT FILE TOPIC ID: a persistent QoS 1 subscriber that
# reconnects by itself, "topic payload" lines appended to FILE.
subscribe_durable_at() {
    mosquitto_sub -h 127.0.0.1 -p "$1" -q 1 -v -c -i "$4" -t "$3" >>"$2" 2>>"$WORK/sub.log" &
    PIDS="$PIDS $!"
}

# seq_report: reads seq numbers in arrival order on stdin and prints
# "events=N unique=U duplicates=D gaps=G disorder=O first=F last=L": a
# duplicate repeats a seq already seen, a gap is a number skipped, disorder a
# new number lower than the highest seen.
seq_report() {
    awk '
        { s = $1 + 0; n++
          if (s in seen) { dup++; next }
          seen[s] = 1; u++
          if (u == 1) { first = s; high = s; next }
          if (s > high + 1) gap += s - high - 1
          if (s < high) disorder++
          if (s > high) high = s }
        END { printf "events=%d unique=%d duplicates=%d gaps=%d disorder=%d first=%d last=%d\n",
                     n, u, dup + 0, gap + 0, disorder + 0, first, high }'
}

# report_field NAME REPORT: one number of a seq_report line.
report_field() { sed -n "s/.*\\b$1=\\([0-9-]*\\).*/\\1/p" <<<"$2"; }

# connections_after LINE: "mqtt: connected" lines of the daemon's log after line LINE.
connections_after() { tail -n "+$(($1 + 1))" "$WORK/daemon.log" | grep -c "mqtt: connected" || true; }
log_lines() { wc -l <"$WORK/daemon.log"; }

# start_daemon_supervised FILE: the daemon as systemd runs it (Restart=on-failure):
# started again whenever it exits with a failure; sets SUPERVISOR_PID.
# $WORK/daemon.pid holds the running daemon's pid.
start_daemon_supervised() {
    (
        while :; do
            "$DAEMON" -c "$1" --log-level debug >>"$WORK/daemon.log" 2>&1 &
            echo $! >"$WORK/daemon.pid"
            status=0
            wait $! || status=$?
            [ "$status" -eq 1 ] && [ ! -e "$WORK/supervisor.stop" ] || break
            echo "supervisor: safetygwd exited with status 1; starting it again" >>"$WORK/daemon.log"
            sleep 1 # the supervisor's pace (RestartSec, shortened), not a wait for anything
        done
    ) &
    SUPERVISOR_PID=$!
    PIDS="$PIDS $SUPERVISOR_PID"
    wait_until 5 test -s "$WORK/daemon.pid"
}

stop_daemon_supervised() {
    touch "$WORK/supervisor.stop"
    kill -TERM "$(cat "$WORK/daemon.pid")" 2>/dev/null || true
    wait "$SUPERVISOR_PID" 2>/dev/null || true
}

# --- a NATS cluster with JetStream and an MQTT listener on each node.
# nats_cluster_ports N: picks N nodes' client, route and MQTT ports
# (NATS_CLIENT_i, NATS_ROUTE_i, NATS_MQTT_i).
nats_cluster_ports() {
    local i
    NATS_NODES=$1
    for i in $(seq 1 "$1"); do
        eval "NATS_CLIENT_$i=$(free_port) NATS_ROUTE_$i=$(free_port) NATS_MQTT_$i=$(free_port)"
    done
}

# start_nats_node I: node I of the cluster (server_name n<I>, store under $WORK/n<I>); sets NATS_PID_I.
# A port free when picked can be taken by another test before the node binds it
# (tests run two at a time): a node that exits on "address already in use" gets
# new ports and is started again (its peers find it through their own routes).
start_nats_node() {
    local i=$1 attempt
    for attempt in 1 2 3; do
        write_nats_conf "$i"
        nats-server -c "$WORK/n$i/nats.conf" >>"$WORK/nats-n$i.log" 2>&1 &
        eval "NATS_PID_$i=$!"
        PIDS="$PIDS $!"
        wait_until 20 nats_node_up_or_gone "$i"
        nats_node_up "$i" && return
        grep -q "address already in use" "$WORK/nats-n$i.log" || break
        eval "NATS_CLIENT_$i=$(free_port) NATS_ROUTE_$i=$(free_port) NATS_MQTT_$i=$(free_port)"
    done
    fail "nats-server n$i did not open its MQTT port"
    exit 1
}

nats_node_up() { eval "port_open \$NATS_MQTT_$1"; }
nats_node_up_or_gone() { nats_node_up "$1" || eval "! kill -0 \$NATS_PID_$1"; }

# write_nats_conf I: node I's nats.conf, with routes to every other node.
write_nats_conf() {
    local i=$1 j routes="" client route mqtt
    for j in $(seq 1 "$NATS_NODES"); do
        [ "$j" = "$i" ] && continue
        eval "routes=\"\$routes nats-route://127.0.0.1:\$NATS_ROUTE_$j\""
    done
    eval "client=\$NATS_CLIENT_$i route=\$NATS_ROUTE_$i mqtt=\$NATS_MQTT_$i"
    mkdir -p "$WORK/n$i/js"
    local replicas=$((NATS_NODES < 3 ? NATS_NODES : 3)) cluster=""
    if [ "$NATS_NODES" -gt 1 ]; then
        cluster="cluster {
  name: city
  listen: 127.0.0.1:$route
  routes: [$(echo "$routes" | sed 's/^ //; s/ /, /g')]
}"
    fi
    cat >"$WORK/n$i/nats.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:$client
jetstream { store_dir: "$WORK/n$i/js" }
$cluster
# R3: a stream or consumer of R2 has no quorum once one of its two nodes dies.
mqtt { listen: 127.0.0.1:$mqtt, stream_replicas: $replicas, consumer_replicas: $replicas }
${NATS_EXTRA_CONF:-}
CONF
}

kill_nats_node() {
    local pid
    eval "pid=\$NATS_PID_$1"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# nats_mqtt_ready PORT: an MQTT client with a persistent session gets in (JetStream is up).
nats_mqtt_ready() {
    mosquitto_pub -h 127.0.0.1 -p "$1" -q 1 -i "probe-$1" -t probe/ready -m x 2>/dev/null
}

# skip_without_nats: ctest's SKIP_RETURN_CODE (77) when nats-server cannot be had.
skip_without_nats() {
    if ! command -v nats-server >/dev/null; then
        echo "SKIP: nats-server is not installed (scripts/setup installs it from Debian)"
        exit 77
    fi
}
