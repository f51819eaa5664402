# Two search shards declare 2,000 IOPS each, but the host's only volume is a gp3 at its
# 3,000 IOPS baseline: a warning, since the shards will queue for I/O.

host "search" {
  instance_type = "r6i.2xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"

  volume "index" { # expect: warning volume::balance
    size   = "500Gi"
    device = "/dev/sdf"
    mount  = "/mnt/index"
  }
}

container "shard" {
  count       = 2
  image       = "registry.example.internal/search/shard:9.4.0"
  cpus        = 2
  memory      = "16Gi"
  iops_demand = 2000
}
