#!/usr/bin/env bash
# Starts and stops a private OpenSSH sshd on 127.0.0.1 for the tests and benchmarks (see
# ../shared/TESTBED.md). Everything lives in DIR: host key, client key (authorized for root and
# for the test user), config, PID file and log. Stopped by its PID, never by name.
#
# The test user (kiln-ssh, shell /bin/sh) is what tests and benchmarks log in as: root's shell
# here is bash, which sources ~/.bashrc for every SSH session, and a developer's .bashrc (pyenv,
# …) adds 150+ ms to each command and SFTP channel, for kiln and its peers alike.
#
#   sshd.sh start DIR [PORT] [MODE]
#                              start (keys and user made on first use); prints the port. MODE is
#                              key (default: public keys only), password (also passwords) or
#                              kbdint (also keyboard-interactive, which OpenSSH offers only
#                              through PAM, so that mode turns UsePAM on), notar (key logins;
#                              sessions get a PATH of DIR/bin, every usual command but tar) or
#                              busybox-tar (the same, with BusyBox as tar)
#   sshd.sh stop DIR           stop it and wait until it is gone
#   sshd.sh drop DIR           end every open connection (as a crash or reboot does); keeps listening
#   sshd.sh rekey DIR          replace the host key (takes effect at the next start)
set -euo pipefail

cmd="${1:-}"
dir="${2:-}"
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop|drop|rekey DIR [PORT] [MODE]" >&2
  exit 2
fi
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
sshd=/usr/sbin/sshd

stop() {
  [ -f "$dir/sshd.pid" ] || return 0
  local pid
  pid="$(cat "$dir/sshd.pid")"
  rm -f "$dir/sshd.pid"
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
  kill -9 "$pid" 2>/dev/null || true
}

# Connections are served by children of the listening sshd, and their children (the
# unprivileged half holding the socket, the user's commands): ending them all drops every session.
drop() {
  [ -f "$dir/sshd.pid" ] || return 0
  local pid all kids
  pid="$(cat "$dir/sshd.pid")"
  all=""
  kids="$(ps -o pid= --ppid "$pid" | tr '\n' ' ' || true)"
  while [ -n "${kids// /}" ]; do
    all="$all $kids"
    # shellcheck disable=SC2086
    kids="$(ps -o pid= --ppid "$(echo $kids | tr ' ' ',')" | tr '\n' ' ' || true)"
  done
  [ -z "${all// /}" ] && return 0
  # shellcheck disable=SC2086
  kill -9 $all 2>/dev/null || true
}

user=kiln-ssh
ensure_user() {
  # Test files start their servers in parallel: another one may be creating the user right now
  # (useradd then fails on the existing user or on the lock of /etc/passwd).
  for _ in $(seq 1 50); do
    if id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$user" 2>/dev/null; then
      # A locked password blocks even key logins when UsePAM is off.
      usermod -p '*' "$user" 2>/dev/null && return 0
    fi
    sleep 0.1
  done
  echo "$0: cannot create the test user $user" >&2
  return 1
}

# Password logins use their own user, so that the key-only servers of other test files (which
# lock kiln-ssh's password with usermod) never undo its password. The password is fixed, with a
# space, a quote and a $ in it, and written to DIR/password for the tests.
pw_user=kiln-ssh-pw
pw_password="k1ln pass'word\$"
ensure_pw_user() {
  for _ in $(seq 1 50); do
    if id "$pw_user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$pw_user" 2>/dev/null; then
      printf '%s:%s\n' "$pw_user" "$pw_password" | chpasswd 2>/dev/null && {
        printf '%s' "$pw_password" >"$dir/password"
        return 0
      }
    fi
    sleep 0.1
  done
  echo "$0: cannot create the password test user $pw_user" >&2
  return 1
}

case "$cmd" in
  start)
    if [ ! -x "$sshd" ]; then
      echo "$0: $sshd is missing: run test/setup/install-packages.sh as root" >&2
      exit 1
    fi
    port="${3:-2222}"
    mode="${4:-key}"
    password_auth=no
    kbdint_auth=no
    use_pam=no
    set_env=""
    case "$mode" in
      key) ;;
      notar | busybox-tar)
        # Another remote tar (or none): symlinks to every command of the usual PATH except tar.
        rm -rf "$dir/bin"
        mkdir -p "$dir/bin"
        for f in /usr/local/bin/* /usr/bin/* /bin/* /usr/sbin/* /sbin/*; do
          n="${f##*/}"
          [ "$n" = tar ] || [ -e "$dir/bin/$n" ] || ln -s "$f" "$dir/bin/$n"
        done
        [ "$mode" = notar ] || ln -s "$(command -v busybox)" "$dir/bin/tar"
        set_env="SetEnv PATH=$dir/bin"
        ;;
      password) password_auth=yes ;;
      kbdint) kbdint_auth=yes use_pam=yes ;;
      *)
        echo "$0: unknown mode $mode (key, password, kbdint, notar or busybox-tar)" >&2
        exit 2
        ;;
    esac
    mkdir -p /run/sshd
    ensure_user
    [ "$mode" = key ] || ensure_pw_user
    [ -f "$dir/hostkey" ] || ssh-keygen -q -t ed25519 -N '' -C kiln-test-host -f "$dir/hostkey"
    [ -f "$dir/clientkey" ] || ssh-keygen -q -t ed25519 -N '' -C kiln-test-client -f "$dir/clientkey"
    [ -f "$dir/authorized_keys" ] || cp "$dir/clientkey.pub" "$dir/authorized_keys"
    # sshd reads authorized_keys as the user logging in: the directory must let it through.
    chmod 755 "$dir"
    chmod 644 "$dir/authorized_keys"
    cat >"$dir/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/hostkey
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication $password_auth
KbdInteractiveAuthentication $kbdint_auth
UsePAM $use_pam
StrictModes no
AllowTcpForwarding yes
# VERBOSE logs each subsystem request: tests count the SFTP channels a transfer opens.
LogLevel VERBOSE
MaxSessions 32
MaxStartups 100
Subsystem sftp /usr/lib/openssh/sftp-server
$set_env
CONF
    stop
    "$sshd" -f "$dir/sshd_config" -E "$dir/sshd.log"
    # sshd writes its PID file once it listens.
    for _ in $(seq 1 200); do
      [ -s "$dir/sshd.pid" ] && { echo "$port"; exit 0; }
      sleep 0.025
    done
    echo "$0: sshd did not start; see $dir/sshd.log" >&2
    cat "$dir/sshd.log" >&2 || true
    exit 1
    ;;
  stop)
    stop
    ;;
  drop)
    drop
    ;;
  rekey)
    rm -f "$dir/hostkey" "$dir/hostkey.pub"
    ssh-keygen -q -t ed25519 -N '' -C kiln-test-host -f "$dir/hostkey"
    ;;
  *)
    echo "usage: $0 start|stop|drop|rekey DIR [PORT] [MODE]" >&2
    exit 2
    ;;
esac
