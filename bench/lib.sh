# Shared by bench/run and bench/profile: build, start and stop the processes under test. Sourced, not run.
# Expects ROOT, LOGS, STAMP, SECRET, ADMIN_TOKEN and the *_BASE ports to be set.

has() { [[ ",$1," == *",$2,"* ]]; }

# Equal-CPU mode (PIN=1): every server process (raw Kestrel, silos, edges, redis) on core SERVER_CPUS, the load
# generator on LOAD_CPUS, so the servers are compared on the same single core and the load generator never competes
# with them. PIN=0 (default) leaves both cores shared by everything, as before.
PIN=${PIN:-0}
if [[ $PIN == 1 ]]; then
  SERVER_CPUS=${SERVER_CPUS:-0}
  LOAD_CPUS=${LOAD_CPUS:-1}
  command -v taskset > /dev/null || { echo "PIN=1 needs taskset (util-linux)"; exit 1; }
fi
pinned() { # cpus command...: the command on those cpus, or unpinned when cpus is empty
  local cpus=$1; shift
  if [[ -n $cpus ]]; then taskset -c "$cpus" "$@"; else "$@"; fi
}
# EDGE_ENV: extra edge settings, space-separated KEY=VALUE (e.g. Gateway__Edge__ConnectionLevelUpgrade=false)
GW_SILOS=${GW_SILOS:-2}  # gateway topology: silos and edges started for the scenarios (scale and drain add edges);
GW_EDGES=${GW_EDGES:-2}  # GW_SILOS=0: "combined", every edge co-hosts a silo of the cluster (Gateway:EmbeddedSilo)

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# R2R=1 (default): the servers are published for linux-x64 with ReadyToRun, as the Dockerfiles deploy them (no
# start-up JIT); R2R=0 runs the plain Release build (everything JIT-compiled on first use), for comparison.
R2R=${R2R:-1}
build_all() {
  if [[ $R2R == 1 ]]; then echo "== building (Release, servers published ReadyToRun)"; else echo "== building (Release, R2R=0: JIT only)"; fi
  BIN=bin/Release/net10.0
  local p name
  for p in EdgeHost/EdgeHost.csproj Silo/Silo.csproj bench/Baseline/Baseline.csproj bench/LoadGen/LoadGen.csproj; do
    name=$(basename "$p" .csproj)
    if [[ $R2R == 1 && $name != LoadGen ]]; then
      dotnet publish -c Release -r linux-x64 --self-contained false -p:UseAppHost=false --nologo -v q "$p" \
        -o "$ROOT/bench/.publish/$name" > "$LOGS/build-$name.log" 2>&1 || { tail -30 "$LOGS/build-$name.log"; exit 1; }
    else
      dotnet build -c Release --nologo -v q "$p" > "$LOGS/build-$name.log" 2>&1 || { tail -30 "$LOGS/build-$name.log"; exit 1; }
    fi
  done
  server_dll() { # project-dir assembly: where the server's dll is for this run
    if [[ $R2R == 1 ]]; then echo "$ROOT/bench/.publish/$(basename "$1")/$2.dll"; else echo "$ROOT/$1/$BIN/$2.dll"; fi
  }
  SILO_DLL=$(server_dll Silo OrleansGateway.Silo)
  EDGE_DLL=$(server_dll EdgeHost OrleansGateway.EdgeHost)
  BASELINE_DLL=$(server_dll bench/Baseline OrleansGateway.Bench.Baseline)
  LOADGEN=(dotnet "$ROOT/bench/LoadGen/$BIN/OrleansGateway.Bench.LoadGen.dll")
  [[ -n ${LOAD_CPUS:-} ]] && LOADGEN=(taskset -c "$LOAD_CPUS" "${LOADGEN[@]}")
  return 0
}

wait_ready() { # url name pid
  for _ in $(seq 1 120); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then echo "$2 exited; see $LOGS/$2.log"; tail -20 "$LOGS/$2.log"; exit 1; fi
    sleep 0.5
  done
  echo "$2 not ready at $1 after 60 s"; tail -20 "$LOGS/$2.log"; exit 1
}

start() { # name dll env...: runs in the dll's folder, so its appsettings*.json are the content root's (as deployed)
  local name=$1 dll=$2; shift 2
  local pin=()
  [[ -n ${SERVER_CPUS:-} ]] && pin=(taskset -c "$SERVER_CPUS")
  (cd "$(dirname "$dll")" && exec "${pin[@]}" env "$@" dotnet "$dll") > "$LOGS/$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  eval "PID_${name//-/_}=$pid"
}

pid_of() { local v="PID_${1//-/_}"; echo "${!v}"; }

stop() { # name...: SIGTERM (edges drain their sessions first), bounded
  for n in "$@"; do kill "$(pid_of "$n")" 2>/dev/null || true; done
  for n in "$@"; do
    local pid; pid=$(pid_of "$n")
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  done
}

SILO_EXTRA=()  # extra silo settings (e.g. Redis durability), set before start_cluster
kill_now() { # name...: the measurements are over and nothing needs preserving (a graceful silo stop migrates
  # every grain, minutes after a 100k-connection scale run)
  for n in "$@"; do kill -9 "$(pid_of "$n")" 2>/dev/null || true; done
}

start_cluster() { # GW_SILOS silos; then start_edge N for each edge
  CLUSTER=(Gateway__Cluster__ClusterId="bench-$STAMP${CLUSTER_SUFFIX:-}" Gateway__Cluster__ServiceId="bench-$STAMP${CLUSTER_SUFFIX:-}" ASPNETCORE_ENVIRONMENT=Production)
  # EVENTS=1: every lifecycle event kind on, silos and edges alike (docs/events.md), to the silos' memory stream
  [[ ${EVENTS:-0} == 1 ]] && CLUSTER+=(Gateway__Events__Kinds=Connected,Disconnected,Subscribed,Unsubscribed)
  ((GW_SILOS == 0)) && echo "== combined: every edge co-hosts a silo${SERVER_CPUS:+ (on cpu $SERVER_CPUS)}"
  ((GW_SILOS > 0)) && echo "== starting $GW_SILOS silo(s)${SERVER_CPUS:+ on cpu $SERVER_CPUS}"
  local i
  for ((i = 1; i <= GW_SILOS; i++)); do
    start "silo$i" "$SILO_DLL" "${CLUSTER[@]}" "${SILO_EXTRA[@]}" ASPNETCORE_URLS="http://127.0.0.1:$((SILO_HTTP_BASE + i - 1))" \
      Gateway__Cluster__SiloPort=$((SILO_PORT_BASE + i - 1)) Gateway__Cluster__GatewayPort=$((GATEWAY_PORT_BASE + i - 1)) \
      $( ((i > 1)) && echo "Gateway__Cluster__PrimarySiloPort=$SILO_PORT_BASE")
    wait_ready "http://127.0.0.1:$((SILO_HTTP_BASE + i - 1))/health/ready" "silo$i" "$(pid_of "silo$i")"
  done
  EDGES_STARTED=0
}

silos_pids() { local s=""; for ((i = 1; i <= GW_SILOS; i++)); do s+="${s:+,}$(pid_of "silo$i")"; done; echo "$s"; }

cluster_of_edge() { # index: how edge i joins the cluster (a client of the silos, or a silo itself when combined)
  local i=$1 g
  if ((GW_SILOS == 0)); then
    echo "Gateway__EmbeddedSilo=true Gateway__Cluster__SiloPort=$((SILO_PORT_BASE + i - 1)) Gateway__Cluster__GatewayPort=$((GATEWAY_PORT_BASE + i - 1))"
    ((i > 1)) && echo "Gateway__Cluster__PrimarySiloPort=$SILO_PORT_BASE"
  else
    for ((g = 0; g < GW_SILOS; g++)); do echo "Gateway__Cluster__GatewayPorts__$g=$((GATEWAY_PORT_BASE + g))"; done
  fi
  return 0
}

start_edge() { # index (1-based)
  local i=$1 port=$((EDGE_HTTP_BASE + $1 - 1))
  EDGES_STARTED=$i
  start "edge$i" "$EDGE_DLL" "${CLUSTER[@]}" ASPNETCORE_URLS="http://127.0.0.1:$port" \
    $(cluster_of_edge "$i") \
    Gateway__Auth__Issuer=bench Gateway__Auth__Audience=ogw Gateway__Auth__Keys__0__Id=bench \
    Gateway__Auth__Keys__0__Algorithm=HS256 Gateway__Auth__Keys__0__Secret="$SECRET" Gateway__Auth__DefaultChannels__0='*' \
    Gateway__Edge__MaxConnections=60000 Gateway__Drain__AdminToken="$ADMIN_TOKEN" Gateway__Drain__BatchSize="${DRAIN_BATCH:-500}" \
    ${EDGE_ENV:-}
  # A combined edge is a silo: the next one joins through it, so it must be up first.
  ((GW_SILOS == 0)) && wait_ready "http://127.0.0.1:$port/health/ready" "edge$i" "$(pid_of "edge$i")"
  return 0
}
edges_ws() { local s=""; for i in $(seq 1 "$1"); do s+="${s:+,}ws://127.0.0.1:$((EDGE_HTTP_BASE + i - 1))"; done; echo "$s"; }
edges_pids() { local s=""; for i in $(seq 1 "$1"); do s+="${s:+,}$(pid_of "edge$i")"; done; echo "$s"; }
