# Containers but no Docker host to run them on.

container "cron" { # expect: error placement::strategy
  image  = "registry.example.internal/ops/cron-runner:2.2.0"
  cpus   = 0.5
  memory = "256Mi"
}
