# desired below min.

cluster "web" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-web-a", "subnet-web-b"]

  node_pool "general" { # expect: error capacity::node-pool-size
    instance_type = "m6i.2xlarge"
    min           = 6
    desired       = 3
    max           = 10
  }
}
