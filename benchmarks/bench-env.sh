# Sourced by the run-*.sh scripts: root, the Debian tools they need, a JDK 25 and the harness's classpath.
# --- environment -----------------------------------------------------------------------------

# need_root SCRIPT: exits unless run as root (AF_XDP, BPF and network namespaces need it).
need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "$1 needs root (AF_XDP, BPF, network namespaces)" >&2
    exit 1
  fi
}

# need_tools CHECK:PACKAGE ...: installs with apt-get the Debian packages whose CHECK fails, a command
# name (on PATH) or python3.MODULE (a module /usr/bin/python3 imports).
need_tools() {
  local need=() t check
  for t in "$@"; do
    check=${t%%:*}
    case $check in
      python3.*) /usr/bin/python3 -c "import ${check#python3.}" >/dev/null 2>&1 || need+=("${t#*:}") ;;
      *) command -v "$check" >/dev/null 2>&1 || need+=("${t#*:}") ;;
    esac
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

# need_jdk: exports JAVA_HOME, the one given or a JDK 25 of /usr/lib/jvm; exits if there is none.
need_jdk() {
  if [ -z "${JAVA_HOME:-}" ]; then
    local jdk
    for jdk in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64; do
      if [ -x "$jdk/bin/java" ]; then export JAVA_HOME="$jdk"; break; fi
    done
  fi
  [ -n "${JAVA_HOME:-}" ] || { echo "no JDK 25: set JAVA_HOME" >&2; exit 1; }
}

# bench_classpath TREE: builds the benchmarks module of the checkout TREE (offline with MVN_OFFLINE=1;
# Maven's output on stderr) and prints its runtime classpath; fails if the build does.
bench_classpath() {
  local cp_file
  cp_file=$(mktemp)
  if ! (cd "$1" && ./mvnw -q -B ${MVN_OFFLINE:+-o} -pl benchmarks -am package -DskipTests \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath -Dmdep.outputFile="$cp_file" \
      -Dmdep.includeScope=runtime >&2); then
    rm -f "$cp_file"
    return 1
  fi
  echo "$1/benchmarks/target/classes:$(cat "$cp_file")"
  rm -f "$cp_file"
}
