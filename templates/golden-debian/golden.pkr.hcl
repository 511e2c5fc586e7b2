# A golden Debian 12 image for AWS (an AMI, copied to a second region) and for QEMU/KVM (a qcow2
# disk), provisioned by the same steps. Build one target with -only, e.g.
#   kiln build -only 'golden.amazon-ebs.debian' .
# The AWS build needs AWS credentials (environment, profile or instance role); the QEMU build
# needs qemu-system-x86_64 and qemu-img.

variable "aws_region" {
  type    = string
  default = "eu-west-1"
}

variable "aws_copy_regions" {
  type        = list(string)
  default     = []
  description = "More regions the AMI is copied to."
}

variable "version" {
  type        = string
  default     = "1.0.0"
  description = "Goes into the image names and the Version tag."
}

locals {
  # 20261208T013000Z: sortable, and valid in AMI names.
  stamp = formatdate("YYYYMMDD'T'hhmmss'Z'", timestamp())
  name  = "golden-debian-12-${var.version}-${local.stamp}"
}

source "amazon-ebs" "debian" {
  region        = var.aws_region
  instance_type = "t3.micro"
  ssh_username  = "admin"
  ami_name      = local.name
  ami_regions   = var.aws_copy_regions
  encrypt_boot  = true
  source_ami_filter {
    filters = {
      name                = "debian-12-amd64-*"
      virtualization-type = "hvm"
      architecture        = "x86_64"
    }
    owners      = ["136693071363"] # Debian's AWS account
    most_recent = true
  }
  tags = {
    Name      = local.name
    Version   = var.version
    SourceAMI = "{{ .SourceAMIName }}"
    BuiltBy   = "kiln"
  }
}

source "qemu" "debian" {
  iso_url          = "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2"
  iso_checksum     = "file:https://cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS"
  disk_image       = true
  format           = "qcow2"
  disk_size        = "8G"
  headless         = true
  ssh_username     = "debian"
  ssh_timeout      = "15m"
  shutdown_command = "sudo shutdown -P now"
  output_directory = "output/${local.name}"
  vm_name          = "${local.name}.qcow2"
}

build {
  name    = "golden"
  sources = ["source.amazon-ebs.debian", "source.qemu.debian"]

  provisioner "file" {
    source      = "${path.root}/files/motd"
    destination = "/tmp/motd"
  }

  provisioner "shell" {
    environment_vars = ["IMAGE_VERSION=${var.version}"]
    script           = "${path.root}/files/harden.sh"
    execute_command  = "chmod +x {{.Path}}; sudo -E {{.Vars}} {{.Path}}"
  }

  post-processor "manifest" {
    output     = "manifest.json"
    strip_path = true
  }
}
