# A Debian VM image built with QEMU, then written for Azure (fixed VHD), Hyper-V (dynamic VHD) and
# vSphere (stream-optimized VMDK). Runs wherever qemu-system-x86_64 and qemu-img are installed
# (Debian: apt-get install qemu-system-x86 qemu-utils). See README.md.

variable "image_url" {
  type        = string
  default     = "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2"
  description = "A cloud image with cloud-init: kiln hands it the build's temporary SSH key on a NoCloud CD."
}

variable "image_checksum" {
  type    = string
  default = "file:https://cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS"
}

variable "ssh_username" {
  type    = string
  default = "debian"
}

variable "qemuargs" {
  type        = list(list(string))
  default     = []
  description = "Extra QEMU arguments, e.g. -kernel/-initrd/-append for an image without a boot loader."
}

source "qemu" "debian" {
  iso_url          = var.image_url
  iso_checksum     = var.image_checksum
  disk_image       = true
  format           = "qcow2"
  disk_size        = "4G"
  headless         = true
  memory           = 1024
  cpus             = 2
  boot_wait        = "0s"
  ssh_username     = var.ssh_username
  ssh_timeout      = "15m"
  shutdown_command = "if [ \"$(id -u)\" = 0 ]; then shutdown -P now; else sudo shutdown -P now; fi"
  output_directory = "output/qemu"
  vm_name          = "debian.qcow2"
  http_content     = { "/motd" = "Built by kiln with QEMU.\n" }
  qemuargs         = var.qemuargs
}

build {
  sources = ["source.qemu.debian"]

  provisioner "file" {
    source      = "${path.root}/files/hello.txt"
    destination = "/tmp/kiln/hello.txt"
  }

  # The guest fetches /motd from kiln's HTTP server (QEMU's user network: the host is 10.0.2.2).
  provisioner "shell" {
    inline = [
      "set -e",
      "cat /tmp/kiln/hello.txt",
      "python3 -c \"import urllib.request; print(urllib.request.urlopen('http://${build.HTTPIP}:${build.HTTPPort}/motd').read().decode(), end='')\" > /tmp/kiln/motd",
      "if [ \"$(id -u)\" = 0 ]; then S=; else S=sudo; fi; $S mkdir -p /etc/kiln; $S cp /tmp/kiln/hello.txt /tmp/kiln/motd /etc/kiln/",
      "sync",
    ]
  }

  # Azure takes fixed VHDs of a whole number of MiB; the qcow2 stays in output/qemu.
  post-processor "vhd" {
    output              = "output/images/debian-azure.vhd"
    keep_input_artifact = true
  }
  post-processor "vhd" {
    output  = "output/images/debian-hyperv.vhd"
    dynamic = true
  }
  post-processor "vmdk" {
    output = "output/images/debian-vsphere.vmdk"
  }
}
