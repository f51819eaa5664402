# 6,000 replicas over two clusters capped at 2,000 pods each.

cluster "b0" {
  version  = "1.31"
  region   = "eu-west-1"
  subnets  = ["subnet-b0-a", "subnet-b0-b"]
  max_pods = 2000

  node_pool "work" {
    instance_type = "m6i.8xlarge"
    min           = 10
    max           = 10
  }
}

cluster "b1" {
  version  = "1.31"
  region   = "eu-west-1"
  subnets  = ["subnet-b1-a", "subnet-b1-b"]
  max_pods = 2000

  node_pool "work" {
    instance_type = "m6i.8xlarge"
    min           = 10
    max           = 10
  }
}

service "calc-engine" { # expect: error capacity::unplaceable
  replicas       = 6000
  image          = "registry.bank.internal/risk/calc:2026.11.3"
  cpu            = "500m"
  memory         = "1Gi"
  pod_management = "Parallel"

  placement {
    clusters = [cluster.b0, cluster.b1]
    strategy = "spread"
  }
}
