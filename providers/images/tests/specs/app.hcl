# An image on a registry base, with every kind of layer: commands, copied files and
# generated content. tests/dockerfile.rs compares its Dockerfile line by line.

image "api" {
  base       = "eclipse-temurin:21-jre"
  repository = "registry.example.com/shop/api"
  tag        = "1.4.2"
  entrypoint = ["/opt/api/bin/api"]
  cmd        = ["--port", "8080"]
  env        = { JAVA_OPTS = "-XX:MaxRAMPercentage=75 -Dhome=$HOME", LANG = "C.UTF-8" }
  labels     = { "org.opencontainers.image.source" = "shop/api" }

  layer "os-packages" {
    changes = "monthly"
    run     = ["apt-get update", "apt-get install -y --no-install-recommends curl"]
    size    = "200Mi"
  }

  layer "dependencies" {
    changes = "weekly"
    files   = { "/opt/api/lib" = "build/lib", "/opt/api/plugins/" = "build/plugin.jar" }
    size    = "1Gi"
  }

  layer "app" {
    files   = { "/opt/api/bin" = "build/bin", "/opt/api/share/read me.txt" = "docs/read me.txt" }
    content = { "/opt/api/VERSION" = "1.4.2" }
  }
}
