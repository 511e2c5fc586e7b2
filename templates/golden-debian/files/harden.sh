#!/bin/sh
# The golden image's own steps: updates, a message of the day, and no password logins.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get upgrade -y -q
install -m 0644 /tmp/motd /etc/motd
printf 'PasswordAuthentication no\nKbdInteractiveAuthentication no\n' > /etc/ssh/sshd_config.d/50-golden.conf
echo "$IMAGE_VERSION" > /etc/golden-version
apt-get clean
rm -f /tmp/motd
