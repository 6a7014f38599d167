#!/usr/bin/env bash
# Builds the examples module (and the library) and runs one example:
#   ./run-example.sh echo  [--bind ADDR:PORT] [--interface NAME] [--mode auto|skb|drv]
#   ./run-example.sh proxy --backend HOST:PORT [--listen ADDR:PORT] [--interface NAME] [--mode ...] [--idle SECONDS]
#   ./run-example.sh reuseport-echo [--bind ADDR:PORT] [--loops N] [--interface NAME] [--mode ...]
#   ./run-example.sh http3 [--bind ADDR:PORT] [--interface NAME] [--mode ...] [--cert FILE --key FILE]
#   ./run-example.sh http3-client --server HOST:PORT [--path /N] [--requests N] [--bind ADDR] [--transport xdp|nio]
#   ./run-example.sh dns [--bind ADDR:PORT] [--interface NAME] [--mode ...] [--hosts FILE]
#   ./run-example.sh reflector [--interface NAME --port N] [--count N]   (no --interface: a demo on its own veth pair)
#   ./run-example.sh counter [--interface NAME --prefix CIDR]             (no --interface: a demo on its own veth pair)
# Needs root (or CAP_NET_ADMIN, CAP_BPF, CAP_NET_RAW, CAP_IPC_LOCK) and JDK 22+ (25 recommended).
set -euo pipefail
cd "$(dirname "$0")"

case "${1:-}" in
  echo) main=XdpEchoServer ;;
  proxy) main=XdpUdpProxy ;;
  reuseport-echo) main=XdpReusePortEchoServer ;;
  http3) main=XdpHttp3Server ;;
  http3-client) main=XdpHttp3Client ;;
  dns) main=XdpDnsServer ;;
  reflector) main=XdpReflector ;;
  counter) main=XdpProtocolCounter ;;
  *)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
shift

if [ -z "${JAVA_HOME:-}" ]; then
  for jdk in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64; do
    if [ -x "$jdk/bin/java" ]; then export JAVA_HOME="$jdk"; break; fi
  done
fi
if [ -z "${JAVA_HOME:-}" ]; then
  echo "no JDK 25 found: install one (e.g. Temurin 25) and set JAVA_HOME" >&2
  exit 1
fi

./mvnw -q -B -pl examples -am package -DskipTests
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
  -cp "examples/target/classes:examples/target/lib/*" "org.nettyxdp.examples.$main" "$@"
