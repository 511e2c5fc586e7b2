# A container image of a static site, built without a daemon or root: ./site becomes the image's
# /srv/www on top of an empty base, written as an OCI layout and as a tarball `podman load` (or
# `docker load`) takes. Reproducible: the same ./site gives the same image digest.
#   kiln build .

variable "name" {
  type    = string
  default = "static-site"
}

variable "release" {
  type    = string
  default = "1.0.0"
}

source "oci" "site" {
  base              = "scratch"
  export_layout     = "output/oci"
  tag               = [var.release]
  source_date_epoch = 1704067200
  changes = [
    "LABEL org.opencontainers.image.title=${var.name}",
    "LABEL org.opencontainers.image.version=${var.release}",
    "WORKDIR /srv/www",
  ]
}

build {
  sources = ["source.oci.site"]

  provisioner "file" {
    source      = "${path.root}/site/"
    destination = "/srv/www"
  }

  post-processor "oci-export" {
    path      = "output/${var.name}.tar"
    repo_tags = ["${var.name}:${var.release}"]
  }
}
