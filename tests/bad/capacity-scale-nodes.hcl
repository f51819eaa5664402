# Node pools that can grow to 6,000 nodes in one cluster, beyond the 5,000 Kubernetes supports.

cluster "mega" { # expect: error capacity::scale
  version = "1.31"
  region  = "us-east-1"
  subnets = ["subnet-mega-a", "subnet-mega-b", "subnet-mega-c"]

  node_pool "a" {
    instance_type = "m6i.4xlarge"
    min           = 100
    max           = 3000
  }

  node_pool "b" {
    instance_type = "m6i.4xlarge"
    min           = 100
    max           = 3000
  }
}
