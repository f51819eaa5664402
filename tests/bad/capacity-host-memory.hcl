# Three 4 GiB containers pinned on an 8 GiB m6i.large.

host "small" { # expect: error capacity::host
  instance_type = "m6i.large"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
}

container "worker" {
  for_each = toset(["ingest", "enrich", "export"])
  image    = "registry.example.internal/pipeline/${each.key}:3.0.1"
  cpus     = 0.5
  memory   = "4Gi"

  placement {
    strategy = "pinned"
    hosts    = [host.small]
  }
}
