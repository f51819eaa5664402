# Pinned counts that add up to 300 for a 400-replica service.

cluster "eu" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-eu-a", "subnet-eu-b"]

  node_pool "work" {
    instance_type = "m6i.8xlarge"
    min           = 4
    max           = 8
  }
}

cluster "us" {
  version = "1.31"
  region  = "us-east-1"
  subnets = ["subnet-us-a", "subnet-us-b"]

  node_pool "work" {
    instance_type = "m6i.8xlarge"
    min           = 4
    max           = 8
  }
}

service "market-feed" {
  replicas = 400
  image    = "registry.bank.internal/risk/market-feed:2026.11.3"
  ports    = { feed = 9000 }

  placement {
    clusters = [cluster.eu, cluster.us]
    strategy = "pinned"
    counts   = { eu = 200, us = 100 } # expect: error placement::strategy
  }
}
