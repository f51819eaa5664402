# One layer per vendored package: 130 layers, beyond the ~125 overlay filesystems stack.

locals {
  packages = toset([for i in range(130) : format("pkg-%03d", i)])
}

image "toolbox" { # expect: error image::layers
  base       = "debian:12-slim"
  repository = "registry.example.internal/ops/toolbox"
  tag        = "2026.11"

  layer "vendor" {
    for_each = local.packages
    changes  = "monthly"
    files    = { "/opt/vendor/${layer.key}" = "vendor/${layer.key}" }
  }
}
