# Node group sizes out of order: EKS needs min <= desired <= max and max >= 1.

cluster "c" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-a", "subnet-b"]

  node_pool "backwards" { # expect: error capacity::node-pool-size
    instance_type = "m6i.large"
    min           = 5
    max           = 3
  }

  node_pool "over" { # expect: error capacity::node-pool-size
    instance_type = "m6i.large"
    min           = 1
    desired       = 4
    max           = 2
  }
}
