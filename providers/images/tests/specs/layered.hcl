# A scratch image of three layers, from stable to fast-changing, built from the files in
# fixture/; the release layer is generated. Its digests are pinned by tests/layout.rs.

variable "release" {
  type    = string
  default = "1.0.0"
}

image "layered" {
  base       = "scratch"
  repository = "registry.example.com/berth/layered"
  tag        = "test"
  entrypoint = ["/opt/app/bin/run"]
  cmd        = ["--serve"]
  env        = { APP_HOME = "/opt/app" }
  labels     = { "org.opencontainers.image.source" = "berth/layered", "org.opencontainers.image.version" = var.release }

  layer "libs" {
    changes = "monthly"
    files   = { "/opt/app/lib" = "fixture/lib" }
    size    = "1Mi"
  }

  layer "bin" {
    changes = "weekly"
    files   = { "/opt/app/bin/run" = "fixture/run.sh" }
  }

  layer "release" {
    content = { "/opt/app/VERSION" = var.release, "/etc/app/release.conf" = "release = ${var.release}\n" }
  }
}
