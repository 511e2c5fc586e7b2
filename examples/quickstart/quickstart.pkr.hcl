# A runnable tour of kiln with no cloud account, no daemon and no root: four builds run in
# parallel, each runs local provisioners, and post-processors checksum, compress and record
# the results in a manifest. One build makes an OCI image from scratch out of ./site, and its
# post-processors put a second image on top of it (./app) and export that for docker/podman
# load. Outputs land in ./quickstart-output.

locals {
  out_dir = "quickstart-output"
  banner  = upper(var.app_name)
}

source "file" "config" {
  target = "${local.out_dir}/${var.app_name}.json"
  content = jsonencode({
    app     = var.app_name
    release = var.release
    targets = { for name, t in var.targets : name => t.replicas }
  })
}

# As in Packer, file functions resolve a relative path against the template's folder, while
# plugin settings (source below) are relative to the working directory and so say path.root.
# "${path.root}/motd.pkrtpl" here would double the folder when path.root is relative, as it is
# for `kiln build examples/quickstart` run from the repository root.
source "file" "motd" {
  target  = "${local.out_dir}/motd.txt"
  content = templatefile("motd.pkrtpl", { app = local.banner, targets = var.targets })
}

source "null" "smoke" {
  communicator = "none"
}

# An OCI image from nothing but the files in ./site (no daemon, no root), written to an OCI
# image layout. With a fixed source_date_epoch every rebuild gives the same image digest.
source "oci" "site" {
  base              = "scratch"
  export_layout     = "${local.out_dir}/oci"
  tag               = ["site"]
  source_date_epoch = 1704067200
  changes = [
    "LABEL org.opencontainers.image.title=${var.app_name}-site",
    "WORKDIR /srv/www",
  ]
}

build {
  name = "quickstart"

  sources = ["source.file.config", "source.file.motd", "source.null.smoke", "source.oci.site"]

  provisioner "shell-local" {
    environment_vars = ["APP=${var.app_name}", "TOKEN=${var.api_token}"]
    inline = [
      "echo \"building $APP for ${source.name} (token: $TOKEN)\"",
      "uname -sm",
    ]
  }

  provisioner "shell-local" {
    only   = ["null.smoke"]
    inline = ["test -d ${local.out_dir} && echo 'smoke test passed'"]
  }

  provisioner "file" {
    only        = ["oci.site"]
    source      = "${path.root}/site/"
    destination = "/srv/www"
  }

  post-processor "checksum" {
    except         = ["null.smoke", "oci.site"]
    checksum_types = ["sha256"]
    output         = "${local.out_dir}/{{.BuildName}}.sha256"
  }

  post-processors {
    post-processor "compress" {
      only                = ["file.motd"]
      output              = "${local.out_dir}/motd.tar.gz"
      keep_input_artifact = true
    }
  }

  # The second image: the site image plus a layer of ./app. Builds in one run have no order
  # between them, so the image on top is made by post-processors of the build that makes the
  # first one: they run once it exists.
  post-processors {
    post-processor "oci-append" {
      only        = ["oci.site"]
      source      = "${path.root}/app/"
      destination = "/app"
      tag         = "app"
      changes     = ["ENV APP=${var.app_name}", "LABEL org.opencontainers.image.title=${var.app_name}-app"]
    }
    post-processor "oci-export" {
      only      = ["oci.site"]
      path      = "${local.out_dir}/app.tar"
      repo_tags = ["${var.app_name}/app:${var.release}"]
    }
  }

  post-processor "manifest" {
    output     = "${local.out_dir}/manifest.json"
    strip_path = true
    custom_data = {
      release = var.release
    }
  }
}
