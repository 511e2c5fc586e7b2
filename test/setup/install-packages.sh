#!/usr/bin/env bash
# Installs the real components the tests run against (Debian 12, as root), once: a machine that
# already has them skips the download. See ../shared/TESTBED.md for why each one is here.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have packer || need+=(packer)
have sshd || [ -x /usr/sbin/sshd ] || need+=(openssh-server openssh-sftp-server)
# SSH (issue 4): the external sftp-server test/setup/sshd.sh configures, scp and ssh-keygen as
# peers and helpers, ps to find an sshd's connections.
[ -x /usr/lib/openssh/sftp-server ] || need+=(openssh-sftp-server)
have scp || need+=(openssh-client)
have ps || need+=(procps)
have zstd || need+=(zstd)
# OCI images (issue 5): the registry, podman's Docker API, and the tools that check kiln's images.
have docker-registry || need+=(docker-registry)
have podman || need+=(podman)
have runc || [ -x /usr/sbin/runc ] || need+=(runc)
have skopeo || need+=(skopeo)
have umoci || need+=(umoci)
have newuidmap || need+=(uidmap)
have fuse-overlayfs || need+=(fuse-overlayfs)
have slirp4netns || need+=(slirp4netns)
have catatonit || [ -x /usr/libexec/podman/catatonit ] || need+=(catatonit)
[ -d /usr/lib/cni ] || need+=(containernetworking-plugins)
have iptables || [ -x /usr/sbin/iptables ] || need+=(iptables)
have busybox || [ -x /bin/busybox ] || need+=(busybox-static)
have curl || need+=(curl)
# VM images (issue 6): QEMU and qemu-img, debootstrap and mkfs.ext4 for the test VM
# (test/setup/vm-image.sh), xorriso to read kiln's ISO images independently.
have qemu-system-x86_64 || need+=(qemu-system-x86)
have qemu-img || need+=(qemu-utils)
have debootstrap || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
have mkfs.ext4 || [ -x /usr/sbin/mkfs.ext4 ] || need+=(e2fsprogs)
have xorriso || need+=(xorriso)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "test/setup/install-packages.sh: missing ${need[*]}; run this script as root (or install them) to run the integration tests" >&2
  exit 1
fi
echo "test/setup/install-packages.sh: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
