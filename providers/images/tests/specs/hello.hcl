# The image tests/registry.rs pushes and runs: a static busybox (copied into fixture/ of a
# temporary spec directory by the test) and a generated release file.

variable "release" {
  type    = string
  default = "1.0.0"
}

image "hello" {
  base       = "scratch"
  repository = "registry.example.com/berth/hello"
  tag        = "test"
  entrypoint = ["/bin/busybox", "echo", "berth-ok"]

  layer "busybox" {
    changes = "never"
    files   = { "/bin/busybox" = "fixture/busybox" }
  }

  layer "release" {
    content = { "/etc/release" = var.release }
  }
}
