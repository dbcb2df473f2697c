#!/usr/bin/env bash
# A private RabbitMQ node for the test suites: its own node name, ports, epmd and data folder,
# so it never touches a broker already running on the machine (nor the packaged one).
#
#   scripts/rabbitmq-test-node.sh start DIR    start a node with its data in DIR (created; must be
#                                              new or empty) and wait until it is up; prints nothing
#                                              on stdout but writes DIR/env (see below)
#   scripts/rabbitmq-test-node.sh stop DIR     stop that node, its epmd, and everything they started
#   scripts/rabbitmq-test-node.sh ctl DIR ARGS rabbitmqctl ARGS against that node
#                                              (e.g. `ctl DIR stop_app`, `ctl DIR start_app`)
#   scripts/rabbitmq-test-node.sh run -- CMD…  start a node in a new temporary folder, run CMD
#                                              with DIR/env exported, then stop the node and
#                                              remove the folder (also on failure or Ctrl-C);
#                                              exits with CMD's status (`make test` uses this)
#
# DIR/env is a sourceable file with
#   HLSIFY_TEST_AMQP_URL            amqp://guest:guest@127.0.0.1:PORT/
#   HLSIFY_TEST_RABBITMQ_NODE       the node name (for rabbitmqctl -n)
#   HLSIFY_TEST_RABBITMQ_DIR        DIR
#   HLSIFY_TEST_RABBITMQCTL         a command line running rabbitmqctl against the node
#   ERL_EPMD_PORT, RABBITMQ_NODENAME  what rabbitmqctl needs to find the node
#
# Debian's rabbitmq-server runs as the rabbitmq user even when started by root, so DIR is
# handed to that user. `-detached` does not work on this kind of machine: the node runs in the
# background under setsid, and `rabbitmqctl await_startup` tells when it is up (about 7 s).
# The node gets channel_tick_interval = 1 s so that a test can shorten consumer_timeout at run
# time (`ctl DIR eval 'application:set_env(rabbit, consumer_timeout, 3000).'`) and see it act.
set -euo pipefail

die() { printf 'rabbitmq-test-node: %s\n' "$*" >&2; exit 1; }
log() { printf 'rabbitmq-test-node: %s\n' "$*" >&2; }

[ $# -ge 2 ] || die "usage: $0 start|stop|ctl DIR [ARGS...] | run -- CMD [ARGS...]"
cmd="$1"; shift
if [ "$cmd" = run ]; then
    [ "${1:-}" = "--" ] && shift
    [ $# -ge 1 ] || die "usage: $0 run -- CMD [ARGS...]"
    self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
    dir="$(mktemp -d "${TMPDIR:-/tmp}/hlsify-rabbitmq.XXXXXX")"
    cleanup() {
        "$self" stop "$dir" || true
        rm -rf "$dir"
    }
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
    python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# Runs rabbitmqctl as the rabbitmq user (root's HOME has no Erlang cookie for this node).
ctl() {
    # shellcheck disable=SC1091
    . "$dir/env"
    export ERL_EPMD_PORT RABBITMQ_NODENAME
    rabbitmqctl -q -n "$HLSIFY_TEST_RABBITMQ_NODE" "$@"
}

case "$cmd" in
start)
    command -v rabbitmq-server >/dev/null || die "rabbitmq-server is not installed (run scripts/install-deps.sh)"
    [ "$(id -u)" -eq 0 ] || die "must run as root (Debian's rabbitmq-server switches to the rabbitmq user)"
    mkdir -p "$dir"
    [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
    dir="$(cd "$dir" && pwd)"
    amqp_port="$(free_port)"; dist_port="$(free_port)"; epmd_port="$(free_port)"
    node="hlsify-test-$$@localhost"
    mkdir -p "$dir/mnesia" "$dir/log"
    echo '[].' > "$dir/enabled_plugins"
    cat > "$dir/advanced.config" <<'EOF'
[{rabbit, [{channel_tick_interval, 1000}]}].
EOF
    cat > "$dir/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$amqp_port
loopback_users.guest = true
log.file.level = info
log.console = false
EOF
    cat > "$dir/env" <<EOF
HLSIFY_TEST_AMQP_URL='amqp://guest:guest@127.0.0.1:$amqp_port/'
HLSIFY_TEST_RABBITMQ_NODE='$node'
HLSIFY_TEST_RABBITMQ_DIR='$dir'
HLSIFY_TEST_RABBITMQCTL='$(cd "$(dirname "$0")" && pwd)/rabbitmq-test-node.sh ctl $dir'
ERL_EPMD_PORT='$epmd_port'
RABBITMQ_NODENAME='$node'
export HLSIFY_TEST_AMQP_URL HLSIFY_TEST_RABBITMQ_NODE HLSIFY_TEST_RABBITMQ_DIR HLSIFY_TEST_RABBITMQCTL
EOF
    chown -R rabbitmq:rabbitmq "$dir"
    chmod 755 "$dir"
    (
        export RABBITMQ_NODENAME="$node" RABBITMQ_NODE_PORT="$amqp_port" RABBITMQ_DIST_PORT="$dist_port"
        export ERL_EPMD_PORT="$epmd_port"
        export RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log"
        export RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config"
        export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
        export RABBITMQ_PID_FILE="$dir/node.pid"
        cd /
        exec setsid rabbitmq-server > "$dir/log/console.log" 2>&1 < /dev/null
    ) &
    echo $! > "$dir/launcher.pid"
    # The node registers with epmd a few seconds after launch; await_startup needs it registered.
    up=""
    for _ in $(seq 1 180); do
        if ! kill -0 "$(cat "$dir/launcher.pid")" 2>/dev/null; then break; fi
        if ctl await_startup --timeout 60 >/dev/null 2>&1; then up=1; break; fi
        sleep 0.5
    done
    if [ -z "$up" ]; then
        log "the node did not start; its console log:"
        tail -n 40 "$dir/log/console.log" >&2 || true
        "$0" stop "$dir" || true
        exit 1
    fi
    log "node $node up, AMQP on 127.0.0.1:$amqp_port (data in $dir)"
    ;;
stop)
    [ -f "$dir/env" ] || exit 0
    ctl stop >/dev/null 2>&1 || true
    if [ -f "$dir/launcher.pid" ]; then
        pid="$(cat "$dir/launcher.pid")"
        # setsid made the launcher a session (and process group) leader: end that group only.
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM -- "-$pid" 2>/dev/null || true
            sleep 1
            kill -KILL -- "-$pid" 2>/dev/null || true
        fi
        rm -f "$dir/launcher.pid"
    fi
    # The node started its own epmd on a port nobody else uses: stop exactly that one.
    # shellcheck disable=SC1091
    ( . "$dir/env"; epmd -port "$ERL_EPMD_PORT" -kill >/dev/null 2>&1 || true )
    ;;
ctl)
    ctl "$@"
    ;;
*)
    die "unknown command $cmd (start, stop, ctl)"
    ;;
esac
