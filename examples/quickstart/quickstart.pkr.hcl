# A runnable tour of kiln with no cloud account, no daemon and no root: three builds run in
# parallel, each runs local provisioners, and post-processors checksum, compress and record
# the results in a manifest. Outputs land in ./quickstart-output.

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

source "file" "motd" {
  target  = "${local.out_dir}/motd.txt"
  content = templatefile("${path.root}/motd.pkrtpl", { app = local.banner, targets = var.targets })
}

source "null" "smoke" {
  communicator = "none"
}

build {
  name = "quickstart"

  sources = ["source.file.config", "source.file.motd", "source.null.smoke"]

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

  post-processor "checksum" {
    except         = ["null.smoke"]
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

  post-processor "manifest" {
    output     = "${local.out_dir}/manifest.json"
    strip_path = true
    custom_data = {
      release = var.release
    }
  }
}
