#!/usr/bin/env bash
# Builds the base image the EC2 emulator's instances run (test/emulators/ec2/), or reuses the one
# cached under ~/.cache/kiln-test-ami/ (override with KILN_TEST_AMI_DIR). It stands in for a
# Debian cloud AMI: Debian bookworm from debootstrap --variant=minbase plus openssh-server and
# sudo, users root and `admin` (the login of Debian's AMIs) with passwordless sudo, both with
# key-only logins. No SSH host keys are baked in: an instance generates its own at first start,
# as cloud-init does on EC2, so two instances of one AMI never share a host key.
#
# Output: $DIR/storage, a podman (overlay) image store holding localhost/kiln-ec2-base:latest,
# which each emulator mounts read-only as an additional image store under its own private
# storage (no copy per emulator: an instance starts in well under a second). $DIR/stamp holds a
# hash of this script, so an edited recipe rebuilds. The .deb files are shared with
# test/setup/vm-image.sh's cache (~/.cache/kiln-test-vm/debs) when it exists.
#
# Needs root (debootstrap chroots, rootful podman). Measured on the CI machine kind: ≈ 28 s with
# the .debs cached (debootstrap 23 s, import 4 s), a few ms when reused.
set -euo pipefail

DIR="${KILN_TEST_AMI_DIR:-$HOME/.cache/kiln-test-ami}"
MIRROR="${KILN_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES=openssh-server,openssh-sftp-server,openssh-client,sudo
IMAGE=localhost/kiln-ec2-base:latest
STAMP="$(sha256sum "$0" | cut -c1-16)"

if [ -f "$DIR/stamp" ] && [ "$(cat "$DIR/stamp")" = "$STAMP" ] && [ -f "$DIR/storage/overlay-images/images.json" ]; then
  echo "test/setup/ami-image.sh: reusing $DIR" >&2
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "test/setup/ami-image.sh: building the EC2 emulator's base image needs root (debootstrap, rootful podman); run it as root" >&2
  exit 1
fi
for cmd in debootstrap podman runc; do
  command -v "$cmd" >/dev/null || [ -x "/usr/sbin/$cmd" ] || { echo "test/setup/ami-image.sh: $cmd is missing: run test/setup/install-packages.sh first" >&2; exit 1; }
done

t0=$(date +%s)
stage() { echo "test/setup/ami-image.sh: $1 (+$(( $(date +%s) - t0 )) s)" >&2; }

# The VM image's .deb cache when there is one: the same bookworm packages, downloaded once.
DEBS="$HOME/.cache/kiln-test-vm/debs"
[ -d "$DEBS" ] || DEBS="$DIR/debs"
mkdir -p "$DEBS" "$DIR"
WORK="$(mktemp -d /var/tmp/kiln-test-ami.XXXXXX)"
ROOT="$WORK/root"
# The store is built in place (podman's databases record their paths): the stamp, written last,
# says whether it is complete.
STORE="$DIR/storage"
P=(podman --root "$STORE" --runroot "$WORK/run" --storage-driver=overlay)
cleanup() {
  for m in dev/pts dev sys proc; do mountpoint -q "$ROOT/$m" 2>/dev/null && umount -l "$ROOT/$m"; done
  # The building store's overlay mounts (none should be left; a failed import may leave one).
  grep -o " \($WORK\|$STORE\)/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

failed() {
  cp "$ROOT/debootstrap/debootstrap.log" "$DIR/debootstrap-failed.log" 2>/dev/null || true
  tail -n 30 "$WORK/debootstrap.log" >&2
  echo "test/setup/ami-image.sh: debootstrap failed; its log is in $DIR/debootstrap-failed.log" >&2
  exit 1
}
# Two stages, as vm-image.sh does, so dpkg can be told not to fsync each file before it
# configures anything: this tree is imported once and thrown away.
stage "debootstrap bookworm with $PACKAGES (first stage: download and unpack)"
debootstrap --foreign --variant=minbase --include="$PACKAGES" --cache-dir="$DEBS" bookworm "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || failed
mkdir -p "$ROOT/etc/dpkg/dpkg.cfg.d"
echo force-unsafe-io >"$ROOT/etc/dpkg/dpkg.cfg.d/kiln-unsafe-io"
stage "debootstrap second stage: configure"
chroot "$ROOT" /debootstrap/debootstrap --second-stage >>"$WORK/debootstrap.log" 2>&1 || failed
rm -f "$ROOT/etc/dpkg/dpkg.cfg.d/kiln-unsafe-io"

stage "configuring the image"
# `admin`, as on Debian's AMIs: a login shell, passwordless sudo (cloud-init writes the same
# sudoers line), and '*' rather than a locked '!' password so key logins work with UsePAM no.
chroot "$ROOT" useradd --create-home --shell /bin/bash --groups sudo admin
chroot "$ROOT" usermod -p '*' admin
chroot "$ROOT" usermod -p '*' root
echo 'admin ALL=(ALL) NOPASSWD:ALL' >"$ROOT/etc/sudoers.d/90-cloud-init-users"
chmod 0440 "$ROOT/etc/sudoers.d/90-cloud-init-users"
# sshd in a container: no PAM (pam_loginuid cannot write /proc/self/loginuid there), no reverse
# DNS lookups, keys only. The emulator adds ListenAddress/Port on sshd's command line.
cat >"$ROOT/etc/ssh/sshd_config.d/kiln-ec2.conf" <<'EOF'
UsePAM no
UseDNS no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
EOF
# Host keys are made per instance at its first start (ssh-keygen -A), never shared by an image.
rm -f "$ROOT"/etc/ssh/ssh_host_*
mkdir -p "$ROOT/run/sshd"
echo localhost >"$ROOT/etc/hostname"
rm -f "$ROOT/usr/sbin/policy-rc.d"
rm -rf "$ROOT/var/cache/apt/archives/"*.deb "$ROOT/var/lib/apt/lists/"* "$ROOT/debootstrap"

stage "importing it into a podman image store"
rm -f "$DIR/stamp"
grep -o " $STORE/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
rm -rf "$STORE"
# Podman configured as test/setup/podman.sh does on this machine kind (runc, cgroupfs, ulimits
# under the open-files hard limit, the file events logger).
cat >"$WORK/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$WORK/events.log"
CONF
printf 'unqualified-search-registries = []\n' >"$WORK/registries.conf"
export CONTAINERS_CONF="$WORK/containers.conf" CONTAINERS_REGISTRIES_CONF="$WORK/registries.conf"
tar -C "$ROOT" --numeric-owner -c . | "${P[@]}" import -q --change 'CMD ["/usr/sbin/sshd","-D","-e"]' - "$IMAGE" >/dev/null
"${P[@]}" run --rm --network none "$IMAGE" sh -c 'id admin && sudo -n -u admin sudo -n true && test -x /usr/sbin/sshd' >/dev/null
echo "$STAMP" >"$DIR/stamp"
stage "done: $IMAGE in $STORE ($(du -sh "$STORE" | cut -f1))"
