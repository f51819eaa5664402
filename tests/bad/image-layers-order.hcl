# The monthly third-party layer sits above the weekly firm libraries, so every firm release
# also rebuilds and re-pushes 9 GiB of dependencies: a warning.

image "calc" {
  base       = "eclipse-temurin:21-jre"
  repository = "registry.bank.internal/risk/calc"
  tag        = "2026.11.3"
  entrypoint = ["/opt/calc/bin/calc"]

  layer "firm-libs" {
    changes = "weekly"
    files   = { "/opt/calc/lib/firm" = "build/lib/firm" }
    size    = "4Gi"
  }

  layer "third-party" { # expect: warning image::layers
    changes = "monthly"
    files   = { "/opt/calc/lib/third-party" = "build/lib/third-party" }
    size    = "9Gi"
  }

  layer "app" {
    changes = "release"
    files   = { "/opt/calc/bin" = "build/bin" }
  }
}
