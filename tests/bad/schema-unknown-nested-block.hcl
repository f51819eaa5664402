# `nodepool` for `node_pool`: berth suggests the nested block it meant.

cluster "analytics" {
  version = "1.31"
  region  = "us-east-1"
  subnets = ["subnet-an-a", "subnet-an-b", "subnet-an-c"]

  nodepool "spark" { # expect: error schema::unknown-block
    instance_type = "r6i.4xlarge"
    min           = 3
    max           = 12
  }
}
