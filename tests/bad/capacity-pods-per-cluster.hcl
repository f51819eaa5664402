# The stress cluster caps pods at 500, but the canary pins 800 there.

cluster "stress" {
  version  = "1.31"
  region   = "eu-west-1"
  subnets  = ["subnet-t0-a", "subnet-t0-b"]
  max_pods = 500

  node_pool "work" {
    instance_type = "m6i.8xlarge"
    min           = 4
    max           = 4
  }
}

cluster "prod" {
  version  = "1.31"
  region   = "eu-west-1"
  subnets  = ["subnet-p0-a", "subnet-p0-b"]
  max_pods = 5000

  node_pool "work" {
    instance_type = "m6i.8xlarge"
    min           = 10
    max           = 20
  }
}

service "calc-canary" { # expect: error capacity::pods-per-cluster
  replicas       = 1000
  image          = "registry.bank.internal/risk/calc:2026.11.3"
  cpu            = "500m"
  memory         = "1Gi"
  pod_management = "Parallel"

  placement {
    clusters = [cluster.stress, cluster.prod]
    strategy = "pinned"
    counts   = { stress = 800, prod = 200 }
  }
}
