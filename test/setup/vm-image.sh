#!/usr/bin/env bash
# Builds the bootable Debian bookworm test VM that the qemu builder's e2e test boots, or reuses the
# one cached under ~/.cache/kiln-test-vm/ (override with KILN_TEST_VM_DIR). Everything comes from
# Debian's packages (see ../shared/TESTBED.md): debootstrap minbase with the kernel, systemd, udev,
# sshd, ifupdown + dhclient and cloud-init in one pass, then `mkfs.ext4 -d` makes a partitionless
# root filesystem image without mounting anything.
#
# The image has no boot loader: the VM boots the cached vmlinuz/initrd.img with qemu's -kernel
# (qemuargs in the template). No SSH key is baked in: kiln's qemu builder hands the build's
# temporary key to cloud-init through a NoCloud `cidata` CD, which is exactly what is under test.
#
# Output: $DIR/vm.raw (2 GiB, sparse), $DIR/vmlinuz, $DIR/initrd.img, $DIR/SHA256SUMS, $DIR/stamp.
# Needs root (debootstrap chroots). Prints how long each stage took. Measured on the CI machine
# kind: ≈ 105 s on a fresh machine (≈ 130 MB of .debs downloaded), ≈ 87 s with the .debs cached,
# 0 s when reused; the guest reaches SSH ≈ 46 s after QEMU starts under TCG. (One-pass
# debootstrap with an fsync per file and Debian's default initramfs took 130 s with the .debs
# cached, and the guest 59 s.)
set -euo pipefail

DIR="${KILN_TEST_VM_DIR:-$HOME/.cache/kiln-test-vm}"
MIRROR="${KILN_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES=linux-image-amd64,systemd-sysv,udev,openssh-server,ifupdown,isc-dhcp-client,cloud-init
# debootstrap does not resolve virtual packages: python3-cryptography (for cloud-init) needs the
# cffi backend named outright.
PACKAGES="$PACKAGES,python3-cffi-backend"
SIZE=2G
# The stamp changes whenever this script does, so an edited recipe rebuilds the image.
STAMP="$(sha256sum "$0" | cut -c1-16)"

if [ -f "$DIR/stamp" ] && [ "$(cat "$DIR/stamp")" = "$STAMP" ] && [ -f "$DIR/vm.raw" ] && [ -f "$DIR/vmlinuz" ] && [ -f "$DIR/initrd.img" ] && [ -f "$DIR/SHA256SUMS" ]; then
  echo "test/setup/vm-image.sh: reusing $DIR" >&2
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "test/setup/vm-image.sh: building the test VM needs root (debootstrap); run it as root" >&2
  exit 1
fi
for cmd in debootstrap mkfs.ext4; do
  command -v "$cmd" >/dev/null || { echo "test/setup/vm-image.sh: $cmd is missing: run test/setup/install-packages.sh first" >&2; exit 1; }
done

t0=$(date +%s)
stage() { echo "test/setup/vm-image.sh: $1 (+$(( $(date +%s) - t0 )) s)" >&2; }

mkdir -p "$DIR/debs"
WORK="$(mktemp -d /var/tmp/kiln-test-vm.XXXXXX)"
ROOT="$WORK/root"
cleanup() {
  for m in dev/pts dev sys proc; do mountpoint -q "$ROOT/$m" 2>/dev/null && umount -l "$ROOT/$m"; done
  rm -rf "$WORK"
}
trap cleanup EXIT

failed() {
  cp "$ROOT/debootstrap/debootstrap.log" "$DIR/debootstrap-failed.log" 2>/dev/null || true
  tail -n 30 "$WORK/debootstrap.log" >&2
  echo "test/setup/vm-image.sh: debootstrap failed; its log is in $DIR/debootstrap-failed.log" >&2
  exit 1
}
# Two stages, so the target can be set up before its packages are configured. The .deb files are
# kept in $DIR/debs, so a rebuild after a recipe change downloads nothing.
stage "debootstrap bookworm with $PACKAGES (first stage: download and unpack)"
debootstrap --foreign --variant=minbase --include="$PACKAGES" --cache-dir="$DIR/debs" bookworm "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || failed
# dpkg without an fsync per file: this tree is copied into the image once, and that is all.
mkdir -p "$ROOT/etc/dpkg/dpkg.cfg.d"
echo force-unsafe-io >"$ROOT/etc/dpkg/dpkg.cfg.d/kiln-unsafe-io"
# A small initramfs with just what mounts a virtio or SCSI ext4 root: quicker to generate, and
# to unpack and boot under TCG, than Debian's default of most modules.
mkdir -p "$ROOT/etc/initramfs-tools/conf.d" "$ROOT/etc/initramfs-tools/hooks"
echo MODULES=list >"$ROOT/etc/initramfs-tools/conf.d/kiln-small.conf"
cat >"$ROOT/etc/initramfs-tools/hooks/kiln-virtio" <<'EOF'
#!/bin/sh
case "$1" in prereqs) exit 0 ;; esac
. /usr/share/initramfs-tools/hook-functions
for m in virtio_pci virtio_blk virtio_scsi sd_mod sr_mod ata_piix ahci ext4 crc32c_generic; do manual_add_modules "$m"; done
EOF
chmod +x "$ROOT/etc/initramfs-tools/hooks/kiln-virtio"
stage "debootstrap second stage: configure"
chroot "$ROOT" /debootstrap/debootstrap --second-stage >>"$WORK/debootstrap.log" 2>&1 || failed
rm -f "$ROOT/etc/dpkg/dpkg.cfg.d/kiln-unsafe-io"

stage "configuring the guest"
echo kiln-test-vm >"$ROOT/etc/hostname"
printf 'LABEL=root / ext4 rw,discard,errors=remount-ro 0 1\n' >"$ROOT/etc/fstab"
cat >"$ROOT/etc/network/interfaces" <<'EOF'
auto lo
iface lo inet loopback
auto eth0
iface eth0 inet dhcp
EOF
# Only the NoCloud seed is looked for (no network metadata services to time out on), the network
# stays ifupdown's, and the image's host keys are kept (regenerating them under TCG costs seconds).
cat >"$ROOT/etc/cloud/cloud.cfg.d/90-kiln-test.cfg" <<'EOF'
datasource_list: [ NoCloud, None ]
network: {config: disabled}
ssh_deletekeys: false
ssh_genkeytypes: []
EOF
# sshd answers quickly: no reverse DNS lookups of the slirp gateway.
printf 'UseDNS no\n' >"$ROOT/etc/ssh/sshd_config.d/kiln-test.conf"
# Nothing periodic runs during a build, and no login prompt competes with the serial log.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer; do
  ln -sf /dev/null "$ROOT/etc/systemd/system/$unit"
done
rm -f "$ROOT/usr/sbin/policy-rc.d"
rm -rf "$ROOT/var/cache/apt/archives/"*.deb "$ROOT/var/lib/apt/lists/"*

stage "copying the kernel and writing the root filesystem image"
TMP_OUT="$DIR/.building"
rm -rf "$TMP_OUT"
mkdir -p "$TMP_OUT"
cp "$(readlink -f "$ROOT/vmlinuz")" "$TMP_OUT/vmlinuz"
cp "$(readlink -f "$ROOT/initrd.img")" "$TMP_OUT/initrd.img"
truncate -s "$SIZE" "$TMP_OUT/vm.raw"
mkfs.ext4 -q -F -L root -d "$ROOT" "$TMP_OUT/vm.raw"
# A checksum file, so templates can use iso_checksum = "file:…/SHA256SUMS" as with a real image.
(cd "$TMP_OUT" && sha256sum vm.raw >SHA256SUMS)
mv -f "$TMP_OUT/vmlinuz" "$TMP_OUT/initrd.img" "$TMP_OUT/vm.raw" "$TMP_OUT/SHA256SUMS" "$DIR/"
rmdir "$TMP_OUT"
echo "$STAMP" >"$DIR/stamp"
stage "done: $DIR/vm.raw ($(du -h --apparent-size "$DIR/vm.raw" | cut -f1), $(du -h "$DIR/vm.raw" | cut -f1) used)"
