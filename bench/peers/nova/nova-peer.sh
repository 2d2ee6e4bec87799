#!/bin/bash
# nova-peer.sh install|up|down|status: Nova 31.3.1 (2025.1) with Placement
# 13.0.0, the fake virt driver, noauth2 and stub Neutron/Glance, on this
# machine's RabbitMQ and MariaDB, as the peer of bench/control_plane.py
# --peer nova (see README.md beside this file).
#
#   PEER_DIR=/var/tmp/arame-nova-peer NCOMPUTE=50 nova-peer.sh up
#   PEER_DIR=... nova-peer.sh status | down
#
# The harness (this script, stubs.py, api-paste.ini, the constraints) is read
# from the repository; everything it writes (venv, config, logs, pid files,
# state) lives under PEER_DIR, so the checkout stays clean and the venv
# (minutes to build) outlives it. `down` stops only the PIDs recorded in
# PEER_DIR/run and drops only its own peer_* databases, vhost and user.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
P=${PEER_DIR:-/var/tmp/arame-nova-peer}
VENV=$P/venv
RUN=$P/run
LOGS=$P/logs
ETC=$P/etc
STATE=$P/state
NCOMPUTE=${NCOMPUTE:-10}
NOVA_VERSION=31.3.1
PLACEMENT_VERSION=13.0.0
GUNICORN_VERSION=23.0.0
# OpenStack's own pins for 2025.1 (openstack/requirements stable/2025.1):
# the set Nova was released and tested with.
CONSTRAINTS=$HERE/upper-constraints-2025.1.txt
DBUSER=peer; DBPASS=peerpass
RMQ_USER=peer; RMQ_PASS=peerpass; RMQ_VHOST=peer
API_PORT=18774; PLACEMENT_PORT=18778; NEUTRON_PORT=19696; GLANCE_PORT=19292
API_WORKERS=${API_WORKERS:-2}; CONDUCTOR_WORKERS=${CONDUCTOR_WORKERS:-2}
SCHEDULER_WORKERS=${SCHEDULER_WORKERS:-2}; PLACEMENT_WORKERS=${PLACEMENT_WORKERS:-2}
DBS="peer_nova_api peer_nova_cell0 peer_nova peer_placement"
DBURL="mysql+pymysql://$DBUSER:$DBPASS@127.0.0.1"
export OS_NOVA_CONFIG_DIR=$ETC/nova

log() { echo "[$(date +%H:%M:%S)] $*"; }
die() { echo "ERROR: $*" >&2; exit 1; }

install() {
    if [ -x $VENV/bin/python ] && $VENV/bin/python - <<EOF 2>/dev/null
import importlib.metadata as m, sys
ok = m.version('nova') == '$NOVA_VERSION' and m.version('openstack-placement') == '$PLACEMENT_VERSION' and m.version('gunicorn') == '$GUNICORN_VERSION'
sys.exit(0 if ok else 1)
EOF
    then log "venv ok (nova $NOVA_VERSION, placement $PLACEMENT_VERSION)"; return; fi
    log "installing into $VENV"
    [ -x $VENV/bin/python ] || python3.11 -m venv $VENV || die "venv"
    [ -f $CONSTRAINTS ] || die "missing $CONSTRAINTS (openstack/requirements stable/2025.1 upper-constraints.txt)"
    $VENV/bin/pip install -q -c $CONSTRAINTS nova==$NOVA_VERSION \
        openstack-placement==$PLACEMENT_VERSION PyMySQL gunicorn==$GUNICORN_VERSION || die "pip install"
}

# OSLO_RPC_FIX=1 (the default here): backport of oslo.messaging 18.x's
# ReplyWaiters.get() (a blocking queue get). oslo.messaging 16.1.2 (the 2025.1
# pin) and 17.x poll the reply queue with time.sleep(0.5), adding up to 0.5 s
# to EVERY RPC call: a known, since-fixed defect that would make the
# comparison flatter Arame. OSLO_RPC_FIX=0 restores the pristine file.
rpc_fix() {
    local f=$VENV/lib/python3.11/site-packages/oslo_messaging/_drivers/amqpdriver.py
    [ -f $f.orig ] || cp -p $f $f.orig
    cp -p $f.orig $f
    if [ "${OSLO_RPC_FIX:-1}" = 1 ]; then
        $VENV/bin/python - $f <<'PYEOF' || die "rpc fix patch failed"
import sys
p = sys.argv[1]
s = open(p).read()
old = """        watch = timeutils.StopWatch(duration=timeout)
        watch.start()
        while not watch.expired():
            try:
                # NOTE(amorin) we can't use block=True
                # See lp-2035113
                return self._queues[msg_id].get(block=False)
            except queue.Empty:
                time.sleep(0.5)
        raise"""
new = """        try:
            return self._queues[msg_id].get(block=True, timeout=timeout)
        except queue.Empty:
            pass
        raise"""
assert old in s, "pattern not found"
open(p, "w").write(s.replace(old, new))
PYEOF
        log "oslo.messaging RPC reply-poll fix APPLIED (OSLO_RPC_FIX=1)"
    else
        log "oslo.messaging pristine (0.5 s reply polling; OSLO_RPC_FIX=1 to patch)"
    fi
    touch $f
}

setup_infra() {
    log "rabbitmq vhost $RMQ_VHOST"
    rabbitmqctl -q add_vhost $RMQ_VHOST >/dev/null 2>&1 || true
    rabbitmqctl -q add_user $RMQ_USER $RMQ_PASS >/dev/null 2>&1 || true
    rabbitmqctl -q set_permissions -p $RMQ_VHOST $RMQ_USER ".*" ".*" ".*" >/dev/null || die "rabbitmq perms"
    log "mariadb databases: $DBS"
    local sql=""
    for d in $DBS; do sql+="DROP DATABASE IF EXISTS $d; CREATE DATABASE $d CHARACTER SET utf8mb4;"; done
    for h in 127.0.0.1 localhost; do
        sql+="CREATE USER IF NOT EXISTS '$DBUSER'@'$h' IDENTIFIED BY '$DBPASS';"
        sql+="GRANT ALL PRIVILEGES ON \`peer\\_%\`.* TO '$DBUSER'@'$h';"
    done
    mysql -e "$sql" || die "mysql setup"
}

write_conf() {
    mkdir -p $ETC/nova $ETC/placement $RUN $LOGS $STATE/common/lock
    rm -f $ETC/nova/peer-cmp-*.conf
    local db_pool="max_pool_size = 5
max_overflow = 10"
    cat > $ETC/nova/nova.conf <<EOF
[DEFAULT]
transport_url = rabbit://$RMQ_USER:$RMQ_PASS@127.0.0.1:5672/$RMQ_VHOST
my_ip = 127.0.0.1
state_path = $STATE/common
instances_path = $STATE/common/instances
compute_driver = fake.FakeDriver
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = $API_PORT
osapi_compute_workers = $API_WORKERS
debug = ${NOVA_DEBUG:-false}
use_rootwrap_daemon = false
[api]
auth_strategy = noauth2
[wsgi]
api_paste_config = $ETC/nova/api-paste.ini
[api_database]
connection = $DBURL/peer_nova_api?charset=utf8
$db_pool
[database]
connection = $DBURL/peer_nova?charset=utf8
$db_pool
[conductor]
workers = $CONDUCTOR_WORKERS
[scheduler]
workers = $SCHEDULER_WORKERS
discover_hosts_in_cells_interval = -1
[placement]
auth_type = admin_token
endpoint = http://127.0.0.1:$PLACEMENT_PORT
token = admin
endpoint_override = http://127.0.0.1:$PLACEMENT_PORT
[neutron]
auth_type = admin_token
endpoint = http://127.0.0.1:$NEUTRON_PORT
token = admin
endpoint_override = http://127.0.0.1:$NEUTRON_PORT
[glance]
api_servers = http://127.0.0.1:$GLANCE_PORT
[service_user]
# noauth2 contexts carry no auth_token, so nova's glance client (user-token auth)
# fails with "No valid authentication is available"; a static service token
# makes keystoneauth send X-Service-Token and proceed.  Stubs ignore tokens.
send_service_user_token = true
auth_type = admin_token
endpoint = http://127.0.0.1:$GLANCE_PORT
token = admin
[quota]
instances = -1
cores = -1
ram = -1
[oslo_concurrency]
lock_path = $STATE/common/lock
[oslo_messaging_notifications]
driver = noop
[oslo_policy]
# noauth2 builds a context with is_admin=True but no roles; the 2025.1 new RBAC
# defaults check roles (role:admin / role:member), so fall back to the legacy
# rules (is_admin:True or project_id match), as noauth2 setups must.
enforce_new_defaults = false
enforce_scope = false
[vnc]
enabled = false
[spice]
enabled = false
EOF
    # computes get the same config minus DB sections (nova-compute must not have DB access)
    awk '/^\[/{skip=($0=="[database]"||$0=="[api_database]")} !skip' $ETC/nova/nova.conf > $ETC/nova/nova-cpu.conf
    cp $HERE/api-paste.ini $ETC/nova/api-paste.ini
    cat > $ETC/placement/placement.conf <<EOF
[DEFAULT]
debug = ${NOVA_DEBUG:-false}
log_file = $LOGS/placement.log
[api]
auth_strategy = noauth2
[placement_database]
connection = $DBURL/peer_placement?charset=utf8
$db_pool
EOF
    for i in $(seq -w 1 $NCOMPUTE); do
        local h=peer-cmp-$(printf %03d $((10#$i)))
        mkdir -p $STATE/$h/instances
        cat > $ETC/nova/$h.conf <<EOF
[DEFAULT]
host = $h
state_path = $STATE/$h
instances_path = $STATE/$h/instances
EOF
    done
}

# start_proc NAME CMD...   (detached, own session, PID recorded)
start_proc() {
    local name=$1; shift
    setsid nohup "$@" >> $LOGS/$name.out 2>&1 < /dev/null &
    echo $! > $RUN/$name.pid
}

wait_http() {  # url seconds
    local i
    for i in $(seq 1 $(( $2 * 2 ))); do
        curl -s -o /dev/null -m 2 "$1" && return 0
        sleep 0.5
    done
    return 1
}

NM() { $VENV/bin/nova-manage --config-file $ETC/nova/nova.conf "$@"; }

up() {
    [ -n "$(ls $RUN/*.pid 2>/dev/null)" ] && die "already up? ($RUN has pid files; run down first)"
    install
    rm -rf $LOGS; mkdir -p $LOGS
    rpc_fix
    setup_infra
    write_conf
    local PY=$VENV/bin/python
    log "stubs (neutron :$NEUTRON_PORT, glance :$GLANCE_PORT)"
    start_proc stub-neutron $PY $HERE/stubs.py neutron $NEUTRON_PORT $LOGS/stub-neutron.log
    start_proc stub-glance $PY $HERE/stubs.py glance $GLANCE_PORT $LOGS/stub-glance.log
    log "db sync"
    OS_PLACEMENT_CONFIG_DIR=$ETC/placement $VENV/bin/placement-manage --config-file $ETC/placement/placement.conf db sync >> $LOGS/setup.log 2>&1 || die "placement db sync"
    NM api_db sync >> $LOGS/setup.log 2>&1 || die "api_db sync"
    NM cell_v2 map_cell0 --database_connection "$DBURL/peer_nova_cell0?charset=utf8" >> $LOGS/setup.log 2>&1 || die "map_cell0"
    NM cell_v2 create_cell --name cell1 >> $LOGS/setup.log 2>&1 || die "create_cell"
    NM db sync >> $LOGS/setup.log 2>&1 || die "db sync"
    log "placement (gunicorn, $PLACEMENT_WORKERS workers x 4 threads, :$PLACEMENT_PORT)"
    OS_PLACEMENT_CONFIG_DIR=$ETC/placement start_proc placement $VENV/bin/gunicorn \
        --workers $PLACEMENT_WORKERS --threads 4 --timeout 120 --bind 127.0.0.1:$PLACEMENT_PORT \
        --access-logfile - placement.wsgi.api:application
    wait_http http://127.0.0.1:$PLACEMENT_PORT/ 60 || die "placement not answering"
    log "nova-conductor, nova-scheduler, nova-api"
    start_proc nova-conductor $VENV/bin/nova-conductor --config-file $ETC/nova/nova.conf --log-file $LOGS/nova-conductor.log
    start_proc nova-scheduler $VENV/bin/nova-scheduler --config-file $ETC/nova/nova.conf --log-file $LOGS/nova-scheduler.log
    start_proc nova-api $VENV/bin/nova-api --config-file $ETC/nova/nova.conf --log-file $LOGS/nova-api.log
    log "$NCOMPUTE x nova-compute (fake.FakeDriver)"
    for f in $ETC/nova/peer-cmp-*.conf; do
        local h; h=$(basename $f .conf)
        start_proc $h $VENV/bin/nova-compute --config-file $ETC/nova/nova-cpu.conf --config-file $f --log-file $LOGS/$h.log
        sleep 0.2
    done
    wait_http http://127.0.0.1:$API_PORT/ 120 || die "nova-api not answering"
    log "waiting for $NCOMPUTE compute nodes to register"
    local n=0 i
    for i in $(seq 1 600); do
        n=$(mysql -Nse "select count(*) from peer_nova.compute_nodes where deleted=0" 2>/dev/null || echo 0)
        [ "$n" -ge "$NCOMPUTE" ] && break
        sleep 1
    done
    [ "$n" -ge "$NCOMPUTE" ] || die "only $n/$NCOMPUTE compute nodes registered"
    NM cell_v2 discover_hosts --verbose >> $LOGS/setup.log 2>&1 || die "discover_hosts"
    local rps
    rps=$(mysql -Nse "select count(*) from peer_placement.resource_providers")
    log "up: $n compute nodes, $rps placement RPs; API http://127.0.0.1:$API_PORT/v2.1 (X-Auth-Token: admin:admin)"
}

descendants() {  # pid -> pid and all descendants (from /proc ppid links)
    local root=$1
    awk -v root=$root '
      { pid=$1; ppid=$2; kids[ppid]=kids[ppid] " " pid }
      END { q[1]=root; n=1; h=1; while (h<=n) { p=q[h++]; print p; m=split(kids[p], a, " "); for (i=1;i<=m;i++) q[++n]=a[i] } }' \
      < <(for s in /proc/[0-9]*/stat; do { read -r l < $s; } 2>/dev/null || continue; r=${l##*) }; set -- $r; echo "${s//[^0-9]/} $2"; done)
}

is_ours() {  # pid still alive and running something from $PEER_DIR
    [ -r /proc/$1/cmdline ] && tr '\0' ' ' < /proc/$1/cmdline | grep -q "$P/"
}

down() {
    local f pid all=""
    for f in $RUN/*.pid; do
        [ -f "$f" ] || continue
        pid=$(cat $f)
        if is_ours $pid; then
            all+=" $(descendants $pid | tr '\n' ' ')"
            kill -TERM $pid 2>/dev/null
        fi
    done
    local i left
    for i in $(seq 1 30); do
        left=""
        for pid in $all; do is_ours $pid && left+=" $pid"; done
        [ -z "$left" ] && break
        sleep 0.5
    done
    for pid in $left; do is_ours $pid && kill -KILL $pid 2>/dev/null; done
    rm -f $RUN/*.pid
    log "stopped: ${all:- nothing}"
    local sql=""
    for d in $DBS; do sql+="DROP DATABASE IF EXISTS $d;"; done
    mysql -e "$sql" && log "dropped $DBS"
    rabbitmqctl -q delete_vhost $RMQ_VHOST >/dev/null 2>&1 && log "deleted vhost $RMQ_VHOST"
    rabbitmqctl -q delete_user $RMQ_USER >/dev/null 2>&1 || true
    rm -rf $STATE
}

status() {
    local f pid alive=0 dead=0
    for f in $RUN/*.pid; do
        [ -f "$f" ] || continue
        pid=$(cat $f)
        if is_ours $pid; then alive=$((alive+1)); else dead=$((dead+1)); echo "DEAD: $(basename $f .pid) ($pid)"; fi
    done
    echo "processes: $alive alive, $dead dead"
    curl -s -m 3 -H 'X-Auth-Token: admin:admin' http://127.0.0.1:$API_PORT/v2.1/os-services \
      | $VENV/bin/python -c 'import json,sys; s=json.load(sys.stdin)["services"]; from collections import Counter; print("nova services:", dict(Counter((x["binary"], x["state"], x["status"]) for x in s)))' 2>/dev/null \
      || echo "nova-api not answering"
    mysql -Nse "select 'compute_nodes', count(*) from peer_nova.compute_nodes where deleted=0; select 'host_mappings', count(*) from peer_nova_api.host_mappings; select 'live instances', count(*) from peer_nova.instances where deleted=0" 2>/dev/null
}

case "${1:-}" in
    install) install ;;
    up) up ;;
    down) down ;;
    status) status ;;
    *) echo "usage: [PEER_DIR=dir] [NCOMPUTE=N] $0 install|up|down|status"; exit 2 ;;
esac
