# kubelet max_pods raised to the Kubernetes default of 110 on m6i.large nodes, which get 29
# pod addresses on EKS (3 ENIs x (10 IPv4 - 1) + 2): pods beyond 29 would never get an IP.

cluster "dev" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-dev-a", "subnet-dev-b"]

  node_pool "small" { # expect: error capacity::pods-per-node
    instance_type = "m6i.large"
    min           = 2
    max           = 5
    max_pods      = 110
  }
}
