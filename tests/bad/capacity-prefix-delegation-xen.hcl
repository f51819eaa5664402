# Prefix delegation needs a Nitro instance; x1.16xlarge is Xen.

cluster "memdb" {
  version = "1.31"
  region  = "us-east-1"
  subnets = ["subnet-mem-a", "subnet-mem-b"]

  node_pool "x1" { # expect: error capacity::pods-per-node
    instance_type     = "x1.16xlarge"
    min               = 2
    max               = 4
    prefix_delegation = true
    max_pods          = 250
  }
}
