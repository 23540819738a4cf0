# shellcheck shell=bash
# shellcheck disable=SC2154 # run_dir, here and ready_timeout are services.sh's
# The `kube` service of services.sh (sourced by it, not run on its own): a real Kubernetes control plane on
# 127.0.0.1 — etcd, kube-apiserver, kube-controller-manager, kube-scheduler — with KWOK standing in for the
# kubelet of one fake node, so that tests can prove Pods, ConfigMaps, NetworkPolicies and RBAC objects against
# a real API server: its validation, admission (PodSecurity), authorization, scheduling and garbage collection.
# No container ever runs; KWOK writes the pod status a kubelet would (see stages.yaml beside this file).
#
# Every component has its own folder in "$run_dir/kube/" that its command line names, which is how services.sh
# tells its processes apart (pid files and leftovers, as for the other services).

kube_port="${INTEGR8S_KUBE_PORT:-16443}"
kube_etcd_port="${INTEGR8S_KUBE_ETCD_PORT:-12379}"
kube_etcd_peer_port="${INTEGR8S_KUBE_ETCD_PEER_PORT:-12380}"
kube_controller_manager_port="${INTEGR8S_KUBE_CONTROLLER_MANAGER_PORT:-16257}"
kube_scheduler_port="${INTEGR8S_KUBE_SCHEDULER_PORT:-16259}"
# KWOK's kubelet API (logs), which the API server dials for pods/log: the node's daemonEndpoints port.
kube_kwok_port="${INTEGR8S_KUBE_KWOK_PORT:-16250}"
kube_node="${INTEGR8S_KUBE_NODE:-kwok-node-0}"
# Virtual addresses only: no kube-proxy routes the service range, and KWOK's pod addresses (loopback, so that
# anything that does try one stays on this machine) are written into pod status, never listened on.
kube_service_cidr="${INTEGR8S_KUBE_SERVICE_CIDR:-10.96.0.0/16}"
kube_pod_cidr="${INTEGR8S_KUBE_POD_CIDR:-127.1.0.1/16}"
# The controllers the tests rely on, and no more: ownerReference garbage collection, namespace deletion,
# the default ServiceAccount and kube-root-ca.crt in every namespace (the ServiceAccount admission plugin
# refuses pods until the account exists), ResourceQuota usage (quota admission refuses pods while a quota's
# status is empty), aggregated ClusterRoles (admin/edit/view get their rules from it), Jobs and their TTL,
# and the node lifecycle: a node is registered with the node.kubernetes.io/not-ready:NoSchedule taint (the
# TaintNodesByCondition admission plugin), which only that controller lifts once the node is Ready; it would
# also taint the node unreachable if KWOK stopped renewing its lease, as a cluster does when a kubelet dies.
kube_controllers="${INTEGR8S_KUBE_CONTROLLERS:-garbage-collector-controller,namespace-controller,serviceaccount-controller,serviceaccount-token-controller,root-ca-certificate-publisher-controller,resourcequota-controller,clusterrole-aggregation-controller,job-controller,ttl-after-finished-controller,node-lifecycle-controller}"

# Start order; stop goes the other way.
kube_components=(etcd apiserver controller-manager scheduler kwok)

# Set by kube_install from build.sh's output.
etcd_bin="" kube_bin_dir="" kwok_bin="" kwok_stage_crd="" kwok_logs_crd="" kube_version="" kwok_version=""

kube_install() {
  local assignments
  assignments="$(bash "$here/kube/build.sh" all)" || die "kube: building the control plane failed"
  eval "$assignments"
}

kube_dir() { echo "$run_dir/kube${1:+/$1}"; }

kubectl_admin() {
  "$kube_bin_dir/kubectl" --kubeconfig "$(kube_dir)/kubeconfig" --cache-dir "$(kube_dir)/kubectl-cache" \
    --request-timeout=20s "$@"
}

# ---------------------------------------------------------------------------------------------- credentials

# One certificate authority per run directory, made once: the API server's serving certificate, a client
# certificate per component (each its own user, so RBAC sees the same identities as in a cluster) and the
# service-account signing key. EC P-256 keys, which openssl makes in milliseconds.
kube_sign() {
  local out="$1" subject="$2" extensions="$3" pki
  pki="$(kube_dir pki)"
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout "$out.key" \
    -subj "$subject" -out "$out.csr" 2>/dev/null
  openssl x509 -req -in "$out.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days 3650 -extfile <(printf '%b\n' "$extensions") -out "$out.crt" 2>/dev/null
  rm -f "$out.csr"
  chmod 600 "$out.key"
}

kube_credentials() {
  local pki client="extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature" name complete=true
  pki="$(kube_dir pki)"
  # All made together from one CA: if any is missing (an older run directory, an interrupted start), anew.
  for name in ca sa apiserver admin controller-manager scheduler kwok front-proxy-client; do
    [[ -s "$pki/$name.key" ]] || complete=false
  done
  if $complete; then
    kube_kubelet_credentials
    return
  fi
  command -v openssl >/dev/null 2>&1 || need_apt openssl
  rm -rf "$pki"
  mkdir -p "$pki"
  chmod 700 "$pki"
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout "$pki/ca.key" \
    -out "$pki/ca.crt" -days 3650 -subj "/CN=integr8scode-local-kubernetes-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$pki/sa.key" 2>/dev/null
  openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub"
  local service_ip="${kube_service_cidr%/*}"
  service_ip="${service_ip%.*}.$((${service_ip##*.} + 1))"
  kube_sign "$pki/apiserver" "/CN=kube-apiserver" \
    "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:$service_ip,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature"
  # The tests' user is a cluster admin through the group, as kubeadm's admin.conf is.
  kube_sign "$pki/admin" "/O=system:masters/CN=integr8scode-admin" "$client"
  kube_sign "$pki/controller-manager" "/CN=system:kube-controller-manager" "$client"
  kube_sign "$pki/scheduler" "/CN=system:kube-scheduler" "$client"
  # KWOK patches node and pod status, deletes pods, renews node leases and reads its Stage objects; a binding
  # for exactly that would only restate a kubelet's and a controller's rights, so it is an admin too.
  kube_sign "$pki/kwok" "/O=system:masters/CN=kwok-controller" "$client"
  # The aggregation layer's front proxy: with it the API server publishes a request-header CA in
  # kube-system/extension-apiserver-authentication, which the controller manager's and scheduler's own
  # authentication reads (without it they log an error every few seconds).
  kube_sign "$pki/front-proxy-client" "/CN=front-proxy-client" "$client"
  kube_kubelet_credentials
}

# The kubelet API that KWOK serves (container logs): its serving certificate, which the API server checks
# against the CA, and the API server's client certificate for it. Added to an older run directory's CA too.
kube_kubelet_credentials() {
  local pki
  pki="$(kube_dir pki)"
  [[ -s "$pki/kwok-serving.key" ]] ||
    kube_sign "$pki/kwok-serving" "/CN=$kube_node" \
      "subjectAltName=IP:127.0.0.1,DNS:$kube_node\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature"
  [[ -s "$pki/apiserver-kubelet-client.key" ]] ||
    kube_sign "$pki/apiserver-kubelet-client" "/CN=kube-apiserver-kubelet-client" \
      "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature"
}

# A kubeconfig with everything embedded, so a test may copy it anywhere.
kube_kubeconfig() {
  local file="$1" user="$2" pki
  pki="$(kube_dir pki)"
  cat >"$file.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: integr8scode-local
    cluster:
      server: https://127.0.0.1:$kube_port
      certificate-authority-data: $(base64 -w0 <"$pki/ca.crt")
users:
  - name: $user
    user:
      client-certificate-data: $(base64 -w0 <"$pki/$user.crt")
      client-key-data: $(base64 -w0 <"$pki/$user.key")
contexts:
  - name: integr8scode-local
    context:
      cluster: integr8scode-local
      user: $user
current-context: integr8scode-local
EOF
  chmod 600 "$file.tmp"
  mv "$file.tmp" "$file"
}

# ---------------------------------------------------------------------------------------------- readiness

kube_etcd_ready() { curl -fsS --max-time 2 "http://127.0.0.1:$kube_etcd_port/health" 2>/dev/null | grep -q '"health":"true"'; }

kube_apiserver_ready() {
  local pki
  pki="$(kube_dir pki)"
  [[ "$(curl -sS --max-time 2 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
    "https://127.0.0.1:$kube_port/readyz" 2>/dev/null)" == ok ]]
}

# The components' own serving certificates are self-signed in memory, hence -k; /healthz is open to anyone.
kube_controller_manager_ready() {
  [[ "$(curl -ksS --max-time 2 "https://127.0.0.1:$kube_controller_manager_port/healthz" 2>/dev/null)" == ok ]]
}
kube_scheduler_ready() {
  [[ "$(curl -ksS --max-time 2 "https://127.0.0.1:$kube_scheduler_port/healthz" 2>/dev/null)" == ok ]]
}

# Ready for tests: KWOK holds the node's lease (it manages the node's pods from then on), the node is Ready and
# schedulable (its not-ready taint lifted), and the service-account controller has made the default account
# (pods are refused without it).
# curl rather than kubectl: wait_ready polls every 50 ms, and each kubectl costs about 0.1 s of CPU.
kube_get() {
  local pki
  pki="$(kube_dir pki)"
  curl -fsS --max-time 2 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
    "https://127.0.0.1:$kube_port$1" 2>/dev/null
}
kube_kwok_ready() {
  local node
  kube_get "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/$kube_node" >/dev/null || return 1
  node="$(kube_get "/api/v1/nodes/$kube_node?pretty=false")" || return 1
  [[ "$node" == *'"type":"Ready","status":"True"'* && "$node" != *'"key":"node.kubernetes.io/'* ]] &&
    kube_get /api/v1/namespaces/default/serviceaccounts/default >/dev/null
}

# ---------------------------------------------------------------------------------------------- components

kube_start_etcd() {
  local dir
  dir="$(kube_dir etcd)"
  mkdir -p "$dir/data"
  chmod 700 "$dir/data"
  launch kube/etcd "$dir/etcd.log" "$etcd_bin" --name integr8scode --data-dir "$dir/data" \
    --listen-client-urls "http://127.0.0.1:$kube_etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$kube_etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$kube_etcd_peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$kube_etcd_peer_port" \
    --initial-cluster "integr8scode=http://127.0.0.1:$kube_etcd_peer_port" \
    --log-level warn
  wait_ready kube/etcd kube_etcd_ready "$dir/etcd.log"
}

kube_start_apiserver() {
  local dir pki
  dir="$(kube_dir apiserver)"
  pki="$(kube_dir pki)"
  mkdir -p "$dir"
  # The serving certificate is copied into the component's folder so that its command line names that folder.
  cp "$pki/apiserver.crt" "$pki/apiserver.key" "$dir/"
  # --advertise-address=127.0.0.1 keeps every address the server publishes on loopback; Endpoints may not
  # hold a loopback address, so the endpoint reconciler for the `kubernetes` Service is off (nothing here
  # reaches the API through that Service). PodSecurity is among the default admission plugins; privileged
  # pods are allowed cluster-wide, as on a real cluster, so that PodSecurity is what refuses them.
  launch kube/apiserver "$dir/apiserver.log" "$kube_bin_dir/kube-apiserver" \
    "--etcd-servers=http://127.0.0.1:$kube_etcd_port" \
    --bind-address=127.0.0.1 "--secure-port=$kube_port" --advertise-address=127.0.0.1 \
    --endpoint-reconciler-type=none \
    "--tls-cert-file=$dir/apiserver.crt" "--tls-private-key-file=$dir/apiserver.key" \
    "--client-ca-file=$pki/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    "--service-account-key-file=$pki/sa.pub" "--service-account-signing-key-file=$pki/sa.key" \
    "--service-cluster-ip-range=$kube_service_cidr" \
    --authorization-mode=Node,RBAC \
    "--requestheader-client-ca-file=$pki/ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    "--proxy-client-cert-file=$pki/front-proxy-client.crt" "--proxy-client-key-file=$pki/front-proxy-client.key" \
    --allow-privileged=true \
    --kubelet-preferred-address-types=InternalIP \
    "--kubelet-certificate-authority=$pki/ca.crt" \
    "--kubelet-client-certificate=$pki/apiserver-kubelet-client.crt" \
    "--kubelet-client-key=$pki/apiserver-kubelet-client.key" \
    --profiling=false
  cp "$dir/pid" "$(kube_dir)/pid"
  wait_ready kube/apiserver kube_apiserver_ready "$dir/apiserver.log"
}

# KWOK's Stage type, the stages, and the node, before KWOK starts: it reads its stages from the API.
# KWOK manages a node's pods only while it holds the node's lease, under a holder name that is new in every
# process: a lease left by the previous KWOK (after a restart) would keep the new one waiting until it
# expires (40 s), so it is deleted here and the new KWOK takes the node at once.
kube_bootstrap() {
  local dir log
  dir="$(kube_dir)"
  log="$dir/bootstrap.log"
  {
    kubectl_admin apply -f "$kwok_stage_crd" -f "$kwok_logs_crd" &&
      kubectl_admin wait --for condition=established --timeout="${ready_timeout}s" crd/stages.kwok.x-k8s.io \
        crd/logs.kwok.x-k8s.io crd/clusterlogs.kwok.x-k8s.io &&
      kubectl_admin apply -f "$here/kube/stages.yaml" &&
      kube_node_manifest | kubectl_admin apply -f - &&
      kubectl_admin patch node "$kube_node" --subresource=status --type=merge \
        -p "{\"status\":{\"daemonEndpoints\":{\"kubeletEndpoint\":{\"Port\":$kube_kwok_port}}}}" &&
      kubectl_admin delete lease "$kube_node" -n kube-node-lease --ignore-not-found
  } >"$log" 2>&1 || {
    show_log "$log"
    return 1
  }
}

# A node's status may be set when it is created (a kubelet registers that way), and later applies leave it
# alone. Its capacity is what the scheduler fits pods into. Its kubelet port (daemonEndpoints) is patched in
# kube_bootstrap, so that a node kept in etcd from an older start gets it too.
kube_node_manifest() {
  cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $kube_node
  labels:
    kubernetes.io/hostname: $kube_node
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
status:
  capacity: &resources
    cpu: "32"
    memory: 128Gi
    pods: "250"
    ephemeral-storage: 200Gi
  allocatable: *resources
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    kubeletVersion: $kube_version
    kubeProxyVersion: $kube_version
    containerRuntimeVersion: kwok://$kwok_version
    kernelVersion: kwok
    osImage: kwok
    machineID: ""
    systemUUID: ""
    bootID: ""
EOF
}

kube_start_controller_manager() {
  local dir pki
  dir="$(kube_dir controller-manager)"
  pki="$(kube_dir pki)"
  mkdir -p "$dir"
  kube_kubeconfig "$dir/kubeconfig" controller-manager
  # Each controller acts as its own service account (system:serviceaccount:kube-system:<controller>), as in
  # kubeadm clusters, so the bootstrap RBAC roles are what limits them.
  launch kube/controller-manager "$dir/controller-manager.log" "$kube_bin_dir/kube-controller-manager" \
    "--kubeconfig=$dir/kubeconfig" "--authentication-kubeconfig=$dir/kubeconfig" \
    "--authorization-kubeconfig=$dir/kubeconfig" \
    --bind-address=127.0.0.1 "--secure-port=$kube_controller_manager_port" \
    --leader-elect=false \
    "--controllers=$kube_controllers" \
    --use-service-account-credentials=true \
    "--service-account-private-key-file=$pki/sa.key" "--root-ca-file=$pki/ca.crt" \
    --profiling=false
  wait_ready kube/controller-manager kube_controller_manager_ready "$dir/controller-manager.log"
}

kube_start_scheduler() {
  local dir
  dir="$(kube_dir scheduler)"
  mkdir -p "$dir"
  kube_kubeconfig "$dir/kubeconfig" scheduler
  launch kube/scheduler "$dir/scheduler.log" "$kube_bin_dir/kube-scheduler" \
    "--kubeconfig=$dir/kubeconfig" "--authentication-kubeconfig=$dir/kubeconfig" \
    "--authorization-kubeconfig=$dir/kubeconfig" \
    --bind-address=127.0.0.1 "--secure-port=$kube_scheduler_port" \
    --leader-elect=false --profiling=false
  wait_ready kube/scheduler kube_scheduler_ready "$dir/scheduler.log"
}

kube_start_kwok() {
  local dir
  dir="$(kube_dir kwok)"
  mkdir -p "$dir"
  kube_kubeconfig "$dir/kubeconfig" kwok
  # HOME is the component's folder: KWOK also reads ~/.kwok/kwok.yaml when it exists, and must not pick up
  # a developer's. Its one port is the node's kubelet API on loopback (--node-ip, the address the API server
  # dials), serving container logs from the files that Logs and ClusterLogs objects name (see the README);
  # exec, attach and port-forward are not configured, so those fail.
  cp "$(kube_dir pki)/kwok-serving.crt" "$(kube_dir pki)/kwok-serving.key" "$dir/"
  launch kube/kwok "$dir/kwok.log" env "HOME=$dir" "$kwok_bin" \
    "--kubeconfig=$dir/kubeconfig" \
    "--manage-single-node=$kube_node" \
    --enable-crds=Stage,Logs,ClusterLogs \
    "--server-address=127.0.0.1:$kube_kwok_port" \
    "--tls-cert-file=$dir/kwok-serving.crt" "--tls-private-key-file=$dir/kwok-serving.key" \
    --node-ip=127.0.0.1 "--cidr=$kube_pod_cidr" \
    --node-lease-duration-seconds=40
  wait_ready kube/kwok kube_kwok_ready "$dir/kwok.log"
}

# ---------------------------------------------------------------------------------------------- service

kube_start() {
  local port component started
  for port in "$kube_port" "$kube_etcd_port" "$kube_etcd_peer_port" "$kube_controller_manager_port" \
    "$kube_scheduler_port" "$kube_kwok_port"; do
    check_port_free kube "$port" || return 1
  done
  command -v curl >/dev/null 2>&1 || need_apt curl
  kube_install
  local dir
  dir="$(kube_dir)"
  mkdir -p "$dir/bin"
  kube_credentials
  kube_kubeconfig "$dir/kubeconfig" admin
  # A stable path for tests (INTEGR8S_KUBECTL), whatever version the cache holds.
  ln -sfn "$kube_bin_dir/kubectl" "$dir/bin/kubectl"
  for component in "${kube_components[@]}"; do
    started="$(now_ms)"
    # On a failure the components already up are stopped in order, not killed.
    if [[ "$component" == kwok ]] && ! kube_bootstrap; then
      kube_stop
      return 1
    fi
    if ! "kube_start_${component//-/_}"; then
      kube_stop
      return 1
    fi
    say "kube: $component ready in $(($(now_ms) - started)) ms"
  done
}

kube_stop() {
  # The API server's clients first, together (each takes about 2 s to exit on SIGTERM); then the API server,
  # which drains its requests and closes its watches; etcd last, which then writes its last snapshot.
  # Only these stops are waited for: the components this shell launched are its background jobs too.
  local component stops=()
  for component in kwok scheduler controller-manager; do
    stop_service "kube/$component" 10 &
    stops+=($!)
  done
  wait "${stops[@]}"
  stop_service kube/apiserver 20
  stop_service kube/etcd 15
  stop_service kube 5 >/dev/null 2>&1
}

# Running means every component is alive and the API server accepts connections.
kube_answers() {
  local component
  port_open "$kube_port" || return 1
  for component in "${kube_components[@]}"; do
    live_pid "kube/$component" >/dev/null || return 1
  done
}

kube_status_details() {
  local component pid
  for component in "${kube_components[@]}"; do
    if pid="$(live_pid "kube/$component")"; then
      printf '  %-22s pid %s\n' "$component" "$pid"
    else
      printf '  %-22s stopped\n' "$component"
    fi
  done
}

kube_env() {
  local dir
  dir="$(kube_dir)"
  echo "INTEGR8S_KUBECONFIG=$dir/kubeconfig"
  echo "INTEGR8S_KUBECTL=$dir/bin/kubectl"
  echo "INTEGR8S_KUBE_SERVER=https://127.0.0.1:$kube_port"
  echo "INTEGR8S_KUBE_NODE=$kube_node"
}
