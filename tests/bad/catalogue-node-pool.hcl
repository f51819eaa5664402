# An instance type berth's catalogue does not know, so its pod limit is unknown.

cluster "ml" {
  version = "1.31"
  region  = "us-west-2"
  subnets = ["subnet-ml-a", "subnet-ml-b"]

  node_pool "gpu" {
    instance_type = "p5.48xlarge" # expect: error catalogue::instance-type
    min           = 1
    max           = 4
  }
}
