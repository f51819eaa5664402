# min and max swapped.

cluster "batch" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-batch-a", "subnet-batch-b"]

  node_pool "spot" { # expect: error capacity::node-pool-size
    instance_type = "c6i.4xlarge"
    min           = 20
    max           = 2
  }
}
