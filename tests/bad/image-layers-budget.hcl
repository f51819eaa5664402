# The stable layers add up to 20 GiB against a budget of 16 GiB.

image "calc" { # expect: error image::layers
  base          = "eclipse-temurin:21-jre"
  repository    = "registry.bank.internal/risk/calc"
  tag           = "2026.11.3"
  stable_budget = "16Gi"

  layer "third-party" {
    changes = "monthly"
    files   = { "/opt/calc/lib/third-party" = "build/lib/third-party" }
    size    = "14Gi"
  }

  layer "firm-libs" {
    changes = "weekly"
    files   = { "/opt/calc/lib/firm" = "build/lib/firm" }
    size    = "6Gi"
  }

  layer "app" {
    changes = "release"
    files   = { "/opt/calc/bin" = "build/bin" }
  }
}
