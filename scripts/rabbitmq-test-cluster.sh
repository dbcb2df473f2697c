#!/usr/bin/env bash
# A private three-node RabbitMQ cluster on loopback for the tests (quorum queues replicated on
# all three nodes), the way ../shared/PLATFORM.md found to work on this kind of machine:
#
#   scripts/rabbitmq-test-cluster.sh run -- CMD [ARGS...]   start, run CMD with the env below, stop
#   scripts/rabbitmq-test-cluster.sh start DIR | stop DIR
#   scripts/rabbitmq-test-cluster.sh ctl DIR N ARGS...     rabbitmqctl against node N (1-3)
#   scripts/rabbitmq-test-cluster.sh stop-node DIR N       stop node N's application (stop_app)
#   scripts/rabbitmq-test-cluster.sh start-node DIR N      start it again (start_app)
#
# DIR/env is a sourceable file with
#   HLSIFY_TEST_CLUSTER_URLS   the three nodes' AMQP URLs, comma-separated (node 1 first)
#   HLSIFY_TEST_CLUSTER_URL_N  node N's URL
#   HLSIFY_TEST_CLUSTER_NODE_N node N's name (for rabbitmqctl -n)
#   HLSIFY_TEST_CLUSTER_CTL    a command line: `CTL N ARGS...` runs rabbitmqctl against node N
#   HLSIFY_TEST_CLUSTER_DIR    DIR
# Nodes share one epmd port of their own and one Erlang cookie (DIR/home/.erlang.cookie).
set -euo pipefail

die() { printf 'rabbitmq-test-cluster: %s\n' "$*" >&2; exit 1; }
log() { printf 'rabbitmq-test-cluster: %s\n' "$*" >&2; }
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"

[ $# -ge 2 ] || die "usage: $0 start|stop DIR | ctl DIR N ARGS... | stop-node|start-node DIR N | run -- CMD [ARGS...]"
cmd="$1"; shift
if [ "$cmd" = run ]; then
    [ "${1:-}" = "--" ] && shift
    [ $# -ge 1 ] || die "usage: $0 run -- CMD [ARGS...]"
    dir="$(mktemp -d "${TMPDIR:-/tmp}/hlsify-cluster.XXXXXX")"
    cleanup() { "$self" stop "$dir" || true; rm -rf "$dir"; }
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    "$self" start "$dir"
    # shellcheck disable=SC1091
    . "$dir/env"
    status=0
    "$@" || status=$?
    exit "$status"
fi
dir="$1"; shift

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# rabbitmqctl against node N, as the nodes' user with their cookie and epmd.
ctl() {
    local n="$1"; shift
    # shellcheck disable=SC1091
    . "$dir/env"
    local node_var="HLSIFY_TEST_CLUSTER_NODE_$n"
    HOME="$dir/home" ERL_EPMD_PORT="$ERL_EPMD_PORT" rabbitmqctl -q -n "${!node_var}" "$@"
}

start_node() {
    local n="$1"
    # shellcheck disable=SC1091
    . "$dir/env"
    local node_var="HLSIFY_TEST_CLUSTER_NODE_$n" amqp_var="PORT_$n" dist_var="DIST_$n"
    (
        export HOME="$dir/home" ERL_EPMD_PORT="$ERL_EPMD_PORT"
        export RABBITMQ_NODENAME="${!node_var}" RABBITMQ_NODE_PORT="${!amqp_var}" RABBITMQ_DIST_PORT="${!dist_var}"
        export RABBITMQ_MNESIA_BASE="$dir/n$n/mnesia" RABBITMQ_LOG_BASE="$dir/n$n/log"
        export RABBITMQ_CONFIG_FILE="$dir/n$n/rabbitmq.conf" RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config"
        export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" RABBITMQ_PID_FILE="$dir/n$n/node.pid"
        cd /
        exec setsid rabbitmq-server > "$dir/n$n/log/console.log" 2>&1 < /dev/null
    ) &
    echo $! > "$dir/n$n/launcher.pid"
}

await_node() {
    local n="$1"
    for _ in $(seq 1 180); do
        if ! kill -0 "$(cat "$dir/n$n/launcher.pid")" 2>/dev/null; then break; fi
        if ctl "$n" await_startup --timeout 60 >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    log "node $n did not start; its console log:"
    tail -n 40 "$dir/n$n/log/console.log" >&2 || true
    return 1
}

# Retries a rabbitmqctl command: the first ones can race a node's start-up.
retry_ctl() {
    for _ in $(seq 1 30); do
        if ctl "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    ctl "$@"
}

case "$cmd" in
start)
    command -v rabbitmq-server >/dev/null || die "rabbitmq-server is not installed (run scripts/install-deps.sh)"
    [ "$(id -u)" -eq 0 ] || die "must run as root (Debian's rabbitmq-server switches to the rabbitmq user)"
    mkdir -p "$dir"
    [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
    dir="$(cd "$dir" && pwd)"
    mkdir -p "$dir/home"
    python3 -c 'import secrets; print(secrets.token_hex(16).upper(), end="")' > "$dir/home/.erlang.cookie"
    chmod 400 "$dir/home/.erlang.cookie"
    echo '[].' > "$dir/enabled_plugins"
    cat > "$dir/advanced.config" <<'EOF'
[{rabbit, [{channel_tick_interval, 1000}]}].
EOF
    {
        echo "HLSIFY_TEST_CLUSTER_DIR='$dir'"
        echo "ERL_EPMD_PORT='$(free_port)'"
        echo "HLSIFY_TEST_CLUSTER_CTL='$self ctl $dir'"
        urls=""
        for n in 1 2 3; do
            port="$(free_port)"
            mkdir -p "$dir/n$n/mnesia" "$dir/n$n/log"
            cat > "$dir/n$n/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$port
loopback_users.guest = true
log.file.level = info
log.console = false
EOF
            echo "PORT_$n='$port'"
            echo "DIST_$n='$(free_port)'"
            echo "HLSIFY_TEST_CLUSTER_NODE_$n='hlsify-c$n-$$@localhost'"
            echo "HLSIFY_TEST_CLUSTER_URL_$n='amqp://guest:guest@127.0.0.1:$port/'"
            urls="${urls:+$urls,}amqp://guest:guest@127.0.0.1:$port/"
        done
        echo "HLSIFY_TEST_CLUSTER_URLS='$urls'"
        echo "export HLSIFY_TEST_CLUSTER_DIR HLSIFY_TEST_CLUSTER_CTL HLSIFY_TEST_CLUSTER_URLS"
        echo "export HLSIFY_TEST_CLUSTER_URL_1 HLSIFY_TEST_CLUSTER_URL_2 HLSIFY_TEST_CLUSTER_URL_3"
        echo "export HLSIFY_TEST_CLUSTER_NODE_1 HLSIFY_TEST_CLUSTER_NODE_2 HLSIFY_TEST_CLUSTER_NODE_3"
    } > "$dir/env"
    chown -R rabbitmq:rabbitmq "$dir"
    chmod 755 "$dir"
    for n in 1 2 3; do start_node "$n"; done
    for n in 1 2 3; do await_node "$n" || { "$self" stop "$dir" || true; exit 1; }; done
    # shellcheck disable=SC1091
    . "$dir/env"
    for n in 2 3; do
        retry_ctl "$n" stop_app
        retry_ctl "$n" join_cluster "$HLSIFY_TEST_CLUSTER_NODE_1"
        retry_ctl "$n" start_app
    done
    retry_ctl 1 await_online_nodes 3
    log "cluster of 3 nodes up: $HLSIFY_TEST_CLUSTER_URLS (data in $dir)"
    ;;
stop)
    [ -f "$dir/env" ] || exit 0
    for n in 3 2 1; do
        ctl "$n" stop >/dev/null 2>&1 || true
        if [ -f "$dir/n$n/launcher.pid" ]; then
            pid="$(cat "$dir/n$n/launcher.pid")"
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            if kill -0 "$pid" 2>/dev/null; then
                kill -TERM -- "-$pid" 2>/dev/null || true
                sleep 1
                kill -KILL -- "-$pid" 2>/dev/null || true
            fi
            rm -f "$dir/n$n/launcher.pid"
        fi
    done
    # shellcheck disable=SC1091
    ( . "$dir/env"; epmd -port "$ERL_EPMD_PORT" -kill >/dev/null 2>&1 || true )
    ;;
ctl)
    ctl "$@"
    ;;
stop-node)
    ctl "$1" stop_app
    ;;
start-node)
    retry_ctl "$1" start_app
    ctl "$1" await_startup --timeout 60
    ;;
*)
    die "unknown command $cmd"
    ;;
esac
