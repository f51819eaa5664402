# A node pool without its name label.

cluster "ml" {
  version = "1.31"
  region  = "us-west-2"
  subnets = ["subnet-ml-a", "subnet-ml-b"]

  node_pool { # expect: error schema::labels
    instance_type = "m6i.8xlarge"
    min           = 2
    max           = 8
  }
}
